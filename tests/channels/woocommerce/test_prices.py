"""Price push: the WooCommerce connector against its sandbox over real HTTP (plain http, so OAuth 1.0a signing).

POST /wp-json/wc/v3/products/batch {update: [{id, regular_price: "19.99"}]}:
https://woocommerce.github.io/woocommerce-rest-api-docs/#batch-update-products
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
import requests

from hub.channels.port import PriceUpdate, PushResult
from hub.channels.registry import Connection, check
from hub.channels.woocommerce import SPEC
from hub.channels.woocommerce.client import WooCommerceClient
from hub.channels.woocommerce.connector import PRICE_BATCH_LIMIT, WooCommerceConnector
from hub.errors import PermanentError
from hub.outbound.audit import MemoryAudit
from hub.sandbox.server import Mount, running_mount
from hub.sandbox.woocommerce import CONSUMER_KEY, CONSUMER_SECRET, create_app

D = Decimal


@pytest.fixture(scope="module")
def front() -> Iterator[tuple[Mount, str]]:
    """One server for the module, a fresh sandbox app mounted per test."""
    with running_mount("woocommerce-prices-front") as mounted:
        yield mounted


@pytest.fixture
def shop(front: tuple[Mount, str]) -> Callable[..., tuple[Any, str]]:
    mount, base_url = front

    def shop(currency: str = "EUR") -> tuple[Any, str]:
        mount.app = app = create_app(seed=5, orders=3, currency=currency)
        return app, base_url

    return shop


def connect(base_url: str, secret: str = CONSUMER_SECRET) -> WooCommerceConnector:
    connection = Connection(base_url=base_url, credentials={"consumer_key": CONSUMER_KEY, "consumer_secret": secret},
                            audit=MemoryAudit(), sleep=lambda s: None)
    return WooCommerceConnector(connection)


def products(base_url: str) -> dict[str, dict[str, Any]]:
    return {p["sku"]: p for p in requests.get(f"{base_url}/_sandbox/products", timeout=5).json()}


def test_prices_is_a_checked_capability():
    assert "prices" in SPEC.capabilities and check(SPEC, "woocommerce") is SPEC


@pytest.mark.parametrize(("currency", "price", "sent"), [
    ("EUR", D("19.99"), "19.99"), ("EUR", D("19.990"), "19.99"), ("JPY", D("1500"), "1500"),
    ("JPY", D("1.5E+3"), "1500"), ("KWD", D("12.345"), "12.345"),
])
def test_a_pushed_price_reads_back_exactly_as_a_decimal_string(shop, currency, price, sent):
    _, base_url = shop(currency)
    (result,) = connect(base_url).push_prices([PriceUpdate("MUG-BLUE", price, currency)])
    assert result == PushResult("MUG-BLUE", True)
    mug = products(base_url)["MUG-BLUE"]
    assert mug["regular_price"] == sent and mug["price"] == sent  # a string, exactly as sent


def test_refusals_and_unknown_skus_are_reported_per_sku_in_input_order_while_the_rest_goes_through(shop):
    _, base_url = shop("EUR")
    before = products(base_url)
    updates = [
        PriceUpdate("MUG-BLUE", D("14.50"), "EUR"),
        PriceUpdate("NO-SUCH-SKU", D("1.00"), "EUR"),
        PriceUpdate("TEA-SENCHA", D("9.99"), "USD"),
        PriceUpdate("SCREW-M3", D("0.055"), "EUR"),
        PriceUpdate("CANDLE-3", D("-1"), "EUR"),
        PriceUpdate("BAG-LINEN", D("21"), "EUR"),
    ]
    results = connect(base_url).push_prices(updates)
    assert [r.sku for r in results] == [u.sku for u in updates]
    assert [r.ok for r in results] == [True, False, False, False, False, True]
    assert results[1].message == "no product with this SKU in WooCommerce"  # GET /products?sku= found none
    assert results[2].message == "currency USD is not the shop's currency EUR"
    assert results[3].message == "price 0.055 has more decimals than EUR allows (2)"
    assert "negative" in results[4].message
    after = products(base_url)
    assert after["MUG-BLUE"]["regular_price"] == "14.50" and after["BAG-LINEN"]["regular_price"] == "21.00"
    for sku in ("TEA-SENCHA", "SCREW-M3", "CANDLE-3"):
        assert after[sku]["regular_price"] == before[sku]["regular_price"]


@pytest.mark.parametrize(("currency", "price"), [("JPY", D("1500.5")), ("KWD", D("12.3456"))])
def test_more_decimals_than_the_currency_has_is_refused_before_sending(shop, currency, price):
    _, base_url = shop(currency)
    connector = connect(base_url)
    (result,) = connector.push_prices([PriceUpdate("MUG-BLUE", price, currency)])
    assert not result.ok and f"more decimals than {currency} allows" in result.message
    assert not [c for c in connector.connection.audit.calls if "/products" in c.url]  # nothing looked up or sent


def test_the_shop_currency_is_asked_once_per_connector(shop):
    _, base_url = shop("JPY")
    connector = connect(base_url)
    connector.push_prices([PriceUpdate("MUG-BLUE", D("1800"), "JPY")])
    connector.push_prices([PriceUpdate("MUG-BLUE", D("1900"), "JPY")])
    asked = [c for c in connector.connection.audit.calls if "/data/currencies/current" in c.url]
    assert len(asked) == 1 and products(base_url)["MUG-BLUE"]["regular_price"] == "1900"


def test_prices_are_sent_in_batches_within_the_cap(shop, monkeypatch):
    app, base_url = shop("EUR")
    state = app.extensions["sandbox"]
    for n in range(230):
        state.products[500 + n] = {"id": 500 + n, "sku": f"BULK-{n}", "name": f"Bulk {n}", "type": "simple",
                                   "regular_price": "1.00", "price": "1.00", "sale_price": ""}
    connector = connect(base_url)
    sizes: list[int] = []
    send = connector.client.batch_update_prices

    def counting(prices: list[tuple[int, str]]) -> dict[str, Any]:
        sizes.append(len(prices))
        return send(prices)

    monkeypatch.setattr(connector.client, "batch_update_prices", counting)
    updates = [PriceUpdate(f"BULK-{n}", D(n) / 100, "EUR") for n in range(230)]
    results = connector.push_prices(updates)
    assert all(r.ok for r in results) and len(results) == 230
    assert sizes == [PRICE_BATCH_LIMIT, PRICE_BATCH_LIMIT, 30]
    after = products(base_url)
    assert after["BULK-0"]["regular_price"] == "0.00" and after["BULK-229"]["regular_price"] == "2.29"


def test_a_product_gone_between_lookup_and_batch_has_woocommerces_message(shop, monkeypatch):
    _, base_url = shop("EUR")
    connector = connect(base_url)
    monkeypatch.setattr(connector.client, "list_products_by_sku", lambda skus: [{"id": 99999, "sku": "GONE"}])
    (result,) = connector.push_prices([PriceUpdate("GONE", D("3.00"), "EUR")])
    assert result == PushResult("GONE", False, "woocommerce_rest_product_invalid_id: Invalid ID.")


def test_the_sandbox_refuses_a_price_that_is_not_a_decimal_string_per_item(shop):
    _, base_url = shop("EUR")
    client = WooCommerceClient(base_url, CONSUMER_KEY, CONSUMER_SECRET, audit=MemoryAudit(), sleep=lambda s: None)
    answer = client.batch_products([{"id": 10, "regular_price": D("19.99")}, {"id": 11, "regular_price": "9,99"},
                                    {"id": 12, "regular_price": "0.10"}, {"id": 4242, "regular_price": "1.00"}])
    first, second, third, fourth = answer["update"]
    assert first["id"] == 10 and first["error"]["code"] == "rest_invalid_param"
    assert first["error"]["data"]["params"] == {"regular_price": "regular_price is not of type string."}
    assert second["error"]["code"] == "rest_invalid_param"
    assert third["regular_price"] == "0.10"
    assert fourth == {"id": 4242, "error": {"code": "woocommerce_rest_product_invalid_id", "message": "Invalid ID.",
                                            "data": {"status": 400}}}
    assert products(base_url)["MUG-BLUE"]["regular_price"] == "12.90"


def test_an_auth_failure_is_refused_and_changes_nothing(shop):
    _, base_url = shop("EUR")
    with pytest.raises(PermanentError) as caught:
        connect(base_url, secret="cs_wrong").push_prices([PriceUpdate("MUG-BLUE", D("1.00"), "EUR")])
    assert caught.value.status == 401
    guest = requests.post(f"{base_url}/wp-json/wc/v3/products/batch",
                          json={"update": [{"id": 10, "regular_price": "1.00"}]}, timeout=5)
    assert guest.status_code == 401 and guest.json()["code"] == "woocommerce_rest_cannot_batch"
    current = requests.get(f"{base_url}/wp-json/wc/v3/data/currencies/current", timeout=5)
    assert current.status_code == 401 and current.json()["code"] == "woocommerce_rest_cannot_view"
    assert products(base_url)["MUG-BLUE"]["regular_price"] == "12.90"
