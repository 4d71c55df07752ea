"""A local stand-in for the Shopify GraphQL Admin API (see `app` for what it enforces)."""

from hub.sandbox.shopify.app import create_app

__all__ = ["create_app"]
