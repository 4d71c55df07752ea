"""The eBay connector against its sandbox over real HTTP (hub.sandbox.server.running_mount)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from hub.channels.ebay import SPEC
from hub.channels.ebay.client import EbayClient
from hub.channels.ebay.connector import PRICE_BATCH_LIMIT, STOCK_BATCH_LIMIT, EbayConnector
from hub.channels.ebay.mapping import map_order
from hub.channels.port import PriceUpdate, Shipment, StockUpdate
from hub.channels.registry import Connection
from hub.errors import AuthenticationFailed, PermanentError, TransientError
from hub.orders.status import OrderStatus
from hub.outbound.audit import MemoryAudit
from hub.outbound.http import RetryPolicy
from hub.sandbox import ebay as sandbox
from hub.sandbox.server import running_mount
from tests.channels.support import pull_all

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
CREDENTIALS = {"client_id": sandbox.CLIENT_ID, "client_secret": sandbox.CLIENT_SECRET,
               "refresh_token": sandbox.REFRESH_TOKEN}
FAST = RetryPolicy(attempts=4, initial_seconds=0.01, max_seconds=0.02, jitter_seconds=0)


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture(scope="module")
def server():
    """One loopback server for the module; each test mounts a fresh sandbox."""
    with running_mount("ebay-switch") as (mount, base):
        yield base, mount


@pytest.fixture
def world(clock, server):
    base, mount = server
    mount.app = app = sandbox.create_app(seed=7, orders=120, clock=clock)
    yield app.extensions["sandbox"], base


def connect(base: str, clock: Clock, *, audit: MemoryAudit | None = None, credentials=None, **options):
    connection = Connection(base_url=base, credentials=credentials or CREDENTIALS, audit=audit or MemoryAudit(),
                            sleep=lambda _: None, options={"retry": FAST, **options})
    return EbayConnector(connection, now=clock)




def test_a_full_pull_pages_through_every_order_exactly_once(world, clock):
    state, base = world
    audit, sent = MemoryAudit(), []
    connector = connect(base, clock, audit=audit, page_size=25)
    connector.client.http.session.hooks["response"].append(lambda r, *_, **__: sent.append(r.request.url))
    orders, rejected, pages = pull_all(connector, NOW - timedelta(days=89))
    ids = [o.external_id for o in orders]
    assert rejected == [] and pages == 5
    assert len(ids) == len(set(ids)) == len(state.orders)
    assert sum(1 for call in audit.calls if call.service == "ebay-identity") == 1  # the token is cached
    assert "filter=lastmodifieddate:%5B2026-08-28T12:00:00.000Z..2026-11-25T12:00:00.000Z%5D" in sent[1]
    statuses = {o.status for o in orders}
    assert {OrderStatus.PAID, OrderStatus.FULFILLED, OrderStatus.CANCELLED, OrderStatus.PENDING} <= statuses
    assert {o.currency for o in orders} >= {"USD", "GBP", "EUR"}
    assert any(o.total is None for o in orders)  # unpaid orders are imported without a total


def test_an_order_modified_while_paging_leaves_the_window_without_hiding_others(world, clock):
    state, base = world
    first_page_ids = []

    def modify_a_seen_order(page_number):
        if page_number == 1:
            seen = sorted(state.orders.values(), key=lambda o: (o["creationDate"], o["orderId"]))[:25]
            first_page_ids.extend(o["orderId"] for o in seen)
            clock.advance(minutes=5)
            state.touch(seen[3]["orderId"], orderFulfillmentStatus="FULFILLED")

    orders, _, _ = pull_all(connect(base, clock, page_size=25), NOW - timedelta(days=89),
                             between=modify_a_seen_order)
    ids = [o.external_id for o in orders]
    assert len(ids) == len(set(ids)) == len(state.orders)


def test_an_order_repeated_across_pages_is_imported_once(world, clock):
    state, base = world
    state.faults.update(repeat_across_pages=True)
    orders, _, _ = pull_all(connect(base, clock, page_size=30), NOW - timedelta(days=89))
    ids = [o.external_id for o in orders]
    assert len(ids) == len(set(ids)) == len(state.orders)


def test_an_incremental_pull_returns_only_orders_updated_since(world, clock):
    state, base = world
    since = clock.advance(hours=1)
    clock.advance(minutes=10)
    changed = sorted(state.orders)[:3]
    for order_id in changed:
        state.touch(order_id, orderFulfillmentStatus="FULFILLED")
    orders, rejected, _ = pull_all(connect(base, clock), since)
    assert sorted(o.external_id for o in orders) == changed and rejected == []
    assert all(o.updated_at == clock.now for o in orders)


def test_a_malformed_order_is_quarantined_while_the_rest_of_the_page_goes_on(world, clock):
    state, base = world
    bad_id = sorted(state.orders)[5]
    state.orders[bad_id]["orderPaymentStatus"] = "MAYBE_PAID"
    orders, rejected, _ = pull_all(connect(base, clock, page_size=50), NOW - timedelta(days=89))
    assert [(r[0], "MAYBE_PAID" in r[1]) for r in rejected] == [(bad_id, True)]
    assert rejected[0][2]["orderId"] == bad_id
    assert len(orders) == len(state.orders) - 1


def test_stock_is_pushed_in_batches_of_25_and_read_back(world, clock):
    state, base = world
    audit = MemoryAudit()
    connector = connect(base, clock, audit=audit)
    updates = [StockUpdate(sku, 100 + i) for i, sku in enumerate(sorted(state.inventory))] + [
        StockUpdate("NO-SUCH-SKU", 4)]
    results = connector.push_stock(updates)
    assert len(results) == len(updates) == 41
    assert all(r.ok for r in results[:-1])
    assert not results[-1].ok and "25710" in results[-1].message
    bulk_calls = [c for c in audit.calls if c.url.endswith("bulk_update_price_quantity")]
    assert len(bulk_calls) == 2 and STOCK_BATCH_LIMIT == 25
    first = sorted(state.inventory)[0]
    assert state.inventory[first] == 100
    read = connector.client.get_inventory_item(first)
    assert read["availability"]["shipToLocationAvailability"]["quantity"] == 100


def test_stock_updates_the_listed_offers_when_their_ids_are_known(world, clock):
    state, base = world
    offer_id, offer = next(iter(state.offers.items()))
    connector = connect(base, clock, offers={offer["sku"]: [offer_id]})
    [result] = connector.push_stock([StockUpdate(offer["sku"], 3)])
    assert result.ok and state.offers[offer_id]["availableQuantity"] == 3 and state.inventory[offer["sku"]] == 3


def test_a_shipment_of_the_whole_order_is_pushed_and_read_back(world, clock):
    state, base = world
    order_id = next(o["orderId"] for o in state.orders.values()
                    if o["orderFulfillmentStatus"] == "NOT_STARTED" and o["orderPaymentStatus"] == "PAID"
                    and o["cancelStatus"]["cancelState"] == "NONE_REQUESTED")
    connector = connect(base, clock)
    since = clock.advance(minutes=1)
    connector.push_fulfilment(Shipment(order_id, "DHL", "JD014600006281230704", clock.now))
    [record] = connector.client.get_shipping_fulfillments(order_id)["fulfillments"]
    assert (record["shippingCarrierCode"], record["shipmentTrackingNumber"]) == ("DHL", "JD014600006281230704")
    assert record["shippedDate"] == "2026-11-25T12:01:00.000Z"
    orders, _, _ = pull_all(connector, since)
    assert [(o.external_id, o.status) for o in orders] == [(order_id, OrderStatus.FULFILLED)]


def test_a_partial_shipment_leaves_the_order_partially_fulfilled(world, clock):
    state, base = world
    order = next(o for o in state.orders.values() if o["orderFulfillmentStatus"] == "NOT_STARTED"
                 and o["orderPaymentStatus"] == "PAID" and len(o["lineItems"]) > 1)
    line = order["lineItems"][0]
    connector = connect(base, clock)
    connector.push_fulfilment(Shipment(order["orderId"], "USPS", "9400111899223197428490", clock.now,
                                       lines=((line["lineItemId"], line["quantity"]),)))
    assert map_order(connector.client.get_order(order["orderId"])).status is OrderStatus.PARTIALLY_FULFILLED


def test_calls_without_a_valid_bearer_token_are_refused_as_ebay_does(world):
    _, base = world
    for headers in ({}, {"Authorization": "Bearer forged-token"}, {"Authorization": "Basic abc"}):
        answer = requests.get(f"{base}/sell/fulfillment/v1/order", headers=headers, timeout=5)
        assert answer.status_code == 401
        assert answer.json()["errors"][0]["errorId"] == 1001
    forged = base64.b64encode(f"{sandbox.CLIENT_ID}:not-the-secret".encode()).decode()
    answer = requests.post(f"{base}/identity/v1/oauth2/token", headers={"Authorization": f"Basic {forged}"},
                           data={"grant_type": "refresh_token", "refresh_token": sandbox.REFRESH_TOKEN}, timeout=5)
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"


def test_a_wrong_refresh_token_is_an_authentication_failure(world, clock):
    _, base = world
    connector = connect(base, clock, credentials={**CREDENTIALS, "refresh_token": "v^1.1#stolen"})
    with pytest.raises(AuthenticationFailed, match="refresh token"):
        connector.pull_orders(NOW - timedelta(days=1))


def test_a_revoked_or_expired_token_is_minted_again_once(world, clock):
    state, base = world
    audit = MemoryAudit()
    connector = connect(base, clock, audit=audit)
    connector.pull_orders(NOW - timedelta(days=1))
    state.tokens.clear()  # eBay no longer knows the token: the next call answers 401
    connector.pull_orders(NOW - timedelta(days=1))
    assert [c.status for c in audit.calls] == [200, 200, 401, 200, 200]
    client = EbayClient(connector.connection, clock=lambda: 0.0)
    client.refresh_access_token()
    client._clock = lambda: 7200.0  # past expires_in: the next call mints a new token first
    client.get_orders(filter="lastmodifieddate:[2026-11-25T00:00:00.000Z..]", limit=1, offset=0)
    assert sum(1 for c in audit.calls if c.service == "ebay-identity") == 4


def test_throttling_is_answered_with_retries(world, clock):
    state, base = world
    audit = MemoryAudit()
    connector = connect(base, clock, audit=audit)
    connector.client.refresh_access_token()
    state.faults.update(throttle_burst=2)
    page = connector.pull_orders(NOW - timedelta(days=89))
    assert page.orders
    statuses = [c.status for c in audit.calls if c.service == "ebay"]
    assert statuses == [429, 429, 200]


def test_a_spent_daily_quota_answers_429_error_2001_until_retries_give_up(world, clock):
    state, base = world
    state.quotas["fulfillment"] = 0
    with pytest.raises(TransientError) as raised:
        connect(base, clock).pull_orders(NOW - timedelta(days=1))
    assert raised.value.status == 429 and '"errorId": 2001' in raised.value.message


def test_a_filter_in_local_time_is_refused_by_the_sandbox(world, clock):
    _, base = world
    token = EbayClient(connect(base, clock).connection).refresh_access_token()
    local = "lastmodifieddate:%5B2026-11-01T10:00:00%2B01:00..%5D"
    answer = requests.get(f"{base}/sell/fulfillment/v1/order?filter={local}",
                          headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert answer.status_code == 400 and answer.json()["errors"][0]["message"].startswith("Invalid filter")


def test_the_documented_get_orders_example_replays_against_the_sandbox_and_the_mapping(clock, server):
    """The getOrders page's own filter example, `lastmodifieddate:[2016-03-21T08:25:43.511Z..]`
    (https://developer.ebay.com/api-docs/sell/fulfillment/resources/order/methods/getOrders), against a
    sandbox holding the documented order of fixtures/get_orders_page.json, in its own time."""
    fixture = json.loads((Path(__file__).parent / "fixtures" / "get_orders_page.json").read_text(encoding="utf-8"))
    documented = fixture["orders"][0]
    clock.now = datetime(2016, 4, 1, tzinfo=UTC)
    app = sandbox.create_app(seed=1, orders=0, clock=clock)
    app.extensions["sandbox"].orders[documented["orderId"]] = documented
    base, mount = server
    mount.app = app
    client = EbayClient(connect(base, clock).connection)
    page = client.get_orders(filter="lastmodifieddate:[2016-03-21T08:25:43.511Z..]", limit=50, offset=0)
    assert (page["total"], page["offset"], page["limit"]) == (1, 0, 50)
    assert "filter=lastmodifieddate:%5B2016-03-21T08:25:43.511Z..%5D" in page["href"]
    assert SPEC.normalize([page]) == SPEC.normalize([fixture])
    [mapped] = SPEC.normalize([page])
    assert mapped.total == Decimal("43.12") and mapped.flags == ()


def test_a_pull_resumes_from_its_cursor_in_a_new_connector(world, clock):
    state, base = world
    since = NOW - timedelta(days=89)
    first = connect(base, clock, page_size=40).pull_orders(since)
    rest, _, _ = pull_all_from(connect(base, clock, page_size=40), since, first.next_cursor)
    ids = [o.external_id for o in (*first.orders, *rest)]
    assert len(ids) == len(set(ids)) == len(state.orders)


def pull_all_from(connector, since: datetime, cursor: str):
    return pull_all(connector, since, cursor=cursor)


def test_a_cursor_from_elsewhere_is_refused(world, clock):
    _, base = world
    with pytest.raises(ValueError, match="cursor"):
        connect(base, clock).pull_orders(NOW, "bm90LWEtY3Vyc29y")


def test_a_since_older_than_90_days_is_clamped_to_what_ebay_keeps(world, clock):
    _, base = world
    sent = []
    connector = connect(base, clock)
    connector.client.http.session.hooks["response"].append(lambda r, *_, **__: sent.append(r.request.url))
    connector.pull_orders(datetime(2020, 1, 1, tzinfo=UTC))
    assert "lastmodifieddate:%5B2026-08-27T12:01:00.000Z..2026-11-25T12:00:00.000Z%5D" in sent[-1]


def test_server_errors_and_bodies_cut_in_half_are_fetched_again(world, clock):
    state, base = world
    state.faults.update(error_rate=0.3, malformed_rate=0.3, seed=3)
    orders, rejected, _ = pull_all(connect(base, clock, page_size=20), NOW - timedelta(days=89))
    ids = [o.external_id for o in orders]
    assert len(ids) == len(set(ids)) == len(state.orders) and rejected == []


def test_the_normalize_command_reads_raw_ebay_bodies_from_files():
    from click.testing import CliRunner

    from hub.channels.cli import channels_group

    fixture = Path(__file__).parent / "fixtures" / "get_orders_page.json"
    result = CliRunner().invoke(channels_group, ["normalize", "--kind", "ebay", str(fixture)])
    assert result.exit_code == 0, result.output
    [order] = json.loads(result.output[result.output.index("["):])
    assert (order["external_id"], order["total"], order["status"]) == ("6498414015!260000000562911", "43.12", "paid")


def test_the_sandbox_refuses_more_than_25_items_in_one_bulk_update(world, clock):
    state, base = world
    client = connect(base, clock).client
    too_many = [{"sku": sku, "shipToLocationAvailability": {"quantity": 1}} for sku in sorted(state.inventory)[:26]]
    with pytest.raises(PermanentError) as raised:
        client.bulk_update_price_quantity(too_many)
    assert raised.value.status == 400 and all(q != 1 for q in state.inventory.values())


def test_a_shipment_time_in_another_zone_is_sent_in_utc(world, clock):
    state, base = world
    order = next(o for o in state.orders.values() if o["orderFulfillmentStatus"] == "NOT_STARTED"
                 and o["orderPaymentStatus"] == "PAID" and o["cancelStatus"]["cancelState"] == "NONE_REQUESTED")
    shipped = datetime(2026, 11, 25, 14, 30, 15, 250000, tzinfo=timezone(timedelta(hours=2)))
    connect(base, clock).push_fulfilment(Shipment(order["orderId"], "UPS", "1Z999AA10123456784", shipped))
    assert state.fulfillments[order["orderId"]][-1]["shippedDate"] == "2026-11-25T12:30:15.250Z"


def test_a_shipment_for_a_cancelled_order_is_refused(world, clock):
    state, base = world
    order = next(o for o in state.orders.values() if o["cancelStatus"]["cancelState"] == "CANCELED")
    line = order["lineItems"][0]
    with pytest.raises(PermanentError):
        connect(base, clock).push_fulfilment(Shipment(order["orderId"], "UPS", "1Z1", clock.now,
                                                      lines=((line["lineItemId"], 1),)))
    assert order["orderId"] not in state.fulfillments


# --- prices -------------------------------------------------------------------------------------------
def offer_of(state, sku):
    return next(o for o in state.offers.values() if o["sku"] == sku)


def listed_in(state, currency, *, count=1):
    return [o["sku"] for o in state.offers.values()
            if o["pricingSummary"]["price"]["currency"] == currency and o["status"] == "PUBLISHED"][:count]


def bulk_bodies(connector):
    sent = []
    connector.client.http.session.hooks["response"].append(
        lambda r, *_, **__: sent.append(json.loads(r.request.body))
        if r.request.url.endswith("bulk_update_price_quantity") else None)
    return sent


def test_prices_are_pushed_as_decimal_strings_and_read_back_exactly(world, clock):
    state, base = world
    [usd], [gbp], [eur], [pln] = (listed_in(state, c) for c in ("USD", "GBP", "EUR", "PLN"))
    connector = connect(base, clock)
    sent = bulk_bodies(connector)
    results = connector.push_prices([
        PriceUpdate(eur, Decimal("19.99"), "EUR"), PriceUpdate(usd, Decimal("19.90"), "USD"),
        PriceUpdate(gbp, Decimal("1.5E+3"), "GBP"), PriceUpdate(pln, Decimal("7"), "PLN")])
    assert [(r.sku, r.ok, r.message) for r in results] == [(s, True, "") for s in (eur, usd, gbp, pln)]
    [body] = sent
    assert body["requests"][0] == {"sku": eur, "offers": [{"offerId": offer_of(state, eur)["offerId"],
                                                            "price": {"value": "19.99", "currency": "EUR"}}]}
    expected = {eur: ("19.99", "EUR"), usd: ("19.90", "USD"), gbp: ("1500", "GBP"), pln: ("7", "PLN")}
    for sku, (value, currency) in expected.items():
        [offer] = connector.client.get_offers(sku)["offers"]
        assert offer["pricingSummary"]["price"] == {"value": value, "currency": currency}
        assert Decimal(offer["pricingSummary"]["price"]["value"]) == Decimal(value)
    assert requests.get(f"{base}/_sandbox/state", timeout=5).json()["offers"][offer_of(state, eur)["offerId"]][
        "pricingSummary"]["price"] == {"value": "19.99", "currency": "EUR"}


def test_prices_are_pushed_at_most_25_offers_a_call(world, clock):
    state, base = world
    audit = MemoryAudit()
    connector = connect(base, clock, audit=audit)
    sent = bulk_bodies(connector)
    published = [o for o in state.offers.values() if o["status"] == "PUBLISHED"]
    updates = [PriceUpdate(o["sku"], Decimal(f"{10 + i}.50"), o["pricingSummary"]["price"]["currency"])
               for i, o in enumerate(published)]
    results = connector.push_prices(updates)
    assert len(results) == len(updates) == 39 and all(r.ok for r in results)
    assert PRICE_BATCH_LIMIT == 25 and [sum(len(r["offers"]) for r in b["requests"]) for b in sent] == [25, 14]
    assert [o["pricingSummary"]["price"]["value"] for o in published] == [f"{10 + i}.50" for i in range(39)]


def test_unknown_skus_and_refused_prices_are_reported_per_sku_while_the_rest_goes_through(world, clock):
    state, base = world
    [usd, usd2, usd3], [eur, eur2], [gbp], [pln] = (listed_in(state, "USD", count=3), listed_in(state, "EUR", count=2),
                                                    listed_in(state, "GBP"), listed_in(state, "PLN"))
    unpublished = next(o for o in state.offers.values() if o["status"] != "PUBLISHED")
    updates = [
        PriceUpdate("NO-SUCH-SKU", Decimal("5.00"), "USD"),
        PriceUpdate(usd, Decimal("12.34"), "USD"),
        PriceUpdate(usd2, Decimal("1500"), "JPY"),  # the listing is in USD
        PriceUpdate(eur, Decimal("12.345"), "EUR"),  # EUR has 2 minor units
        PriceUpdate(gbp, Decimal("12.345"), "KWD"),  # 3 decimals are right for KWD, but the listing is in GBP
        PriceUpdate(unpublished["sku"], Decimal("9.99"), unpublished["pricingSummary"]["price"]["currency"]),
        PriceUpdate(pln, Decimal("0.00"), "PLN"),
        PriceUpdate(usd3, Decimal("1500.5"), "ZZZ"),
        PriceUpdate(eur2, Decimal("24.50"), "EUR"),
    ]
    before = {u.sku: dict(offer_of(state, u.sku)["pricingSummary"]["price"]) for u in updates[2:8]}
    results = connect(base, clock).push_prices(updates)
    assert [r.sku for r in results] == [u.sku for u in updates]
    assert [r.ok for r in results] == [False, True, False, False, False, False, False, False, True]
    messages = [r.message for r in results]
    assert "25710" in messages[0] and "didn't find" in messages[0]
    assert "priced in USD, not JPY" in messages[2] and "more decimals" in messages[3]
    assert "priced in GBP, not KWD" in messages[4] and "published" in messages[5]
    assert "above zero" in messages[6] and "ZZZ" in messages[7]
    assert offer_of(state, usd)["pricingSummary"]["price"] == {"value": "12.34", "currency": "USD"}
    assert offer_of(state, eur2)["pricingSummary"]["price"] == {"value": "24.50", "currency": "EUR"}
    for sku, price in before.items():
        assert offer_of(state, sku)["pricingSummary"]["price"] == price


def test_the_sandbox_refuses_prices_ebay_would_refuse_item_by_item(world, clock):
    state, base = world
    client = connect(base, clock).client
    usd, eur, gbp = (offer_of(state, s) for s in (*listed_in(state, "USD"), *listed_in(state, "EUR"),
                                                  *listed_in(state, "GBP")))
    body = client.bulk_update_price_quantity([
        {"sku": usd["sku"],  # a JSON number, not the string eBay wants
         "offers": [{"offerId": usd["offerId"], "price": {"value": Decimal("19.99"), "currency": "USD"}}]},
        {"sku": eur["sku"], "offers": [{"offerId": eur["offerId"], "price": {"value": "19.99", "currency": "USD"}}]},
        {"sku": gbp["sku"], "offers": [{"offerId": gbp["offerId"], "price": {"value": "8.125", "currency": "GBP"}}]},
        {"sku": usd["sku"], "offers": [{"offerId": eur["offerId"], "price": {"value": "1.00", "currency": "EUR"}}]},
    ])
    assert [(r["sku"], r["statusCode"]) for r in body["responses"]] == [
        (usd["sku"], 400), (eur["sku"], 400), (gbp["sku"], 400), (usd["sku"], 404)]
    assert "decimal string" in body["responses"][0]["errors"][0]["message"]
    assert "priced in EUR" in body["responses"][1]["errors"][0]["message"]
    assert "2 decimal places" in body["responses"][2]["errors"][0]["message"]
    one_dollar = {"offerId": usd["offerId"], "price": {"value": "1.00", "currency": "USD"}}
    too_many = [{"sku": usd["sku"], "offers": [one_dollar] * 26}]
    with pytest.raises(PermanentError) as raised:
        client.bulk_update_price_quantity(too_many)
    assert raised.value.status == 400 and usd["pricingSummary"]["price"]["value"] != "1.00"


def test_a_price_push_with_a_wrong_refresh_token_is_an_authentication_failure(world, clock):
    state, base = world
    [usd] = listed_in(state, "USD")
    before = dict(offer_of(state, usd)["pricingSummary"]["price"])
    connector = connect(base, clock, credentials={**CREDENTIALS, "refresh_token": "v^1.1#stolen"})
    with pytest.raises(AuthenticationFailed, match="refresh token"):
        connector.push_prices([PriceUpdate(usd, Decimal("1.00"), "USD")])
    assert offer_of(state, usd)["pricingSummary"]["price"] == before


def test_the_spec_claims_prices():
    from hub.channels.registry import check

    assert "prices" in check(SPEC, "ebay").capabilities


# --- stock read-back (drift check) ---------------------------------------------------------------------

def test_stock_pushed_reads_back_equal_25_skus_a_call_and_unknown_skus_are_left_out(world, clock):
    from hub.channels.ebay.connector import STOCK_READ_LIMIT

    state, base = world
    audit = MemoryAudit()
    connector = connect(base, clock, audit=audit)
    skus = sorted(state.inventory)  # 40 SKUs
    assert [r.ok for r in connector.push_stock([StockUpdate(s, n + 3) for n, s in enumerate(skus)])] == [True] * 40
    before = len(audit.calls)
    read = connector.read_stock([*skus, "NO-SUCH-SKU"])
    assert read == {s: n + 3 for n, s in enumerate(skus)}
    reads = [c for c in audit.calls[before:] if c.url.endswith("/bulk_get_inventory_item")]
    assert len(reads) == len(audit.calls[before:]) == -(-41 // STOCK_READ_LIMIT) == 2
    assert connector.read_stock([]) == {}


def test_the_sandbox_refuses_more_than_25_skus_in_one_bulk_get(world, clock):
    _, base = world
    connector = connect(base, clock)
    with pytest.raises(PermanentError):
        connector.client.bulk_get_inventory_item([f"S{n}" for n in range(26)])


def test_malformed_orders_are_rejected_and_advance_ships_orders_now(clock, server):
    base, mount = server
    mount.app = app = sandbox.create_app(seed=7, orders=300, clock=clock, malformed_order_rate=0.1)
    state = app.extensions["sandbox"]
    orders, rejected, _ = pull_all(connect(base, clock, page_size=100), NOW - timedelta(days=89))
    assert {r[0] for r in rejected} == state.malformed and 10 < len(state.malformed) < 60
    assert len(orders) + len(rejected) == 300
    clock.advance(minutes=5)
    moved = requests.post(f"{base}/_sandbox/advance", json={"count": 3}, timeout=5).json()["moved"]
    changed, _, _ = pull_all(connect(base, clock), clock.now - timedelta(minutes=1))
    assert len(moved) == 3 and set(moved) - state.malformed <= {o.external_id for o in changed}
