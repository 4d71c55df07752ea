"""The WooCommerce connector against its sandbox over real HTTP (plain http, so OAuth 1.0a signing).

API reference: https://woocommerce.github.io/woocommerce-rest-api-docs/
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
import responses

from hub.channels.port import ChannelOrder, Shipment, StockUpdate
from hub.channels.registry import Connection
from hub.channels.woocommerce import SPEC
from hub.channels.woocommerce.client import OAuthSigner, WooCommerceClient
from hub.channels.woocommerce.connector import BATCH_LIMIT, WooCommerceConnector
from hub.channels.woocommerce.mapping import normalize
from hub.errors import PermanentError
from hub.orders.status import OrderStatus
from hub.outbound.audit import MemoryAudit
from hub.sandbox.server import Mount, running_mount
from hub.sandbox.woocommerce import CONSUMER_KEY, CONSUMER_SECRET, WEBHOOK_SECRET, create_app, signed_webhook
from tests.channels.support import pull_all as pull_pages

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)
DOCS_EXAMPLE = Path(__file__).parent / "fixtures" / "docs_list_orders.json"


class Shifted:
    """The sandbox's clock: real time plus a shift, so data can be made 'two hours ago' and OAuth still checks."""

    def __init__(self, shift: float = 0.0) -> None:
        self.shift = shift

    def __call__(self) -> float:
        return time.time() + self.shift


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture(scope="module")
def front() -> Iterator[tuple[Mount, str]]:
    """One server for the module, a fresh sandbox app mounted per test."""
    with running_mount("woocommerce-front") as mounted:
        yield mounted


@pytest.fixture
def serve(front: tuple[Mount, str]) -> Callable[[Any], str]:
    mount, base_url = front

    def serve(app: Any) -> str:
        mount.app = app
        return base_url

    return serve


@pytest.fixture
def sandbox(serve: Callable[[Any], str]) -> tuple[Any, str]:
    app = create_app(seed=7, orders=230)
    return app, serve(app)


def connect(base_url: str, secret: str = CONSUMER_SECRET, **options: Any) -> tuple[WooCommerceConnector, Sleeps]:
    sleeps = Sleeps()
    connection = Connection(base_url=base_url, credentials={"consumer_key": CONSUMER_KEY, "consumer_secret": secret,
                                                            "webhook_secret": WEBHOOK_SECRET},
                            options=options, audit=MemoryAudit(), sleep=sleeps)
    return WooCommerceConnector(connection), sleeps


def pull_all(connector: WooCommerceConnector, since: datetime = LONG_AGO) -> tuple[list[ChannelOrder], list, int]:
    return pull_pages(connector, since)


def visible_ids(app: Any) -> set[str]:
    return {str(i) for i, o in app.extensions["sandbox"].orders.items() if o["status"] != "trash"}


def test_the_spec_registers_the_connector_and_its_sandbox():
    assert SPEC.kind == "woocommerce" and SPEC.sandbox_port == 5102
    assert set(SPEC.capabilities) == {"orders", "inventory", "stock_levels", "prices", "fulfilment", "webhooks"}


def test_a_full_pull_returns_every_order_exactly_once_over_several_pages(sandbox):
    app, base_url = sandbox
    connector, _ = connect(base_url)
    orders, rejected, pages = pull_all(connector)
    ids = [o.external_id for o in orders]
    assert pages == 3 and not rejected
    assert len(ids) == len(set(ids)) and set(ids) == visible_ids(app)


def test_an_order_repeated_across_pages_is_returned_once(sandbox):
    app, base_url = sandbox
    app.extensions["faults"].repeat_across_pages = True
    orders, _, _ = pull_all(connect(base_url, per_page=40)[0])
    ids = [o.external_id for o in orders]
    assert len(ids) == len(set(ids)) and set(ids) == visible_ids(app)


