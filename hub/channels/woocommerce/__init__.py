"""WooCommerce (REST API v3): https://woocommerce.github.io/woocommerce-rest-api-docs/"""

from __future__ import annotations

from typing import Any

from hub.channels.registry import ConnectorSpec
from hub.channels.woocommerce import mapping
from hub.channels.woocommerce.connector import WooCommerceConnector


def sandbox(**kwargs: Any) -> Any:
    from hub.sandbox.woocommerce import create_app

    return create_app(**kwargs)


SPEC = ConnectorSpec(
    kind="woocommerce",
    title="WooCommerce",
    connector=WooCommerceConnector,
    capabilities=("orders", "inventory", "stock_levels", "prices", "fulfilment", "webhooks"),
    normalize=mapping.normalize,
    sandbox=sandbox,
    sandbox_port=5102,
    docs="https://woocommerce.github.io/woocommerce-rest-api-docs/",
)

__all__ = ["SPEC", "WooCommerceConnector"]
