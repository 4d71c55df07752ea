"""Shopee Open Platform v2: orders, stock, prices and shipment arrangement. https://open.shopee.com/documents/v2/"""

from __future__ import annotations

from hub.channels.registry import ConnectorSpec
from hub.channels.shopee import mapping
from hub.channels.shopee.connector import ShopeeConnector


def _sandbox(**kwargs):
    from hub.sandbox.shopee import create_app

    return create_app(**kwargs)


SPEC = ConnectorSpec(
    kind="shopee",
    title="Shopee Open Platform v2",
    connector=ShopeeConnector,
    capabilities=("orders", "inventory", "stock_levels", "prices", "fulfilment", "webhooks"),
    normalize=mapping.normalize,
    sandbox=_sandbox,
    sandbox_port=5105,
    docs="https://open.shopee.com/documents/v2/v2.order.get_order_list?module=94&type=1",
)