def test_an_incremental_pull_returns_only_the_orders_modified_since(serve):
    clock = Shifted(-7200)
    app = create_app(seed=3, orders=60, clock=clock)
    state = app.extensions["sandbox"]
    clock.shift = 0
    since = datetime.now(UTC)
    changed = sorted(i for i, o in state.orders.items() if o["status"] == "processing" and not o["refunds"])[:3]
    for order_id in changed:
        state.set_status(order_id, "completed")
    orders, _, _ = pull_all(connect(serve(app))[0], since)
    assert sorted(o.external_id for o in orders) == [str(i) for i in changed]
    assert all(o.status is OrderStatus.FULFILLED and o.updated_at >= since.replace(microsecond=0) for o in orders)


def test_the_cursor_resumes_where_the_last_page_ended(sandbox):
    _, base_url = sandbox
    connector, _ = connect(base_url, per_page=50)
    first = connector.pull_orders(LONG_AGO)
    second = connect(base_url, per_page=50)[0].pull_orders(LONG_AGO, first.next_cursor)
    assert max(int(o.external_id) for o in first.orders) < min(int(o.external_id) for o in second.orders)


def test_stock_pushed_in_batches_reads_back_from_the_sandbox(sandbox):
    app, base_url = sandbox
    state = app.extensions["sandbox"]
    for n in range(150):
        state.products[500 + n] = {"id": 500 + n, "sku": f"BULK-{n}", "name": f"Bulk {n}", "manage_stock": False,
                                   "stock_quantity": None, "stock_status": "instock"}
    connector, _ = connect(base_url)
    updates = [StockUpdate("MUG-BLUE", 7), StockUpdate("NO-SUCH-SKU", 1)]
    updates += [StockUpdate(f"BULK-{n}", n) for n in range(150)]
    results = connector.push_stock(updates)
    assert [r.ok for r in results[:2]] == [True, False] and all(r.ok for r in results[2:])
    products = {p["sku"]: p for p in requests.get(f"{base_url}/_sandbox/products", timeout=5).json()}
    assert products["MUG-BLUE"]["stock_quantity"] == 7
    assert products["BULK-149"]["stock_quantity"] == 149 and products["BULK-149"]["manage_stock"] is True
    batches = [c for c in connector.connection.audit.calls if "/products/batch?" in c.url]
    assert len(batches) == -(-151 // BATCH_LIMIT)


def test_a_batch_over_the_limit_is_refused_by_the_sandbox_as_by_woocommerce(sandbox):
    _, base_url = sandbox
    client = WooCommerceClient(base_url, CONSUMER_KEY, CONSUMER_SECRET, audit=MemoryAudit(), sleep=lambda s: None)
    with pytest.raises(PermanentError) as caught:
        client.batch_products([{"id": 10, "stock_quantity": 1}] * (BATCH_LIMIT + 1))
    assert caught.value.status == 413 and "woocommerce_rest_request_entity_too_large" in str(caught.value)


def test_a_fulfilment_completes_the_order_and_notes_carrier_and_tracking(sandbox):
    app, base_url = sandbox
    state = app.extensions["sandbox"]
    order_id = next(i for i, o in state.orders.items() if o["status"] == "processing")
    connector, _ = connect(base_url)
    connector.push_fulfilment(Shipment(str(order_id), "DHL", "JD014600003SE", datetime(2026, 3, 2, 9, 0, tzinfo=UTC)))
    stored = requests.get(f"{base_url}/_sandbox/orders/{order_id}", timeout=5).json()
    assert stored["status"] == "completed" and stored["date_completed_gmt"]
    assert stored["notes"][0]["customer_note"] is True
    assert "DHL" in stored["notes"][0]["note"] and "JD014600003SE" in stored["notes"][0]["note"]


def test_an_unsigned_request_is_refused_as_a_guest(sandbox):
    _, base_url = sandbox
    answer = requests.get(f"{base_url}/wp-json/wc/v3/orders", timeout=5)
    assert answer.status_code == 401
    assert answer.json() == {"code": "woocommerce_rest_cannot_view", "message": "Sorry, you cannot list resources.",
                             "data": {"status": 401}}


def test_a_forged_signature_is_refused_with_woocommerces_error(sandbox):
    _, base_url = sandbox
    connector, _ = connect(base_url, secret="cs_not_the_secret")
    with pytest.raises(PermanentError) as caught:
        connector.pull_orders(LONG_AGO)
    assert caught.value.status == 401
    assert '"code": "woocommerce_rest_authentication_error"' in str(caught.value)
    assert "Invalid signature - provided signature does not match." in str(caught.value)


def test_a_tampered_query_breaks_the_signature(sandbox):
    _, base_url = sandbox
    prepared = requests.Request("GET", f"{base_url}/wp-json/wc/v3/orders", params={"per_page": "5"}).prepare()
    OAuthSigner(CONSUMER_KEY, CONSUMER_SECRET)(prepared)
    answer = requests.get(prepared.url.replace("per_page=5", "per_page=6"), timeout=5)
    assert answer.status_code == 401 and answer.json()["code"] == "woocommerce_rest_authentication_error"


def test_a_replayed_nonce_is_refused(sandbox):
    _, base_url = sandbox
    prepared = requests.Request("GET", f"{base_url}/wp-json/wc/v3/orders").prepare()
    OAuthSigner(CONSUMER_KEY, CONSUMER_SECRET)(prepared)
    assert requests.get(prepared.url, timeout=5).status_code == 200
    again = requests.get(prepared.url, timeout=5)
    assert again.status_code == 401
    assert again.json()["message"] == "Invalid nonce - nonce has already been used."


def test_a_stale_timestamp_is_refused(sandbox):
    _, base_url = sandbox
    prepared = requests.Request("GET", f"{base_url}/wp-json/wc/v3/orders").prepare()
    OAuthSigner(CONSUMER_KEY, CONSUMER_SECRET, clock=lambda: time.time() - 16 * 60)(prepared)
    answer = requests.get(prepared.url, timeout=5)
    assert answer.status_code == 401 and answer.json()["message"] == "Invalid timestamp."


@responses.activate
def test_over_https_the_client_uses_basic_auth_and_no_oauth_parameters():
    responses.get("https://shop.example/wp-json/wc/v3/orders", json=[], headers={"X-WP-TotalPages": "0"})
    client = WooCommerceClient("https://shop.example", "ck_1", "cs_2", audit=MemoryAudit(), sleep=lambda s: None)
    client.list_orders(modified_after="2026-01-01T00:00:00", page=1)
    sent = responses.calls[0].request
    assert sent.headers["Authorization"] == "Basic Y2tfMTpjc18y"
    assert "oauth_signature" not in sent.url and "dates_are_gmt=true" in sent.url and "orderby=id" in sent.url


def test_throttling_is_answered_by_waiting_and_retrying(sandbox):
    app, base_url = sandbox
    app.extensions["faults"].throttle_burst = 2
    connector, sleeps = connect(base_url)
    page = connector.pull_orders(LONG_AGO)
    assert len(page.orders) == 100
    assert len(sleeps) == 2 and all(s >= 1 for s in sleeps)


def test_the_rate_limit_headers_are_read_and_a_429_waits_for_the_window(serve):
    clock = Shifted()
    app = create_app(seed=1, orders=30, clock=clock, rate_limit=(2, 10))
    base_url = serve(app)
    connector, sleeps = connect(base_url, per_page=10)
    connector.pull_orders(LONG_AGO)
    assert connector.client.last_rate_limit["RateLimit-Limit"] == "2"
    assert connector.client.last_rate_limit["RateLimit-Remaining"] == "1"
    connector.pull_orders(LONG_AGO)
    original = connector.connection.sleep

    def wait(seconds: float) -> None:
        original(seconds)
        clock.shift += seconds  # the window passes without really sleeping

    connector.client.http.sleep = wait
    assert connector.pull_orders(LONG_AGO).orders
    assert sleeps and sleeps[-1] >= 1


def test_server_errors_and_cut_bodies_are_retried(sandbox):
    app, base_url = sandbox
    app.extensions["faults"].update(error_rate=0.2, malformed_rate=0.2, seed=11)
    orders, _, _ = pull_all(connect(base_url, per_page=25)[0])
    assert {o.external_id for o in orders} == visible_ids(app)


def test_a_malformed_order_is_quarantined_while_the_rest_of_the_page_goes_on(sandbox):
    app, base_url = sandbox
    state = app.extensions["sandbox"]
    broken = sorted(i for i, o in state.orders.items() if o["status"] != "trash")[3]
    state.corrupt(broken, total="n/a")
    page = connect(base_url)[0].pull_orders(LONG_AGO)
    assert [(r[0], r[2]["id"]) for r in page.rejected] == [(str(broken), broken)]
    assert "total" in page.rejected[0][1]
    assert len(page.orders) == 99 and str(broken) not in {o.external_id for o in page.orders}


def test_the_documented_example_replayed_through_the_sandbox_maps_like_the_raw_body(serve):
    documented = json.loads(DOCS_EXAMPLE.read_text(encoding="utf-8"), parse_float=Decimal)
    clock = Shifted()
    app = create_app(seed=1, orders=0, clock=clock)
    state = app.extensions["sandbox"]
    for raw in documented:
        state.orders[raw["id"]] = json.loads(json.dumps(raw, default=str))
    base_url = serve(app)
    answer = requests.get(f"{base_url}/wp-json/wc/v3/orders/727", timeout=5)
    assert answer.status_code == 401  # the documented GET needs credentials like any other
    orders, rejected, _ = pull_all(connect(base_url)[0], datetime(2017, 3, 1, tzinfo=UTC))
    assert not rejected
    assert [(o.external_id, o.status, o.total) for o in orders] == [
        (o.external_id, o.status, o.total) for o in normalize([documented])]
    assert [o.status for o in orders] == [OrderStatus.PARTIALLY_REFUNDED, OrderStatus.PAID]


def test_a_signed_webhook_verifies_and_parses_and_a_tampered_one_does_not(sandbox):
    app, base_url = sandbox
    order = next(iter(app.extensions["sandbox"].orders.values()))
    headers, body = signed_webhook(order, WEBHOOK_SECRET, "order.updated")
    connector, _ = connect(base_url)
    assert connector.verify_webhook(headers, body)
    (parsed,) = connector.parse_webhook(headers, body)
    assert parsed.external_id == str(order["id"])
    assert not connector.verify_webhook(headers, body.replace(b'"status"', b'"Status"'))
    assert not connector.verify_webhook({k: v for k, v in headers.items() if "Signature" not in k}, body)


def test_the_webhook_ping_gives_no_orders(sandbox):
    _, base_url = sandbox
    connector, _ = connect(base_url)
    assert connector.parse_webhook({"X-WC-Webhook-ID": "1"}, b"webhook_id=1") == []


def test_an_order_pull_since_sends_utc_seconds_one_second_early():
    from hub.channels.woocommerce.connector import modified_after

    since = datetime(2026, 3, 1, 12, 0, 0, 500_000, tzinfo=UTC)
    assert modified_after(since) == "2026-03-01T11:59:59"
    assert modified_after(since.astimezone(timezone(timedelta(hours=9)))) == "2026-03-01T11:59:59"


def test_a_shipment_of_some_lines_only_adds_the_note(sandbox):
    app, base_url = sandbox
    state = app.extensions["sandbox"]
    order_id = next(i for i, o in state.orders.items() if o["status"] == "processing" and len(o["line_items"]) > 1)
    first = state.orders[order_id]["line_items"][0]
    connector, _ = connect(base_url)
    connector.push_fulfilment(Shipment(str(order_id), "UPS", "1Z999", datetime(2026, 3, 2, tzinfo=UTC),
                                       lines=((str(first["id"]), first["quantity"]),)))
    assert state.orders[order_id]["status"] == "processing"
    assert "1Z999" in state.notes[order_id][0]["note"]


def test_a_shipment_covering_every_line_completes_the_order(sandbox):
    app, base_url = sandbox
    state = app.extensions["sandbox"]
    order_id = next(i for i, o in state.orders.items() if o["status"] == "processing")
    lines = tuple((str(line["id"]), line["quantity"]) for line in state.orders[order_id]["line_items"])
    connect(base_url)[0].push_fulfilment(Shipment(str(order_id), "UPS", "1Z1", datetime(2026, 3, 2, tzinfo=UTC),
                                                  lines=lines))
    assert state.orders[order_id]["status"] == "completed"


def test_a_product_gone_between_lookup_and_batch_is_reported_per_sku(sandbox, monkeypatch):
    _, base_url = sandbox
    connector, _ = connect(base_url)
    monkeypatch.setattr(connector.client, "list_products_by_sku", lambda skus: [{"id": 99999, "sku": "GONE"}])
    (result,) = connector.push_stock([StockUpdate("GONE", 3)])
    assert not result.ok and result.message == "woocommerce_rest_product_invalid_id: Invalid ID."


def test_over_https_the_sandbox_checks_basic_auth_like_woocommerce():
    client = create_app(seed=1, orders=3).test_client()
    good = client.get("/wp-json/wc/v3/orders", base_url="https://shop.example",
                      auth=(CONSUMER_KEY, CONSUMER_SECRET))
    bad = client.get("/wp-json/wc/v3/orders", base_url="https://shop.example", auth=(CONSUMER_KEY, "cs_wrong"))
    assert good.status_code == 200 and len(good.get_json()) == 3
    assert bad.status_code == 401 and bad.get_json()["message"] == "Consumer secret is invalid."
    assert bad.headers["WWW-Authenticate"].startswith('Basic realm="WooCommerce API.')


def test_a_partial_set_of_oauth_parameters_is_refused_with_the_missing_names(sandbox):
    _, base_url = sandbox
    answer = requests.get(f"{base_url}/wp-json/wc/v3/orders", params={"oauth_consumer_key": CONSUMER_KEY}, timeout=5)
    assert answer.status_code == 401
    assert answer.json() == {"code": "woocommerce_rest_authentication_missing_parameter",
                             "message": "Missing OAuth parameters oauth_timestamp, oauth_nonce, oauth_signature, "
                                        "oauth_signature_method", "data": {"status": 401}}


def test_orders_moved_on_by_the_shop_are_picked_up_by_the_next_incremental_pull(serve):
    clock = Shifted(-7200)
    app = create_app(seed=5, orders=80, clock=clock)
    clock.shift = 0
    since = datetime.now(UTC)
    changed = app.extensions["sandbox"].tick(count=6)
    orders, rejected, _ = pull_all(connect(serve(app))[0], since)
    assert not rejected
    assert {o.external_id for o in orders} == {str(i) for i in changed}
    assert all(o.updated_at >= since.replace(microsecond=0) for o in orders)


def test_the_sandbox_data_covers_currencies_statuses_refunds_and_large_quantities():
    orders = normalize([json.loads(json.dumps(list(create_app(seed=42).extensions["sandbox"].orders.values())),
                                   parse_float=Decimal)])
    assert {"JPY", "KWD", "VND", "EUR"} <= {o.currency for o in orders}
    assert {OrderStatus.PENDING, OrderStatus.PAID, OrderStatus.FULFILLED, OrderStatus.CANCELLED,
            OrderStatus.REFUNDED, OrderStatus.PARTIALLY_REFUNDED} <= {o.status for o in orders}
    assert any(line.quantity == 99999 for o in orders for line in o.lines)
    assert any(o.buyer_email is None for o in orders) and any(o.shipping_address is None for o in orders)
    assert not [f for o in orders for f in o.flags if "differs" in f]


def test_the_audit_trail_holds_no_oauth_key_nonce_or_signature(sandbox):
    _, base_url = sandbox
    connector, _ = connect(base_url)
    connector.pull_orders(LONG_AGO)
    (call,) = connector.connection.audit.calls
    assert CONSUMER_KEY not in call.url and "oauth_signature=***" in call.url and "oauth_nonce=***" in call.url
    assert "modified_after=1999-12-31T23:59:59" in call.url


def test_a_server_error_has_wordpress_critical_error_body_and_unknown_routes_rest_no_route():
    app = create_app(seed=1, orders=2)
    client = app.test_client()
    missing = client.get("/wp-json/wc/v3/shipments")
    assert missing.status_code == 404 and missing.get_json()["code"] == "rest_no_route"
    app.extensions["faults"].error_rate = 1.0
    failing = client.get("/wp-json/wc/v3/orders")
    assert failing.status_code == 500 and failing.get_json()["code"] == "internal_server_error"


def test_per_page_above_one_hundred_is_refused_as_an_invalid_parameter(sandbox):
    _, base_url = sandbox
    client = WooCommerceClient(base_url, CONSUMER_KEY, CONSUMER_SECRET, audit=MemoryAudit(), sleep=lambda s: None)
    answer = client.http.request("GET", "/wp-json/wc/v3/orders", params={"per_page": "101"}, ok=(400,))
    assert answer.status == 400 and answer.json()["code"] == "rest_invalid_param"


# --- stock read-back (drift check), pacing, big and broken shops ---------------------------------------

def test_stock_pushed_reads_back_equal_in_batches_and_unknown_skus_are_left_out(sandbox, monkeypatch):
    from hub.channels.woocommerce import connector as module

    app, base_url = sandbox
    connector, _ = connect(base_url)
    skus = [p["sku"] for p in app.extensions["sandbox"].products.values()]  # 6 products
    assert all(r.ok for r in connector.push_stock([StockUpdate(s, 40 + n) for n, s in enumerate(skus)]))
    monkeypatch.setattr(module, "STOCK_READ_LIMIT", 4)  # the sandbox has too few products for 100 a call
    audit = connector.client.http.audit.inner
    before = len(audit.calls)
    assert connector.read_stock([*skus, "NO-SUCH-SKU"]) == {s: 40 + n for n, s in enumerate(skus)}
    assert len(audit.calls) - before == -(-7 // 4) == 2


def test_a_rate_limited_shop_is_paced_from_its_ratelimit_headers_without_a_single_429(serve):
    from tests.channels.support import FakeClock

    clock = FakeClock(float(int(time.time())))
    app = create_app(seed=7, orders=230, clock=clock, rate_limit=(5, 10))
    base_url = serve(app)
    audit = MemoryAudit()
    connection = Connection(base_url=base_url, credentials={"consumer_key": CONSUMER_KEY,
                                                            "consumer_secret": CONSUMER_SECRET},
                            options={"per_page": 10, "wall_clock": clock}, audit=audit, sleep=clock.sleep,
                            clock=clock)
    orders, rejected, pages = pull_all(WooCommerceConnector(connection))
    calls = -(-len(visible_ids(app)) // 10)
    assert len(orders) + len(rejected) == len(visible_ids(app)) and pages == calls
    assert [c.status for c in audit.calls] == [200] * calls and not any(c.throttled for c in audit.calls)
    # 5 calls a 10-second window: a wait for a new window after every fifth call, 10 s each at least.
    windows = (calls - 1) // 5
    assert len(clock.slept) == windows and 10 * windows <= sum(clock.slept) <= 11 * windows


def test_malformed_orders_are_rejected_into_the_page_and_thousands_of_orders_build_fast(serve):
    started = time.monotonic()
    app = create_app(seed=3, orders=5000, malformed_order_rate=0.02)
    assert time.monotonic() - started < 5
    state = app.extensions["sandbox"]
    assert len({o["currency"] for o in state.orders.values()}) >= 4
    connector, _ = connect(serve(app))
    orders, rejected, _ = pull_all(connector)
    visible = {int(i) for i in visible_ids(app)}
    assert {int(r[0]) for r in rejected} == state.malformed & visible and 50 < len(state.malformed) < 150
    assert len(orders) == len(visible - state.malformed)
