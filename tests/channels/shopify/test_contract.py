"""The Shopify connector against its sandbox over real HTTP.

Time is a fake clock shared by the sandbox's cost bucket and the connector's sleep, so throttling is
waited out without waiting.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from hub.channels import registry
from hub.channels.port import PriceUpdate, Shipment, StockUpdate
from hub.channels.registry import Connection
from hub.channels.shopify import SPEC, ShopifyConnector, mapping
from hub.channels.shopify import connector as connector_module
from hub.channels.shopify.client import ORDERS_QUERY, VARIANT_PRICES_MUTATION, throttle_wait
from hub.channels.shopify.connector import price_text
from hub.errors import PermanentError
from hub.orders.status import OrderStatus as S
from hub.outbound.audit import MemoryAudit
from hub.sandbox.faults import Faults
from hub.sandbox.server import Mount, running_mount
from hub.sandbox.shopify import create_app
from hub.sandbox.shopify.state import Shop
from tests.channels.support import FakeClock
from tests.channels.support import pull_all as pull_pages

FIXTURES = Path(__file__).parent / "fixtures"
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)

SEEDED_UNTIL = datetime(2026, 2, 1, tzinfo=UTC).timestamp()  # after the seeded orders




class Sandbox:
    def __init__(self, url: str, app: Any, clock: FakeClock) -> None:
        self.url, self.app, self.clock = url, app, clock
        self.shop: Shop = app.extensions["sandbox"]
        self.faults: Faults = app.extensions["sandbox_faults"]
        self.audit = MemoryAudit()

    def connector(self, **credentials: str) -> ShopifyConnector:
        creds = {"access_token": self.shop.access_token, "api_secret": self.shop.api_secret, **credentials}
        return ShopifyConnector(Connection(self.url, creds, audit=self.audit, sleep=self.clock.sleep, clock=self.clock))

    def graphql(self, query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> Any:
        headers = {"X-Shopify-Access-Token": token if token is not None else self.shop.access_token}
        answer = requests.post(f"{self.url}/admin/api/2025-01/graphql.json", json={"query": query,
                               "variables": variables or {}}, headers=headers, timeout=5)
        return answer.status_code, json.loads(answer.text, parse_float=Decimal)


@pytest.fixture(scope="module")
def front() -> Iterator[tuple[Mount, str]]:
    """One server for the module, a fresh sandbox app mounted per test."""
    with running_mount("shopify-sandbox-front") as mounted:
        yield mounted


@pytest.fixture
def sandbox(front) -> Sandbox:
    mount, url = front
    clock = FakeClock(SEEDED_UNTIL)
    mount.app = app = create_app(seed=42, orders=120, clock=clock, faults=Faults(seed=1))
    return Sandbox(url, app, clock)


def pull_all(connector: ShopifyConnector, since: datetime = EPOCH):
    orders, rejected, _ = pull_pages(connector, since)
    return orders, rejected


# --- orders --------------------------------------------------------------------------------------

def test_a_full_pull_pages_through_every_order_exactly_once(sandbox):
    orders, rejected = pull_all(sandbox.connector())
    assert rejected == []
    ids = [o.external_id for o in orders]
    assert len(ids) == len(set(ids)) == len(sandbox.shop.orders)
    assert {int(i) for i in ids} == set(sandbox.shop.orders)
    assert [o.updated_at for o in orders] == sorted(o.updated_at for o in orders)
    assert {c.url.split("?")[0] for c in sandbox.audit.calls} == {f"{sandbox.url}/admin/api/2025-01/graphql.json"}


def test_orders_with_more_lines_than_one_page_are_completed_by_a_second_call(sandbox):
    orders, _ = pull_all(sandbox.connector())
    long_ones = [o for o in orders if len(sandbox.shop.orders[int(o.external_id)].lines) > 8]
    assert long_ones
    for order in long_ones:
        assert len(order.lines) == len(sandbox.shop.orders[int(order.external_id)].lines)
        assert order.flags == ()


def test_the_pulled_orders_span_currencies_statuses_and_large_quantities(sandbox):
    orders, _ = pull_all(sandbox.connector())
    assert {"JPY", "KWD", "VND", "EUR", "USD"} <= {o.currency for o in orders}
    assert {S.CANCELLED, S.REFUNDED, S.PARTIALLY_REFUNDED, S.FULFILLED, S.PARTIALLY_FULFILLED, S.PAID,
            S.PENDING} <= {o.status for o in orders}
    assert max(ln.quantity for o in orders for ln in o.lines) == 99_999
    assert all(o.flags == () for o in orders)


def test_an_incremental_pull_returns_only_orders_updated_since(sandbox):
    since = sorted(o.updated_at for o in sandbox.shop.orders.values())[80]
    orders, _ = pull_all(sandbox.connector(), since)
    expected = {n for n, o in sandbox.shop.orders.items() if o.updated_at >= since}
    assert {int(o.external_id) for o in orders} == expected
    assert 0 < len(expected) < len(sandbox.shop.orders)


def test_orders_that_moved_on_since_the_last_pull_are_the_ones_pulled_next(sandbox):
    connector = sandbox.connector()
    pull_all(connector)
    sandbox.clock.now += 3600
    since = datetime.fromtimestamp(sandbox.clock.now, UTC)
    moved = requests.post(f"{sandbox.url}/_sandbox/advance", json={"count": 7, "seed": 3}, timeout=5).json()["moved"]
    orders, _ = pull_all(connector, since)
    assert sorted(int(o.external_id) for o in orders) == sorted(moved)
    assert all(o.updated_at == since.replace(microsecond=0) for o in orders)  # Shopify times are whole seconds


def test_since_is_sent_in_utc_whatever_its_offset_and_a_naive_since_is_refused(sandbox):
    since = sorted(o.updated_at for o in sandbox.shop.orders.values())[100]
    tokyo = since.astimezone(timezone(timedelta(hours=9)))
    connector = sandbox.connector()
    in_tokyo = {o.external_id for o in pull_all(connector, tokyo)[0]}
    assert in_tokyo == {o.external_id for o in pull_all(connector, since)[0]}
    assert len(in_tokyo) == len(sandbox.shop.orders) - 100
    with pytest.raises(ValueError, match="aware"):
        connector.pull_orders(since.replace(tzinfo=None))


def test_the_cursor_resumes_a_pull_in_a_new_connector(sandbox):
    first = sandbox.connector().pull_orders(EPOCH)
    rest, _ = [], None
    cursor = first.next_cursor
    connector = sandbox.connector()
    while cursor:
        page = connector.pull_orders(EPOCH, cursor)
        rest.extend(page.orders)
        cursor = page.next_cursor
    ids = [o.external_id for o in first.orders] + [o.external_id for o in rest]
    assert len(ids) == len(set(ids)) == len(sandbox.shop.orders)


def test_a_malformed_order_is_quarantined_while_the_rest_of_the_page_goes_on(sandbox):
    first_page = sorted(sandbox.shop.orders.values(), key=lambda o: (o.updated_at, o.number))[:10]
    broken = first_page[3]
    broken.malformed = True
    page = sandbox.connector().pull_orders(EPOCH)
    assert len(page.orders) == 9
    ((external_id, reason, raw),) = page.rejected
    assert external_id == str(broken.number)
    assert reason.startswith("line item") and ("quantity" in reason or "no amount" in reason)
    assert raw["id"] == f"gid://shopify/Order/{broken.number}"


def test_an_order_repeated_across_pages_is_still_seen_and_no_order_is_missed(sandbox):
    sandbox.faults.update(repeat_across_pages=True)
    orders, _ = pull_all(sandbox.connector())
    counts = Counter(o.external_id for o in orders)
    assert {int(i) for i in counts} == set(sandbox.shop.orders)
    assert max(counts.values()) == 2


# --- throttling and failures ---------------------------------------------------------------------

def test_a_full_pull_outruns_the_cost_bucket_and_waits_for_it_to_refill(sandbox):
    pull_all(sandbox.connector())
    assert sandbox.clock.slept and all(s > 0 for s in sandbox.clock.slept)


def test_throttled_answers_are_waited_out_and_retried(sandbox):
    sandbox.faults.update(throttle_burst=2)
    page = sandbox.connector().pull_orders(EPOCH)
    assert len(page.orders) == 10
    assert len(sandbox.clock.slept) == 2
    assert len(sandbox.audit.calls) >= 3 and all(c.status == 200 for c in sandbox.audit.calls)


def test_server_errors_are_retried_by_the_http_client(sandbox):
    sandbox.faults.update(error_rate=0.3)
    orders, _ = pull_all(sandbox.connector())
    assert {int(o.external_id) for o in orders} == set(sandbox.shop.orders)
    assert any(c.status == 500 for c in sandbox.audit.calls)


def test_answers_cut_short_are_asked_again(sandbox):
    sandbox.faults.update(malformed_rate=0.2)
    orders, _ = pull_all(sandbox.connector())
    assert {int(o.external_id) for o in orders} == set(sandbox.shop.orders)


def test_every_query_the_connector_sends_costs_at_most_a_thousand_points(sandbox):
    from hub.channels.shopify import client
    from hub.sandbox.shopify.app import requested_cost

    costs = {name: requested_cost(getattr(client, name), {"first": 250 if "VARIANTS" in name else 10})
             for name in ("ORDERS_QUERY", "ORDER_LINE_ITEMS_QUERY", "VARIANTS_BY_SKU_QUERY", "LOCATIONS_QUERY",
                          "FULFILLMENT_ORDERS_QUERY")}
    assert costs == {"ORDERS_QUERY": 962, "ORDER_LINE_ITEMS_QUERY": 903, "VARIANTS_BY_SKU_QUERY": 502,
                     "LOCATIONS_QUERY": 3, "FULFILLMENT_ORDERS_QUERY": 518}


def test_a_query_costing_more_than_a_thousand_points_is_refused_as_shopify_does(sandbox):
    status, body = sandbox.graphql(ORDERS_QUERY, {"first": 250, "query": ""})
    assert status == 200
    assert body["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"


# --- auth ----------------------------------------------------------------------------------------

def test_a_wrong_access_token_is_refused_with_401(sandbox):
    with pytest.raises(PermanentError) as refused:
        sandbox.connector(access_token="shpat_forged").pull_orders(EPOCH)
    assert refused.value.status == 401
    assert "Invalid API key or access token" in str(refused.value)


def test_a_request_without_a_token_is_refused_with_401(sandbox):
    answer = requests.post(f"{sandbox.url}/admin/api/2025-01/graphql.json", json={"query": "{ shop { name } }"},
                           timeout=5)
    assert answer.status_code == 401
    assert answer.json() == {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}


# --- stock ---------------------------------------------------------------------------------------

def test_stock_is_set_in_batches_and_can_be_read_back(sandbox, monkeypatch):
    monkeypatch.setattr(connector_module, "STOCK_BATCH", 10)
    skus = sorted(sandbox.shop.variants)
    updates = [StockUpdate(sku, i * 3) for i, sku in enumerate(skus)] + [StockUpdate("NO-SUCH-SKU", 5)]
    results = sandbox.connector().push_stock(updates)
    assert [r.sku for r in results] == [u.sku for u in updates]
    assert [r.ok for r in results] == [True] * len(skus) + [False]
    levels = requests.get(f"{sandbox.url}/_sandbox/inventory", timeout=5).json()
    location = "gid://shopify/Location/68000000001"
    assert {sku: levels[sku][location] for sku in skus} == {u.sku: u.available for u in updates[:-1]}
    mutations = len(sandbox.audit.calls) - 2  # one SKU lookup, one location lookup
    assert mutations == -(-len(skus) // 10)


def test_a_sku_with_spaces_commas_and_umlauts_is_found_and_set(sandbox):
    (result,) = sandbox.connector().push_stock([StockUpdate("ÜBER-TASSE 0,3l", 42)])
    assert result.ok
    assert requests.get(f"{sandbox.url}/_sandbox/inventory", timeout=5).json()["ÜBER-TASSE 0,3l"][
        "gid://shopify/Location/68000000001"] == 42


# --- prices --------------------------------------------------------------------------------------

@pytest.fixture
def sandbox_in(front):
    """A sandbox whose shop sells in the given currency (variant prices are in it)."""
    mount, url = front

    def make(currency: str) -> Sandbox:
        clock = FakeClock(SEEDED_UNTIL)
        mount.app = app = create_app(seed=42, orders=20, clock=clock, faults=Faults(seed=1), currency=currency)
        return Sandbox(url, app, clock)

    return make


def prices_back(sandbox: Sandbox) -> dict[str, tuple[Decimal, str]]:
    answer = requests.get(f"{sandbox.url}/_sandbox/prices", timeout=5).json()
    return {sku: (Decimal(p["price"]), p["currency"]) for sku, p in answer.items()}


def test_prices_are_set_product_by_product_in_batches_and_read_back_exactly(sandbox, monkeypatch):
    monkeypatch.setattr(connector_module, "PRICE_BATCH", 2)
    skus = sorted(sandbox.shop.variants)
    updates = [PriceUpdate(sku, Decimal("19.99") + i, "EUR") for i, sku in enumerate(skus)]
    results = sandbox.connector().push_prices(updates)
    assert [(r.sku, r.ok, r.message) for r in results] == [(u.sku, True, "") for u in updates]
    back = prices_back(sandbox)
    assert {sku: back[sku] for sku in skus} == {u.sku: (u.price, "EUR") for u in updates}
    assert back["SKU-0001"] == (Decimal("19.99"), "EUR")
    products = sandbox.shop.products().values()
    assert all(len(p) <= 3 for p in products)
    mutations = len(sandbox.audit.calls) - 2  # one shop currency query, one SKU lookup
    assert mutations == sum(-(-len(p) // 2) for p in products)
    # Read back through the API as well: the variant's price is the Money string sent.
    _, body = sandbox.graphql('{ productVariants(first: 5, query: "sku:\'SKU-0001\'") '
                              "{ edges { node { sku price } } } }")
    assert body["data"]["productVariants"]["edges"] == [{"node": {"sku": "SKU-0001", "price": "19.99"}}]


def test_whole_yen_and_three_decimal_dinar_prices_are_set_exactly_where_the_shop_sells_in_them(sandbox_in):
    yen = sandbox_in("JPY")
    results = yen.connector().push_prices([PriceUpdate("SKU-0001", Decimal(1500), "JPY"),
                                           PriceUpdate("SKU-0002", Decimal("1.2E+3"), "JPY"),
                                           PriceUpdate("SKU-0003", Decimal("1500.5"), "JPY")])
    assert [r.ok for r in results] == [True, True, False]
    assert "more decimals than JPY allows (0)" in results[2].message
    back = prices_back(yen)
    assert back["SKU-0001"] == (Decimal(1500), "JPY") and back["SKU-0002"] == (Decimal(1200), "JPY")
    assert back["SKU-0003"][0] == yen.shop.variants["SKU-0003"].price != Decimal("1500.5")

    dinar = sandbox_in("KWD")
    results = dinar.connector().push_prices([PriceUpdate("SKU-0004", Decimal("12.345"), "KWD"),
                                             PriceUpdate("SKU-0005", Decimal("12.3456"), "KWD"),
                                             PriceUpdate("SKU-0006", Decimal("12.345"), "EUR")])
    assert [r.ok for r in results] == [True, False, False]
    assert results[2].message == "price in EUR, but the shop sells in KWD"
    assert prices_back(dinar)["SKU-0004"] == (Decimal("12.345"), "KWD")


def test_unknown_skus_wrong_currencies_and_excess_decimals_are_reported_per_sku_while_the_rest_goes_through(sandbox):
    before = prices_back(sandbox)
    updates = [
        PriceUpdate("SKU-0001", Decimal("24.90"), "EUR"),
        PriceUpdate("NO-SUCH-SKU", Decimal("5.00"), "EUR"),
        PriceUpdate("SKU-0002", Decimal("24.90"), "USD"),
        PriceUpdate("SKU-0003", Decimal("24.999"), "EUR"),
        PriceUpdate("ÜBER-TASSE 0,3l", Decimal("13.50"), "EUR"),
        PriceUpdate("SKU-0004", Decimal("9.99"), "EURO"),
    ]
    results = sandbox.connector().push_prices(updates)
    assert [(r.sku, r.ok) for r in results] == [(u.sku, ok) for u, ok in zip(
        updates, [True, False, False, False, True, False], strict=True)]
    assert results[1].message == "no variant with this SKU in the shop"
    assert results[2].message == "price in USD, but the shop sells in EUR"
    assert results[3].message == "24.999 has more decimals than EUR allows (2)"
    assert "not a currency" in results[5].message
    back = prices_back(sandbox)
    assert back["SKU-0001"] == (Decimal("24.90"), "EUR") and back["ÜBER-TASSE 0,3l"] == (Decimal("13.50"), "EUR")
    assert all(back[s] == before[s] for s in ("SKU-0002", "SKU-0003", "SKU-0004"))


def test_a_variant_shopify_refuses_gets_shopify_s_message_and_its_product_s_other_variants_are_still_set(sandbox):
    # SKU-0001..0003 are one product: the negative price is refused by Shopify, the others are set.
    results = sandbox.connector().push_prices([PriceUpdate("SKU-0001", Decimal("7.00"), "EUR"),
                                               PriceUpdate("SKU-0002", Decimal("-1.00"), "EUR"),
                                               PriceUpdate("SKU-0003", Decimal("8.00"), "EUR")])
    assert [r.ok for r in results] == [True, False, True]
    assert results[1].message == "Price must be greater than or equal to 0"
    back = prices_back(sandbox)
    assert (back["SKU-0001"][0], back["SKU-0003"][0]) == (Decimal("7.00"), Decimal("8.00"))


def test_a_sku_listed_twice_gets_its_last_price_and_each_update_a_result_in_input_order(sandbox):
    updates = [PriceUpdate("SKU-0007", Decimal("1.00"), "EUR"), PriceUpdate("SKU-0008", Decimal("2.00"), "USD"),
               PriceUpdate("SKU-0007", Decimal("3.00"), "EUR")]
    results = sandbox.connector().push_prices(updates)
    assert [(r.sku, r.ok) for r in results] == [("SKU-0007", True), ("SKU-0008", False), ("SKU-0007", True)]
    assert prices_back(sandbox)["SKU-0007"][0] == Decimal("3.00")
    assert sandbox.connector().push_prices([]) == []


def test_a_price_call_whose_answer_is_cut_short_is_sent_again_since_prices_are_absolute(sandbox):
    sandbox.faults.update(malformed_rate=0.3)
    updates = [PriceUpdate(f"SKU-{i:04d}", Decimal("10.10") + i, "EUR") for i in range(1, 16)]
    results = sandbox.connector().push_prices(updates)
    assert all(r.ok for r in results)
    assert any(c.error == "body: not JSON" for c in sandbox.audit.calls)
    back = prices_back(sandbox)
    assert all(back[u.sku][0] == u.price for u in updates)


def test_prices_are_refused_with_a_wrong_access_token(sandbox):
    before = prices_back(sandbox)
    with pytest.raises(PermanentError) as refused:
        sandbox.connector(access_token="shpat_forged").push_prices([PriceUpdate("SKU-0001", Decimal("1.00"), "EUR")])
    assert refused.value.status == 401
    assert prices_back(sandbox) == before


def test_prices_are_written_as_exact_money_strings():
    assert price_text(PriceUpdate("A", Decimal("19.99"), "EUR"), "EUR") == ("", "19.99")
    assert price_text(PriceUpdate("A", Decimal("19.990"), "EUR"), "EUR") == ("", "19.99")
    assert price_text(PriceUpdate("A", Decimal("19.9"), "EUR"), "EUR") == ("", "19.90")
    assert price_text(PriceUpdate("A", Decimal("1.5E+3"), "JPY"), "JPY") == ("", "1500")
    assert price_text(PriceUpdate("A", Decimal("12.345"), "KWD"), "KWD") == ("", "12.345")
    assert price_text(PriceUpdate("A", Decimal("123456789.12"), "EUR"), "EUR") == ("", "123456789.12")
    assert price_text(PriceUpdate("A", Decimal("NaN"), "EUR"), "EUR")[0].startswith("not a decimal price")


def test_the_documented_bulk_update_refuses_bad_variants_whole_unless_partial_updates_are_allowed(sandbox):
    # https://shopify.dev/docs/api/admin-graphql/2025-01/mutations/productVariantsBulkUpdate
    first, second = sandbox.shop.products()[8_000_000_000_000][:2]
    other = sandbox.shop.variants["SKU-0010"]
    product = "gid://shopify/Product/8000000000000"
    variants = [{"id": f"gid://shopify/ProductVariant/{first.number}", "price": "5.55"},
                {"id": "gid://shopify/ProductVariant/1", "price": "6.66"},
                {"id": f"gid://shopify/ProductVariant/{other.number}", "price": "7.77"},
                {"price": "8.88"}]
    status, body = sandbox.graphql(VARIANT_PRICES_MUTATION, {"productId": product, "variants": variants})
    answer = body["data"]["productVariantsBulkUpdate"]
    assert status == 200 and answer["productVariants"] is None
    assert answer["userErrors"] == [
        {"code": "PRODUCT_VARIANT_DOES_NOT_EXIST", "field": ["variants", "1", "id"],
         "message": "Product variant does not exist"},
        {"code": "MUST_BE_FOR_THIS_PRODUCT", "field": ["variants", "2", "id"],
         "message": "Input must be for this product."},
        {"code": "PRODUCT_VARIANT_ID_MISSING", "field": ["variants", "3", "id"],
         "message": "Product variant is missing ID attribute"}]
    assert first.price != Decimal("5.55")
    partial = sandbox.graphql(VARIANT_PRICES_MUTATION, {"productId": product, "variants": variants,
                                                        "allowPartialUpdates": True})[1]["data"]
    assert partial["productVariantsBulkUpdate"]["productVariants"] == [
        {"id": f"gid://shopify/ProductVariant/{first.number}", "sku": first.sku, "price": "5.55"}]
    assert first.price == Decimal("5.55") and second.price != Decimal("6.66")
    missing = sandbox.graphql(VARIANT_PRICES_MUTATION, {"productId": "gid://shopify/Product/1", "variants": []})[1]
    assert missing["data"]["productVariantsBulkUpdate"]["userErrors"][0]["code"] == "PRODUCT_DOES_NOT_EXIST"
    too_many = [{"id": f"gid://shopify/ProductVariant/{first.number}", "price": "1.00"}] * 101
    capped = sandbox.graphql(VARIANT_PRICES_MUTATION, {"productId": product, "variants": too_many})[1]
    assert capped["data"]["productVariantsBulkUpdate"]["userErrors"][0]["field"] == ["variants"]
    not_money = sandbox.graphql(VARIANT_PRICES_MUTATION, {"productId": product, "variants": [
        {"id": f"gid://shopify/ProductVariant/{first.number}", "price": "cheap"}]})[1]
    assert not_money["errors"][0]["extensions"]["code"] == "INVALID_VARIABLE"


def test_the_price_queries_cost_at_most_a_thousand_points(sandbox):
    from hub.channels.shopify import client
    from hub.sandbox.shopify.app import requested_cost

    assert requested_cost(client.VARIANT_PRODUCTS_BY_SKU_QUERY, {"first": 250}) == 502
    assert requested_cost(client.SHOP_CURRENCY_QUERY, {}) == 1
    assert requested_cost(client.VARIANT_PRICES_MUTATION, {}) == 10


# --- fulfilment ----------------------------------------------------------------------------------

def open_order(shop: Shop, lines: int = 1):
    return next(o for o in sorted(shop.orders.values(), key=lambda o: o.number)
                if o.fo_status == "OPEN" and o.financial == "PAID" and len(o.lines) >= lines)


def test_a_whole_order_shipment_fulfils_it_and_can_be_read_back(sandbox):
    order = open_order(sandbox.shop)
    connector = sandbox.connector()
    connector.push_fulfilment(Shipment(str(order.number), "DHL", "00340434161094042557", datetime.now(UTC)))
    back = requests.get(f"{sandbox.url}/_sandbox/orders/{order.number}", timeout=5).json()["order"]
    assert back["fulfillment_status"] == "fulfilled"
    assert (back["fulfillments"][0]["tracking_company"], back["fulfillments"][0]["tracking_number"]) == (
        "DHL", "00340434161094042557")
    pulled = connector.pull_orders(datetime.fromtimestamp(sandbox.clock.now, UTC) - timedelta(minutes=5))
    assert [(o.external_id, o.status) for o in pulled.orders] == [(str(order.number), S.FULFILLED)]


def test_a_shipment_of_some_lines_partially_fulfils_the_order(sandbox):
    order = open_order(sandbox.shop, lines=2)
    line = order.lines[0]
    sandbox.connector().push_fulfilment(Shipment(str(order.number), "UPS", "1Z999AA10123456784", datetime.now(UTC),
                                                 lines=((str(line.number), line.quantity),)))
    back = requests.get(f"{sandbox.url}/_sandbox/orders/{order.number}", timeout=5).json()["order"]
    assert back["fulfillment_status"] == "partial"
    assert back["line_items"][0]["fulfillable_quantity"] == 0


def test_a_shipment_of_more_units_than_are_open_is_refused_and_nothing_is_fulfilled(sandbox):
    order = open_order(sandbox.shop)
    line = order.lines[0]
    with pytest.raises(PermanentError, match="fewer open units"):
        sandbox.connector().push_fulfilment(Shipment(str(order.number), "DHL", "1", datetime.now(UTC),
                                                     lines=((str(line.number), line.quantity + 1),)))
    assert order.fulfillments == [] and line.fulfilled == 0


def test_a_shipment_for_an_order_with_nothing_left_to_fulfil_is_refused(sandbox):
    closed = next(o for o in sandbox.shop.orders.values() if o.fo_status == "CLOSED")
    with pytest.raises(PermanentError, match="nothing left to fulfil"):
        sandbox.connector().push_fulfilment(Shipment(str(closed.number), "DHL", "1", datetime.now(UTC)))


# --- webhooks ------------------------------------------------------------------------------------

def webhook(sandbox: Sandbox, number: int, topic: str = "orders/updated") -> tuple[dict[str, str], bytes]:
    answer = requests.get(f"{sandbox.url}/_sandbox/webhooks/{number}", params={"topic": topic}, timeout=5).json()
    return answer["headers"], answer["body"].encode()


def test_a_signed_webhook_is_verified_and_parsed_into_the_same_order_as_a_pull(sandbox):
    connector = sandbox.connector()
    pulled = {o.external_id: o for o in pull_all(connector)[0]}
    number = next(iter(sandbox.shop.orders))
    headers, body = webhook(sandbox, number)
    assert connector.verify_webhook(headers, body)
    (order,) = connector.parse_webhook(headers, body)
    same = pulled[str(number)]
    assert (order.status, order.total, order.currency, order.updated_at) == (
        same.status, same.total, same.currency, same.updated_at)


def test_an_orders_cancelled_delivery_gives_the_cancelled_order_and_other_topics_give_none(sandbox):
    connector = sandbox.connector()
    cancelled = next(o for o in sandbox.shop.orders.values() if o.cancelled_at)
    (order,) = connector.parse_webhook(*webhook(sandbox, cancelled.number, "orders/cancelled"))
    assert order.status is S.CANCELLED and order.external_id == str(cancelled.number)
    assert connector.parse_webhook(*webhook(sandbox, cancelled.number, "orders/delete")) == []


def test_a_forged_or_unsigned_webhook_is_refused(sandbox):
    connector = sandbox.connector()
    headers, body = webhook(sandbox, next(iter(sandbox.shop.orders)))
    tampered = body.replace(b'"financial_status": "', b'"financial_status": "x')
    assert not connector.verify_webhook(headers, tampered)
    assert not connector.verify_webhook({k: v for k, v in headers.items() if "Hmac" not in k}, body)
    assert not sandbox.connector(api_secret="another-secret").verify_webhook(headers, body)
    with pytest.raises(PermanentError, match="signature"):
        connector.parse_webhook(headers, tampered)


# --- documented examples -------------------------------------------------------------------------

def test_the_documented_throttled_answer_gives_the_wait_the_bucket_needs():
    body = json.loads((FIXTURES / "graphql_throttled.json").read_text(), parse_float=Decimal)
    assert throttle_wait(body["extensions"]["cost"]) == pytest.approx((752 - 666) / 50)


def test_the_sandbox_throttles_in_the_documented_shape(sandbox):
    documented = json.loads((FIXTURES / "graphql_throttled.json").read_text(), parse_float=Decimal)
    sandbox.faults.update(throttle_burst=1)
    status, body = sandbox.graphql("{ locations(first: 1) { edges { node { id } } } }")
    assert status == 200
    assert body["errors"] == documented["errors"]
    assert body["extensions"]["cost"].keys() == documented["extensions"]["cost"].keys()
    assert body["extensions"]["cost"]["throttleStatus"].keys() == \
        documented["extensions"]["cost"]["throttleStatus"].keys()


def test_the_documented_orders_query_with_literal_arguments_is_answered_with_only_the_fields_asked(sandbox):
    # https://shopify.dev/docs/api/admin-graphql/latest/queries/orders: literal `first` and a search `query`.
    status, body = sandbox.graphql(
        'query { orders(first: 5, query: "updated_at:>=\'2025-12-01T00:00:00Z\'", sortKey: UPDATED_AT) '
        "{ edges { cursor node { id updatedAt } } pageInfo { hasNextPage endCursor } } }")
    edges = body["data"]["orders"]["edges"]
    assert status == 200 and len(edges) == 5
    assert all(set(e["node"]) == {"id", "updatedAt"} and e["node"]["updatedAt"] >= "2025-12-01" for e in edges)
    assert set(body["data"]["orders"]["pageInfo"]) == {"hasNextPage", "endCursor"}
    assert body["extensions"]["cost"]["throttleStatus"]["maximumAvailable"] == 1000


def test_the_connector_s_own_page_maps_through_normalize_as_the_cli_would(sandbox):
    status, body = sandbox.graphql(ORDERS_QUERY, {"first": 10, "query": "updated_at:>='2025-12-01T00:00:00Z'"})
    orders = mapping.normalize([body])
    assert status == 200 and len(orders) == 10
    assert all(o.updated_at >= datetime(2025, 12, 1, tzinfo=UTC) for o in orders)


def test_the_documented_inventory_set_quantities_example_is_answered_in_shape(sandbox):
    # https://shopify.dev/docs/api/admin-graphql/latest/mutations/inventorySetQuantities, its example with the
    # sandbox's ids: a compare-and-set on `available` with a referenceDocumentUri.
    variant = sandbox.shop.variants["SKU-0001"]
    current = sandbox.shop.levels[(variant.item_number, 68_000_000_001)]
    query = """mutation InventorySet($input: InventorySetQuantitiesInput!) {
      inventorySetQuantities(input: $input) {
        inventoryAdjustmentGroup { createdAt reason referenceDocumentUri changes { name delta } }
        userErrors { field message }
      }
    }"""
    item = {"inventoryItemId": f"gid://shopify/InventoryItem/{variant.item_number}",
            "locationId": "gid://shopify/Location/68000000001", "quantity": current + 11, "compareQuantity": current}
    variables = {"input": {"name": "available", "reason": "correction",
                           "referenceDocumentUri": "logistics://some.warehouse/take/2023-01/13", "quantities": [item]}}
    status, body = sandbox.graphql(query, variables)
    group = body["data"]["inventorySetQuantities"]["inventoryAdjustmentGroup"]
    assert status == 200 and body["data"]["inventorySetQuantities"]["userErrors"] == []
    assert group["reason"] == "correction" and group["changes"][0]["name"] == "available"
    assert group["changes"][0]["delta"] == 11
    stale = sandbox.graphql(query, variables)[1]["data"]["inventorySetQuantities"]
    assert stale["inventoryAdjustmentGroup"] is None
    assert stale["userErrors"] == [{"field": ["input", "quantities", "0", "compareQuantity"],
                                    "message": "The compareQuantity value does not match persisted value."}]


def test_the_spec_is_a_valid_plugin_whose_normalize_reads_fixture_bodies():
    assert registry.check(SPEC, "shopify") is SPEC
    bodies = [json.loads((FIXTURES / n).read_text(), parse_float=Decimal)
              for n in ("rest_order_webhook.json", "graphql_orders_page.json")]
    assert [o.external_id for o in SPEC.normalize(bodies)] == ["5683145394617", "5683145427385", "5683145459001"]


# --- stock read-back (drift check), pre-emptive pacing, throttles in the audit, big and broken shops -------

def paced_connector(sandbox: Sandbox) -> ShopifyConnector:
    creds = {"access_token": sandbox.shop.access_token, "api_secret": sandbox.shop.api_secret}
    return ShopifyConnector(Connection(sandbox.url, creds, audit=sandbox.audit, sleep=sandbox.clock.sleep,
                                       clock=sandbox.clock))


def test_stock_pushed_reads_back_equal_in_batches_and_unknown_skus_are_left_out(sandbox, monkeypatch):
    connector = sandbox.connector()
    skus = sorted(sandbox.shop.variants)  # 31 variants, one SKU with a space, a comma and an umlaut
    assert all(r.ok for r in connector.push_stock([StockUpdate(s, 7 * n) for n, s in enumerate(skus)]))
    monkeypatch.setattr(connector_module, "STOCK_READ_BATCH", 10)  # the shop has too few SKUs for 50 a query
    before = len(sandbox.audit.calls)
    assert connector.read_stock([*skus, "NO-SUCH-SKU"]) == {s: 7 * n for n, s in enumerate(skus)}
    assert len(sandbox.audit.calls) - before == -(-32 // 10) == 4  # the location is known from the push


def test_a_read_at_another_location_gives_that_locations_levels(sandbox):
    location = "gid://shopify/Location/68000000002"
    connector = ShopifyConnector(Connection(sandbox.url, {"access_token": sandbox.shop.access_token},
                                            options={"location_id": location}, sleep=sandbox.clock.sleep,
                                            clock=sandbox.clock))
    levels = requests.get(f"{sandbox.url}/_sandbox/inventory", timeout=5).json()
    assert connector.read_stock(["SKU-0001", "SKU-0002"]) == {s: levels[s][location] for s in ("SKU-0001", "SKU-0002")}


def test_pages_are_paced_before_the_bucket_runs_dry_so_nothing_is_throttled(sandbox):
    """Each orders page asks for 962 points of a 1000-point bucket refilled at 100 a second: from the second page
    on, the connector waits before sending, just as long as the bucket needs."""
    costs: list[tuple[int, int]] = []  # (requested, charged) per query
    connector = paced_connector(sandbox)
    connector.client.http.session.hooks["response"].append(lambda r, *_, **__: costs.append(
        (lambda c: (c["requestedQueryCost"], c["actualQueryCost"]))(json.loads(r.text)["extensions"]["cost"])))
    orders, rejected, _ = pull_pages(connector, EPOCH)
    assert len(orders) + len(rejected) == 120
    assert not any(c.throttled for c in sandbox.audit.calls) and all(c.status == 200 for c in sandbox.audit.calls)
    assert len(sandbox.audit.calls) == len(costs) and all(charged is not None for _, charged in costs)
    # The least time any client needs: before each query the bucket must hold what the query asks for.
    tokens, least = 1000.0, 0.0
    for requested, charged in costs:
        if tokens < requested:
            least += (requested - tokens) / 100
            tokens = requested
        tokens -= charged
    assert least > 30 and least <= sum(sandbox.clock.slept) <= least + 0.002 * len(costs)


def test_a_throttled_answer_is_marked_in_its_audit_record(sandbox):
    sandbox.faults.update(throttle_burst=2)
    sandbox.connector().pull_orders(EPOCH)
    assert [c.throttled for c in sandbox.audit.calls] == [True, True, False]


def test_thousands_of_orders_in_several_currencies_with_a_malformed_share(front):
    mount, url = front
    started = time.monotonic()
    clock = FakeClock(SEEDED_UNTIL)
    mount.app = app = create_app(seed=5, orders=5000, clock=clock, malformed_order_rate=0.01)
    assert time.monotonic() - started < 5
    shop: Shop = app.extensions["sandbox"]
    assert len({o.currency for o in shop.orders.values()}) >= 4
    broken = {str(n) for n, o in shop.orders.items() if o.malformed}
    assert 25 < len(broken) < 80
    connector = paced_connector(Sandbox(url, app, clock))
    page = connector.pull_orders(EPOCH)
    ids = {o.external_id for o in page.orders} | {r[0] for r in page.rejected}
    assert {r[0] for r in page.rejected} == ids & broken
