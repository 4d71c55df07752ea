"""The Amazon connector against its sandbox over real HTTP. Time is faked: the sandbox's token buckets and
token expiry read the same clock that the connector's Connection.sleep advances, so pacing costs no real time."""

from __future__ import annotations

import copy
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from hub.channels.amazon import SPEC
from hub.channels.amazon.connector import PRICE_BATCH_SIZE, AmazonConnector
from hub.channels.amazon.mapping import normalize
from hub.channels.port import PriceUpdate, Shipment, StockUpdate, capabilities_of
from hub.channels.registry import Connection, check
from hub.errors import PermanentError
from hub.orders.status import OrderStatus
from hub.outbound.audit import MemoryAudit
from hub.outbound.pacing import HEADROOM
from hub.sandbox.amazon import CREDENTIALS, AmazonState, create_app
from hub.sandbox.amazon.app import CATALOG as CATALOG_SKUS
from hub.sandbox.faults import Faults
from hub.sandbox.ratelimit import TokenBucket
from hub.sandbox.server import running_mount
from tests.channels.support import FakeClock, pull_all

FIXTURES = Path(__file__).parent / "fixtures"
MARKETPLACES = ["A1PA6795UKMFR9", "A13V1IB3VIYZZH", "A1F83G8C2ARO7P", "A1C3SOZRARQ6R3", "ATVPDKIKX0DER",
                "A2Q3Y263D00KWC", "A1VC38T7YXB528", "A19VAU5U5O7RUS"]




@dataclass
class World:
    base: str
    state: AmazonState
    clock: FakeClock
    faults: Faults
    audit: MemoryAudit

    def connector(self, **options) -> AmazonConnector:
        return AmazonConnector(Connection(
            base_url=self.base, credentials=CREDENTIALS, audit=self.audit, sleep=self.clock.sleep, clock=self.clock,
            options={"marketplace_ids": MARKETPLACES, "lwa_endpoint": f"{self.base}/auth/o2/token",
                     "page_size": 10, **options}))

    def token(self) -> str:
        return requests.post(f"{self.base}/auth/o2/token", data={"grant_type": "refresh_token", **{
            k: CREDENTIALS[k] for k in ("client_id", "client_secret", "refresh_token")}}, timeout=5).json()[
            "access_token"]

    def statuses(self, service: str = "amazon") -> list[int | None]:
        return [c.status for c in self.audit.calls if c.service == service]


@pytest.fixture(scope="module")
def server():
    """One server for the module; each test mounts a fresh sandbox app on it."""
    with running_mount("amazon-contract") as (mount, base):
        yield base, mount


@pytest.fixture
def world(server):
    base, mount = server
    clock, faults = FakeClock(1000.0), Faults(seed=3)
    mount.app = app = create_app(seed=7, orders=60, clock=clock, faults=faults)
    yield World(base, app.extensions["sandbox"], clock, faults, MemoryAudit())




def updated_since(state, since):
    return sorted(i for i, r in state.orders.items()
                  if datetime.fromisoformat(r["order"]["LastUpdateDate"].replace("Z", "+00:00")) >= since)


def updated_since_in_order(state, since):
    return [i for _, i in sorted((r["order"]["LastUpdateDate"], i) for i, r in state.orders.items()
                                 if r["order"]["LastUpdateDate"] >= since.strftime("%Y-%m-%dT%H:%M:%SZ"))]


def test_the_spec_is_valid_and_the_connector_has_orders_stock_prices_and_fulfilment(world):
    check(SPEC, "amazon")
    assert capabilities_of(world.connector()) == ["orders", "inventory", "stock_levels", "prices", "fulfilment"]
    assert SPEC.sandbox_port == 5103


