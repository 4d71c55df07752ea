"""eBay: orders from the Fulfillment API, stock and prices to the Inventory API, shipments back to Fulfillment."""

from __future__ import annotations

from typing import Any

from hub.channels.ebay import mapping
from hub.channels.ebay.connector import EbayConnector
from hub.channels.registry import ConnectorSpec


def sandbox(**kwargs: Any) -> Any:
    from hub.sandbox.ebay import create_app  # Flask only when a sandbox is wanted

    return create_app(**kwargs)


SPEC = ConnectorSpec(
    kind="ebay",
    title="eBay",
    connector=EbayConnector,
    capabilities=("orders", "inventory", "stock_levels", "prices", "fulfilment"),
    normalize=mapping.normalize,
    sandbox=sandbox,
    sandbox_port=5104,
    docs="https://developer.ebay.com/api-docs/sell/fulfillment/resources/methods",
)
