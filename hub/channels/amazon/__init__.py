"""Amazon Selling Partner API connector: orders (Orders API v0), stock and prices (Listings Items API 2021-08-01) and
shipment confirmation. https://developer-docs.amazon.com/sp-api/docs/orders-api-v0-reference"""

from hub.channels.amazon import mapping
from hub.channels.amazon.connector import AmazonConnector
from hub.channels.registry import ConnectorSpec
from hub.sandbox.amazon import create_app

SPEC = ConnectorSpec(
    kind="amazon",
    title="Amazon Selling Partner API",
    connector=AmazonConnector,
    capabilities=("orders", "inventory", "stock_levels", "prices", "fulfilment"),
    normalize=mapping.normalize,
    sandbox=create_app,
    sandbox_port=5103,
    docs="https://developer-docs.amazon.com/sp-api/docs/orders-api-v0-reference",
)

__all__ = ["SPEC", "AmazonConnector"]