def test_a_full_pull_pages_through_every_order_exactly_once_without_being_throttled(world):
    since = world.state.epoch - timedelta(days=40)
    orders, rejected, pages = pull_all(world.connector(), since)
    ids = [o.external_id for o in orders]
    assert len(ids) == len(set(ids))
    assert sorted(ids) == updated_since(world.state, since)
    assert rejected == [] and pages >= 6
    assert 429 not in world.statuses()  # the connector paced itself (getOrderItems: 0.5/s after a burst of 30)
    assert world.clock.slept and all(s == pytest.approx(1.01 / (0.5 * HEADROOM)) for s in world.clock.slept)
    assert world.statuses("amazon-lwa") == [200]  # one token, cached
    statuses = {o.status for o in orders}
    assert {OrderStatus.PENDING, OrderStatus.PAID, OrderStatus.FULFILLED, OrderStatus.CANCELLED} <= statuses
    currencies = {o.currency for o in orders}
    assert {"EUR", "JPY", "USD", "GBP"} <= currencies
    assert all(o.total is None for o in orders if o.status in (OrderStatus.PENDING, OrderStatus.CANCELLED))
    assert all(o.flags == () for o in orders if o.status is OrderStatus.FULFILLED)


def test_an_incremental_pull_returns_only_orders_updated_since(world):
    connector = world.connector()
    mark = world.state.now()
    changed = world.state.advance(4)
    world.clock.sleep(150)  # orders show up 2 minutes after their update
    orders, rejected, _ = pull_all(connector, mark)
    assert sorted(o.external_id for o in orders) == sorted(changed)
    assert rejected == []


def test_a_pull_since_just_now_asks_from_three_minutes_back_instead_of_being_refused(world):
    page = world.connector().pull_orders(datetime.now(UTC))
    assert page.rejected == () and page.next_cursor is None
    (call,) = [c for c in world.audit.calls if c.service == "amazon"]
    assert call.status == 200 and "LastUpdatedAfter=" in call.url
    asked = requests.utils.unquote(call.url.split("LastUpdatedAfter=")[1].split("&")[0])
    assert asked.endswith("Z") and datetime.fromisoformat(asked.replace("Z", "+00:00")) <= \
        datetime.now(UTC) - timedelta(minutes=3)


def test_a_cursor_resumes_where_the_last_page_ended(world):
    since = world.state.epoch - timedelta(days=40)
    first = world.connector().pull_orders(since)
    resumed = world.connector().pull_orders(since, first.next_cursor)  # a new connector: only the cursor carries on
    both = [o.external_id for o in first.orders + resumed.orders]
    assert len(both) == len(set(both)) == 20
    assert both == updated_since_in_order(world.state, since)[:20]


