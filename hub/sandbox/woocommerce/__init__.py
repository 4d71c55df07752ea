"""WooCommerce REST API v3 sandbox: `create_app(seed, orders, clock, faults)`; state in app.extensions["sandbox"]."""

from hub.sandbox.woocommerce.app import create_app, signed_webhook
from hub.sandbox.woocommerce.state import CONSUMER_KEY, CONSUMER_SECRET, WEBHOOK_SECRET, ShopState

__all__ = ["CONSUMER_KEY", "CONSUMER_SECRET", "WEBHOOK_SECRET", "ShopState", "create_app", "signed_webhook"]
