"""Shopify: orders (GraphQL Admin API), stock (set and read back), prices, fulfilment and order webhooks."""

from __future__ import annotations

from hub.channels.registry import ConnectorSpec
from hub.channels.shopify import mapping
from hub.channels.shopify.connector import ShopifyConnector


def _sandbox(**kwargs):
    from hub.sandbox.shopify import create_app

    return create_app(**kwargs)


SPEC = ConnectorSpec(
    kind="shopify",
    title="Shopify",
    connector=ShopifyConnector,
    capabilities=("orders", "inventory", "stock_levels", "prices", "fulfilment", "webhooks"),
    normalize=mapping.normalize,
    sandbox=_sandbox,
    sandbox_port=5101,
    docs="https://shopify.dev/docs/api/admin-graphql",
)

__all__ = ["SPEC", "ShopifyConnector"]