def test_stock_is_pushed_per_sku_and_reads_back_from_the_sandbox(world):
    results = world.connector().push_stock([StockUpdate("MUG-BLUE", 17), StockUpdate("NO-SUCH-SKU", 3),
                                            StockUpdate("TEE-M", -5)])
    assert [(r.sku, r.ok) for r in results] == [("MUG-BLUE", True), ("NO-SUCH-SKU", False), ("TEE-M", True)]
    assert "ITEM_NOT_FOUND" in results[1].message
    assert requests.get(f"{world.base}/_sandbox/listings/MUG-BLUE", timeout=5).json()["quantity"] == 17
    assert world.state.listings["TEE-M"]["quantity"] == 0
    submitted = world.state.submissions[0]
    assert submitted["marketplaceIds"] == sorted(MARKETPLACES)
    assert submitted["body"]["patches"][0] == {"op": "replace", "path": "/attributes/fulfillment_availability",
                                               "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 17}]}


EUR_MARKETS = ["A1PA6795UKMFR9", "A13V1IB3VIYZZH"]  # DE, FR


def offers_read_back(world, sku, markets=MARKETPLACES):
    """getListingsItem over HTTP, numbers as Decimal: marketplace id -> (currency, value_with_tax)."""
    answer = requests.get(f"{world.base}/listings/2021-08-01/items/{CREDENTIALS['seller_id']}/{sku}",
                          params={"marketplaceIds": ",".join(markets)}, timeout=5,
                          headers={"x-amz-access-token": world.token()})
    assert answer.ok, answer.text
    offers = answer.json(parse_float=Decimal)["attributes"]["purchasable_offer"]
    return {o["marketplace_id"]: (o["currency"], o["our_price"][0]["schedule"][0]["value_with_tax"]) for o in offers}


def test_prices_are_pushed_in_the_marketplaces_of_their_currency_and_read_back_exactly(world):
    before = offers_read_back(world, "MUG-BLUE")
    results = world.connector().push_prices([PriceUpdate("MUG-BLUE", Decimal("19.99"), "EUR"),
                                             PriceUpdate("BOOK-JP-001", Decimal("1500"), "JPY"),
                                             PriceUpdate("TEE-M", Decimal("7.5"), "GBP")])
    assert [(r.sku, r.ok) for r in results] == [("MUG-BLUE", True), ("BOOK-JP-001", True), ("TEE-M", True)]
    mug = offers_read_back(world, "MUG-BLUE")
    assert mug["A1PA6795UKMFR9"] == mug["A13V1IB3VIYZZH"] == ("EUR", Decimal("19.99"))
    assert {m: v for m, v in mug.items() if m not in EUR_MARKETS} == \
        {m: v for m, v in before.items() if m not in EUR_MARKETS}  # other currencies untouched
    assert offers_read_back(world, "BOOK-JP-001")["A1VC38T7YXB528"] == ("JPY", 1500)
    assert offers_read_back(world, "TEE-M")["A1F83G8C2ARO7P"] == ("GBP", Decimal("7.50"))
    listing = requests.get(f"{world.base}/_sandbox/listings/BOOK-JP-001", timeout=5).json()
    assert listing["prices"]["A1VC38T7YXB528"] == {"currency": "JPY", "amount": "1500"}
    euro = world.state.submissions[0]
    assert euro["marketplaceIds"] == sorted(EUR_MARKETS)
    (patch,) = euro["body"]["patches"]
    assert (patch["op"], patch["path"]) == ("replace", "/attributes/purchasable_offer")
    assert patch["value"] == [{"marketplace_id": m, "currency": "EUR", "audience": "ALL",
                               "our_price": [{"schedule": [{"value_with_tax": Decimal("19.99")}]}]}
                              for m in EUR_MARKETS]  # a JSON number, written from the Decimal exactly


def test_prices_go_one_sku_per_call_paced_by_the_patch_usage_plan(world):
    skus = [sku for sku, _, _ in CATALOG_SKUS]
    results = world.connector().push_prices([PriceUpdate(sku, Decimal("9.95"), "EUR") for sku in skus])
    assert PRICE_BATCH_SIZE == 1
    assert all(r.ok for r in results) and [r.sku for r in results] == skus
    assert [s["sku"] for s in world.state.submissions] == skus  # one call per SKU, in order
    assert world.state.calls["patchListingsItem"] == len(skus)
    assert 429 not in world.statuses()
    # The PATCH plan is 5/s, burst 5; the client keeps under it (HEADROOM) so none is ever refused.
    burst, interval = int(5 * HEADROOM), 1.01 / (5 * HEADROOM)
    assert len(world.clock.slept) == len(skus) - burst
    assert all(s == pytest.approx(interval) for s in world.clock.slept)


def test_unknown_skus_wrong_currencies_and_excess_decimals_are_refused_per_sku_while_the_rest_goes_through(world):
    connector = world.connector(marketplace_ids=EUR_MARKETS)
    updates = [PriceUpdate("MUG-RED", Decimal("11.00"), "EUR"), PriceUpdate("NO-SUCH-SKU", Decimal("5.00"), "EUR"),
               PriceUpdate("TEE-L", Decimal("21.99"), "USD"), PriceUpdate("SOCKS-3", Decimal("9.999"), "EUR"),
               PriceUpdate("SCREW-M3", Decimal("12.345"), "KWD"), PriceUpdate("LAMP-DESK", Decimal("0"), "EUR"),
               PriceUpdate("CABLE-USB-C", Decimal("6.490"), "EUR")]
    before = copy.deepcopy(world.state.listings)
    results = connector.push_prices(updates)
    assert [(r.sku, r.ok) for r in results] == [
        ("MUG-RED", True), ("NO-SUCH-SKU", False), ("TEE-L", False), ("SOCKS-3", False), ("SCREW-M3", False),
        ("LAMP-DESK", False), ("CABLE-USB-C", True)]
    assert "ITEM_NOT_FOUND" in results[1].message
    assert "USD is not sold" in results[2].message and "A1PA6795UKMFR9 EUR" in results[2].message
    assert "more decimals than EUR allows (2)" in results[3].message
    assert "KWD is not sold" in results[4].message  # Amazon has no marketplace selling in KWD
    assert "more than zero" in results[5].message
    assert [s["sku"] for s in world.state.submissions] == ["MUG-RED", "NO-SUCH-SKU", "CABLE-USB-C"]
    prices = {sku: world.state.listings[sku]["prices"]["A1PA6795UKMFR9"]["amount"] for sku in before}
    assert prices["MUG-RED"] == "11.00" and prices["CABLE-USB-C"] == "6.49"
    assert all(prices[sku] == before[sku]["prices"]["A1PA6795UKMFR9"]["amount"]
               for sku in ("TEE-L", "SOCKS-3", "SCREW-M3", "LAMP-DESK"))


def test_the_sandbox_refuses_an_offer_in_the_wrong_currency_or_with_too_many_decimals(world):
    url = f"{world.base}/listings/2021-08-01/items/{CREDENTIALS['seller_id']}/MUG-BLUE"
    headers = {"x-amz-access-token": world.token(), "Content-Type": "application/json"}
    before = copy.deepcopy(world.state.listings["MUG-BLUE"]["prices"])

    def patch(offer, markets="A1VC38T7YXB528"):
        body = ('{"productType":"PRODUCT","patches":[{"op":"replace","path":"/attributes/purchasable_offer",'
                f'"value":[{offer}]}}]}}')
        return requests.patch(url, params={"marketplaceIds": markets}, data=body, headers=headers, timeout=5).json()

    answers = [
        patch('{"marketplace_id":"A1VC38T7YXB528","currency":"EUR","our_price":[{"schedule":[{"value_with_tax":9}]}]}'),
        patch('{"marketplace_id":"A1VC38T7YXB528","currency":"JPY",'
              '"our_price":[{"schedule":[{"value_with_tax":1500.5}]}]}'),
        patch('{"marketplace_id":"A1VC38T7YXB528","currency":"JPY",'
              '"our_price":[{"schedule":[{"value_with_tax":"1500"}]}]}'),
        patch('{"marketplace_id":"A1PA6795UKMFR9","currency":"EUR","our_price":[{"schedule":[{"value_with_tax":9}]}]}'),
    ]
    assert [a["status"] for a in answers] == ["INVALID"] * 4
    assert all(a["issues"][0]["attributeNames"] == ["purchasable_offer"] for a in answers)
    assert "expected JPY" in answers[0]["issues"][0]["message"]
    assert "more decimals than JPY" in answers[1]["issues"][0]["message"]
    assert "must be a number" in answers[2]["issues"][0]["message"]
    assert "not among the requested marketplaceIds" in answers[3]["issues"][0]["message"]
    assert world.state.listings["MUG-BLUE"]["prices"] == before
    exact = patch('{"marketplace_id":"A1VC38T7YXB528","currency":"JPY",'
                  '"our_price":[{"schedule":[{"value_with_tax":1980}]}]}')
    assert exact["status"] == "ACCEPTED"
    assert world.state.listings["MUG-BLUE"]["prices"]["A1VC38T7YXB528"] == {"currency": "JPY", "amount": "1980"}


def test_a_price_push_with_refused_credentials_raises_and_changes_nothing(world):
    before = copy.deepcopy(world.state.listings)
    refused = AmazonConnector(Connection(
        base_url=world.base, credentials={**CREDENTIALS, "client_secret": "wrong"}, audit=world.audit,
        sleep=world.clock.sleep, clock=world.clock,
        options={"marketplace_ids": EUR_MARKETS, "lwa_endpoint": f"{world.base}/auth/o2/token"}))
    with pytest.raises(PermanentError) as caught:
        refused.push_prices([PriceUpdate("MUG-BLUE", Decimal("19.99"), "EUR")])
    assert caught.value.status == 401
    unauthenticated = requests.patch(
        f"{world.base}/listings/2021-08-01/items/{CREDENTIALS['seller_id']}/MUG-BLUE",
        params={"marketplaceIds": "A1PA6795UKMFR9"}, timeout=5,
        json={"productType": "PRODUCT", "patches": [{"op": "replace", "path": "/attributes/purchasable_offer",
                                                     "value": []}]})
    assert unauthenticated.status_code == 403 and unauthenticated.json()["errors"][0]["code"] == "Unauthorized"
    assert world.state.listings == before and world.state.submissions == []
    connector = world.connector()
    connector.push_prices([PriceUpdate("MUG-BLUE", Decimal("18.00"), "EUR")])
    world.state.access_tokens.clear()  # revoked: refreshed once, then the push goes through
    (result,) = connector.push_prices([PriceUpdate("MUG-BLUE", Decimal("17.00"), "EUR")])
    assert result.ok and world.state.listings["MUG-BLUE"]["prices"]["A13V1IB3VIYZZH"]["amount"] == "17.00"


def _open_mfn_order(state, min_lines=1):
    return next(i for i, r in sorted(state.orders.items())
                if r["order"]["OrderStatus"] == "Unshipped" and r["order"]["FulfillmentChannel"] == "MFN"
                and not r.get("documented") and len(r["items"]) >= min_lines)


def test_a_whole_order_fulfilment_is_confirmed_and_reads_back(world):
    order_id = _open_mfn_order(world.state)
    shipment = Shipment(order_id, "DHL", "JJD000390007771234", datetime(2026, 11, 25, 9, 30, tzinfo=UTC))
    world.connector().push_fulfilment(shipment)
    world.connector().push_fulfilment(shipment)  # sent twice: the same package is edited, not doubled
    (confirmed,) = requests.get(f"{world.base}/_sandbox/shipments", timeout=5).json()
    package = confirmed["packageDetail"]
    assert confirmed["orderId"] == order_id
    assert (package["carrierCode"], package["trackingNumber"], package["shipDate"]) == \
        ("DHL", "JJD000390007771234", "2026-11-25T09:30:00Z")
    assert world.state.orders[order_id]["order"]["OrderStatus"] == "Shipped"


def test_a_partial_fulfilment_with_an_unknown_carrier_goes_as_other(world):
    order_id = _open_mfn_order(world.state, min_lines=2)
    first = world.state.orders[order_id]["items"][0]
    world.connector().push_fulfilment(Shipment(order_id, "Kurier Nord", "KN-1", datetime(2026, 11, 25, tzinfo=UTC),
                                               lines=((first["OrderItemId"], first["QuantityOrdered"]),)))
    package = world.state.shipments[0]["packageDetail"]
    assert (package["carrierCode"], package["carrierName"]) == ("Other", "Kurier Nord")
    assert world.state.orders[order_id]["order"]["OrderStatus"] == "PartiallyShipped"


def test_unauthenticated_forged_and_expired_tokens_are_refused(world):
    url = f"{world.base}/orders/v0/orders"
    params = {"MarketplaceIds": "ATVPDKIKX0DER", "LastUpdatedAfter": "2026-01-01T00:00:00Z"}
    for headers in ({}, {"x-amz-access-token": "Atza|forged"}):
        answer = requests.get(url, params=params, headers=headers, timeout=5)
        assert answer.status_code == 403
        assert answer.json()["errors"][0]["code"] == "Unauthorized"
    token = world.token()
    world.clock.sleep(3601)
    answer = requests.get(url, params=params, headers={"x-amz-access-token": token}, timeout=5)
    assert answer.status_code == 403 and "expired" in answer.json()["errors"][0]["message"]
    bad = requests.post(f"{world.base}/auth/o2/token", data={"grant_type": "refresh_token", "client_id": "x",
                                                              "client_secret": "y", "refresh_token": "z"}, timeout=5)
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"


def test_the_connector_refreshes_its_token_when_amazon_says_it_is_no_longer_valid(world):
    connector = world.connector()
    since = world.state.epoch - timedelta(days=40)
    connector.pull_orders(since)
    world.state.access_tokens.clear()  # e.g. revoked: the cached token is refused
    connector.pull_orders(since)
    assert 403 in world.statuses()
    assert world.statuses("amazon-lwa") == [200, 200]
    world.clock.sleep(3600)  # past expiry: renewed before use, without a refusal
    refusals = world.statuses().count(403)
    connector.pull_orders(since)
    assert world.statuses().count(403) == refusals and len(world.statuses("amazon-lwa")) == 3


def test_throttling_is_answered_by_waiting_for_the_next_token_and_retrying(world):
    world.faults.update(throttle_burst=2)
    page = world.connector().pull_orders(world.state.epoch - timedelta(days=40))
    assert page.orders
    assert world.statuses()[:3] == [429, 429, 200]
    assert world.clock.slept[:2] == [pytest.approx(1 / (0.0167 * HEADROOM))] * 2  # one getOrders token each


def test_the_sandbox_enforces_the_get_orders_usage_plan_with_amazons_429(world):
    headers = {"x-amz-access-token": world.token()}
    params = {"MarketplaceIds": "ATVPDKIKX0DER", "LastUpdatedAfter": "2026-01-01T00:00:00Z"}
    answers = [requests.get(f"{world.base}/orders/v0/orders", params=params, headers=headers, timeout=5)
               for _ in range(21)]
    assert [a.status_code for a in answers] == [200] * 20 + [429]
    assert answers[-1].json()["errors"][0]["code"] == "QuotaExceeded"
    assert all(a.headers["x-amzn-RateLimit-Limit"] == "0.0167" and a.headers["x-amzn-RequestId"] for a in answers)
    world.clock.sleep(60)
    assert requests.get(f"{world.base}/orders/v0/orders", params=params, headers=headers, timeout=5).ok


def test_the_connector_adopts_the_rate_amazon_announces_in_its_headers(world):
    world.state.buckets["getOrderItems"] = TokenBucket(rate=0.25, burst=30, clock=world.clock)  # a slower plan
    pull_all(world.connector(), world.state.epoch - timedelta(days=40))
    assert 429 not in world.statuses()
    assert world.clock.slept and all(s == pytest.approx(1.01 / (0.25 * HEADROOM)) for s in world.clock.slept)


def test_an_order_repeated_across_pages_comes_twice_and_nothing_is_lost(world):
    world.faults.update(repeat_across_pages=True)
    since = world.state.epoch - timedelta(days=40)
    orders, _, _ = pull_all(world.connector(), since)
    ids = [o.external_id for o in orders]
    assert len(ids) > len(set(ids))  # the sync engine keeps one by external id and updated_at
    assert sorted(set(ids)) == updated_since(world.state, since)


def test_server_errors_are_retried_and_the_pull_still_sees_every_order_once(world):
    world.faults.update(error_rate=0.15)
    since = world.state.epoch - timedelta(days=40)
    orders, _, _ = pull_all(world.connector(), since)
    assert 500 in world.statuses()
    assert sorted(o.external_id for o in orders) == updated_since(world.state, since)


def test_a_body_cut_in_half_is_asked_for_again(world):
    world.faults.update(malformed_rate=0.2)
    since = world.state.epoch - timedelta(days=40)
    orders, rejected, _ = pull_all(world.connector(), since)
    assert rejected == []
    assert sorted(o.external_id for o in orders) == updated_since(world.state, since)


def test_a_malformed_order_is_quarantined_while_the_rest_of_the_page_goes_on(world):
    mark = world.state.now()
    changed = world.state.advance(3)
    broken = changed[0]
    world.state.corrupt(broken)
    world.clock.sleep(150)
    orders, rejected, _ = pull_all(world.connector(), mark)
    assert sorted(o.external_id for o in orders) == sorted(changed[1:])
    ((order_id, reason, raw),) = rejected
    assert order_id == broken and "not an amount" in reason and raw["order"]["AmazonOrderId"] == broken
    assert [i["OrderItemId"] for i in raw["items"]] == [i["OrderItemId"] for i in world.state.orders[broken]["items"]]


def test_the_documented_get_orders_and_get_order_items_examples_replay_against_sandbox_and_mapping(world):
    headers = {"x-amz-access-token": world.token()}
    listed = requests.get(f"{world.base}/orders/v0/orders", headers=headers, timeout=5, params={
        "MarketplaceIds": "ATVPDKIKX0DER", "CreatedAfter": "1970-01-01T00:00:00Z",
        "CreatedBefore": "1970-01-20T00:00:00Z"}).json(parse_float=Decimal)
    items = requests.get(f"{world.base}/orders/v0/orders/902-1845936-5435065/orderItems", headers=headers,
                         timeout=5).json(parse_float=Decimal)
    documented = json.loads((FIXTURES / "docs_get_orders_200.json").read_text(), parse_float=Decimal)
    documented_items = json.loads((FIXTURES / "docs_get_order_items_200.json").read_text(), parse_float=Decimal)
    served = next(o for o in listed["payload"]["Orders"] if o["AmazonOrderId"] == "902-1845936-5435065")
    expected = documented["payload"]["Orders"][0]
    assert {k: v for k, v in served.items()} == {k: expected[k] for k in served}
    assert items["payload"]["OrderItems"][0] == {k: documented_items["payload"]["OrderItems"][0][k]
                                                 for k in items["payload"]["OrderItems"][0]}
    from_sandbox = {o.external_id: o for o in normalize([listed, items])}["902-1845936-5435065"]
    from_docs = {o.external_id: o for o in normalize([documented, documented_items])}["902-1845936-5435065"]
    assert (from_sandbox.total, from_sandbox.subtotal, from_sandbox.tax, from_sandbox.status, from_sandbox.lines) == \
        (from_docs.total, from_docs.subtotal, from_docs.tax, from_docs.status, from_docs.lines)


def test_the_documented_confirm_shipment_examples_replay_against_the_sandbox(world):
    headers = {"x-amz-access-token": world.token()}
    url = f"{world.base}/orders/v0/orders/902-1106328-1059050/shipmentConfirmation"
    body = json.loads((FIXTURES / "docs_confirm_shipment_204.json").read_text())
    bad = json.loads(json.dumps(body))
    bad["packageDetail"]["shipDate"] = "02/21/2022"  # the documented 400 example
    refused = requests.post(url, json=bad, headers=headers, timeout=5)
    assert refused.status_code == 400 and refused.json()["errors"][0]["message"] == "Invalid Input"
    accepted = requests.post(url, json=body, headers=headers, timeout=5)
    assert accepted.status_code == 204 and accepted.text == ""
    assert world.state.orders["902-1106328-1059050"]["order"]["OrderStatus"] == "PartiallyShipped"


# --- stock read-back (drift check), big and broken sandboxes -----------------------------------------

def test_stock_pushed_reads_back_equal_one_sku_a_call_and_unknown_skus_are_left_out(world):
    connector = world.connector()
    skus = sorted(world.state.listings)[:4]
    assert all(r.ok for r in connector.push_stock([StockUpdate(s, 11 + n) for n, s in enumerate(skus)]))
    before = len(world.audit.calls)
    assert connector.read_stock([*skus, "NO-SUCH-SKU"]) == {s: 11 + n for n, s in enumerate(skus)}
    reads = [c for c in world.audit.calls[before:] if c.service == "amazon"]
    assert len(reads) == 5 and all("includedData=fulfillmentAvailability" in c.url for c in reads)
    assert [c.status for c in reads] == [200] * 4 + [404] and not any(c.throttled for c in reads)


def test_malformed_orders_are_rejected_among_thousands_in_several_currencies(server):
    base, mount = server
    clock = FakeClock(1000.0)
    started = time.monotonic()
    mount.app = app = create_app(seed=9, orders=5000, clock=clock, malformed_order_rate=0.05)
    assert time.monotonic() - started < 5
    state = app.extensions["sandbox"]
    broken = {i for i, r in state.orders.items() if r.get("malformed")}
    assert 150 < len(broken) < 350
    assert len({r["order"]["OrderTotal"]["CurrencyCode"] for r in state.orders.values()
                if "OrderTotal" in r["order"]}) >= 4
    world = World(base, state, clock, Faults(), MemoryAudit())
    page = world.connector().pull_orders(datetime(2000, 1, 1, tzinfo=UTC))
    ids = {o.external_id for o in page.orders} | {r[0] for r in page.rejected}
    assert {r[0] for r in page.rejected} == ids & broken
