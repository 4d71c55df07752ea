"""The Shopee connector against its sandbox over real HTTP."""

import copy
import hashlib
import hmac
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from hub.channels.port import Shipment, StockUpdate
from hub.channels.registry import Connection
from hub.channels.shopee import SPEC
from hub.channels.shopee.client import ShopeeError, sign
from hub.channels.shopee.connector import ShopeeConnector
from hub.channels.shopee.mapping import normalize
from hub.errors import PermanentError
from hub.outbound.audit import MemoryAudit
from hub.outbound.http import RetryPolicy
from hub.outbound.pacing import HEADROOM
from hub.sandbox.faults import Faults
from hub.sandbox.server import running
from hub.sandbox.shopee import PARTNER_ID, PARTNER_KEY, SHOP_ID, create_app
from tests.channels.shopee.fixtures import ORDER_DETAIL_BODY, body
from tests.channels.support import pull_all


class Sleeps(list):
    def __call__(self, seconds):
        self.append(seconds)


@pytest.fixture(scope="module")
def shared():
    """One sandbox for the tests that only read (stopping a server costs half a second)."""
    app = create_app(seed=11, orders=150, faults=Faults(seed=11), rate=1000, burst=1000)
    with running(app) as base:
        yield app, base


@pytest.fixture
def sandbox():
    app = create_app(seed=7, orders=150, faults=Faults(seed=7), rate=1000, burst=1000)
    with running(app) as base:
        yield app, base


def connect(app, base, audit=None, **options):
    audit, sleeps = audit or MemoryAudit(), Sleeps()
    connection = Connection(base_url=base, credentials=app.extensions["sandbox"].credentials,
                            options=options, audit=audit, sleep=sleeps)
    connector = SPEC.connector(connection)
    connector.client.http.retry = RetryPolicy(attempts=4, initial_seconds=0, max_seconds=0, jitter_seconds=0)
    return connector, audit, sleeps




def test_a_full_pull_returns_every_order_exactly_once_across_15_day_windows_and_pages(shared):
    app, base = shared
    connector, audit, _ = connect(app, base)
    orders, rejected, pages = pull_all(connector, datetime.now(UTC) - timedelta(days=70),
                                       fresh=lambda: connect(app, base, audit)[0])
    state = app.extensions["sandbox"]
    assert rejected == []
    assert sorted(o.external_id for o in orders) == sorted(state.orders)
    windows = [dict(parse_qsl(urlsplit(c.url).query)) for c in audit.calls if "get_order_list" in c.url]
    assert len(windows) >= 5 and pages >= 5  # 70 days in 15-day windows
    assert all(int(w["time_to"]) - int(w["time_from"]) <= 15 * 86400 and w["page_size"] == "100" for w in windows)
    details = [dict(parse_qsl(urlsplit(c.url).query)) for c in audit.calls if "get_order_detail" in c.url]
    assert details and all(len(d["order_sn_list"].split(",")) <= 50 for d in details)
    assert all("sign=***" in c.url and "access_token=***" in c.url for c in audit.calls)


def test_an_order_repeated_across_pages_is_returned_once(sandbox):
    app, base = sandbox
    app.extensions["faults"].update(repeat_across_pages=True)
    connector, _, _ = connect(app, base)
    orders, _, _ = pull_all(connector, datetime.now(UTC) - timedelta(days=70))
    numbers = [o.external_id for o in orders]
    assert len(numbers) == len(set(numbers)) == len(app.extensions["sandbox"].orders)


def test_an_incremental_pull_returns_only_orders_updated_since(shared):
    app, base = shared
    since = datetime.now(UTC) - timedelta(days=3)
    connector, _, _ = connect(app, base)
    orders, _, _ = pull_all(connector, since)
    expected = {sn for sn, o in app.extensions["sandbox"].orders.items() if o["update_time"] >= since.timestamp()}
    assert expected and {o.external_id for o in orders} == expected


def test_stock_is_pushed_one_item_per_call_with_all_its_models_and_read_back(sandbox):
    app, base = sandbox
    connector, _, sleeps = connect(app, base)
    results = connector.push_stock([StockUpdate("MUG-BLUE", 7), StockUpdate("SCARF", 11), StockUpdate("MUG-RED", 0),
                                    StockUpdate("NO-SUCH-SKU", 1)])
    assert [(r.sku, r.ok) for r in results] == [("MUG-BLUE", True), ("SCARF", True), ("MUG-RED", True),
                                                ("NO-SUCH-SKU", False)]
    state = app.extensions["sandbox"]
    assert (state.stock[(800001, 900011)], state.stock[(800001, 900012)], state.stock[(800002, 0)]) == (7, 0, 11)
    assert [call["item_id"] for call in state.stock_calls] == [800001, 800002]
    assert sleeps == [0.2]  # paced between the two items
    read_back = requests.get(f"{base}/_sandbox/state", timeout=5).json()["stock"]
    assert {"item_id": 800002, "model_id": 0, "stock": 11} in read_back


def test_a_fulfilment_arranges_shipment_with_the_tracking_number_and_is_read_back(sandbox):
    app, base = sandbox
    state = app.extensions["sandbox"]
    sn = next(sn for sn, o in state.orders.items() if o["order_status"] == "READY_TO_SHIP")
    connector, _, _ = connect(app, base)
    connector.push_fulfilment(Shipment(sn, "J&T Express", "JT0012345678", datetime.now(UTC)))
    shipment = requests.get(f"{base}/_sandbox/state", timeout=5).json()["shipments"][sn]
    assert shipment["method"] == "non_integrated" and shipment["tracking_number"] == "JT0012345678"
    assert state.orders[sn]["order_status"] == "PROCESSED"
    with pytest.raises(ShopeeError, match="cannot arrange shipment"):
        connector.push_fulfilment(Shipment(sn, "J&T Express", "JT0012345678", datetime.now(UTC)))


def _signed_url(base, path, **overrides):
    stamp = str(int(time.time()))
    token = overrides.pop("access_token", None)
    params = {"partner_id": PARTNER_ID, "timestamp": stamp, "shop_id": SHOP_ID,
              "access_token": token or "sandbox-access-token-0"}
    params["sign"] = sign(PARTNER_KEY, PARTNER_ID, path, int(stamp), params["access_token"], SHOP_ID)
    params.update(overrides)
    return requests.get(f"{base}{path}", params={**params, "order_sn_list": "X"}, timeout=5)


def test_forged_unsigned_or_stale_requests_are_refused_as_shopee_does(shared):
    _, base = shared
    path = "/api/v2/order/get_order_detail"
    assert _signed_url(base, path).status_code == 200
    forged = _signed_url(base, path, sign="0" * 64)
    assert forged.status_code == 403 and forged.json()["error"] == "error_sign"
    assert forged.json()["message"] == "Wrong sign."
    unsigned = requests.get(f"{base}{path}", params={"partner_id": PARTNER_ID}, timeout=5)
    assert unsigned.status_code == 403 and unsigned.json()["error"] == "error_param"
    stale_stamp = int(time.time()) - 301
    stale = _signed_url(base, path, timestamp=str(stale_stamp),
                        sign=sign(PARTNER_KEY, PARTNER_ID, path, stale_stamp, "sandbox-access-token-0", SHOP_ID))
    assert stale.status_code == 403 and stale.json()["error"] == "invalid_timestamp"
    other_token = _signed_url(base, path, access_token="stolen")
    assert other_token.status_code == 403 and other_token.json()["error"] == "invalid_acceess_token"
    other_shop = _signed_url(base, path, shop_id="1")
    assert other_shop.status_code == 403 and other_shop.json()["error"] == "error_sign"  # the sign covers shop_id


def test_an_expired_access_token_is_refreshed_once_and_the_new_refresh_token_reported(sandbox):
    app, base = sandbox
    seen = []
    connector, _, _ = connect(app, base, on_tokens=seen.append)
    old_refresh = app.extensions["sandbox"].refresh_token
    requests.post(f"{base}/_sandbox/expire_token", timeout=5)
    page = connector.pull_orders(datetime.now(UTC) - timedelta(days=2))
    state = app.extensions["sandbox"]
    assert page.orders or page.next_cursor is None
    assert len(seen) == 1 and seen[0].refresh_token == state.refresh_token != old_refresh
    assert connector.refreshed_tokens.access_token == state.access_token


def test_throttled_calls_are_answered_429_and_retried(sandbox):
    app, base = sandbox
    app.extensions["faults"].update(throttle_burst=2)
    connector, audit, sleeps = connect(app, base)
    orders, _, _ = pull_all(connector, datetime.now(UTC) - timedelta(days=3))
    assert orders
    assert [c.status for c in audit.calls[:3]] == [429, 429, 200]
    assert len(sleeps) >= 2


def test_the_sandbox_bucket_throttles_a_burst_with_error_too_many_request():
    app = create_app(seed=1, orders=5, rate=0.001, burst=2)
    with running(app) as base:
        statuses = [_signed_url(base, "/api/v2/order/get_order_detail") for _ in range(3)]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert statuses[2].json()["error"] == "error_too_many_request"


def test_a_malformed_order_is_quarantined_while_the_rest_of_the_page_goes_on(sandbox):
    app, base = sandbox
    state = app.extensions["sandbox"]
    since = datetime.now(UTC) - timedelta(days=3)
    recent = [sn for sn, o in state.orders.items() if o["update_time"] >= since.timestamp()]
    broken = recent[0]
    state.orders[broken]["currency"] = "???"
    connector, _, _ = connect(app, base)
    orders, rejected, _ = pull_all(connector, since)
    assert [(sn, "currency" in reason) for sn, reason, _ in rejected] == [(broken, True)]
    assert rejected[0][2]["order_sn"] == broken
    assert {o.external_id for o in orders} == set(recent) - {broken}


def test_a_range_longer_than_15_days_is_refused_by_the_sandbox_with_shopee_error(shared):
    app, base = shared
    connector, _, _ = connect(app, base)
    now = int(time.time())
    with pytest.raises(ShopeeError, match="error_param"):
        connector.client.call("GET", "/api/v2/order/get_order_list", params={
            "time_range_field": "update_time", "time_from": now - 16 * 86400, "time_to": now, "page_size": 10})


def test_the_documented_signature_base_string_is_what_is_signed():
    # https://open.shopee.com/developer-guide/16: shop API base string example
    expected_base = "2001887/api/v2/shop/get_shop_info165571443159777174636562737266615546704c6d14701711"
    key = "any-partner-key"
    assert sign(key, "2001887", "/api/v2/shop/get_shop_info", 1655714431, "59777174636562737266615546704c6d",
                "14701711") == hmac.new(key.encode(), expected_base.encode(), hashlib.sha256).hexdigest()


def test_the_documented_detail_example_replayed_through_the_sandbox_maps_like_the_raw_body(sandbox):
    app, base = sandbox
    state = app.extensions["sandbox"]
    now = int(time.time())
    documented = body(ORDER_DETAIL_BODY)["response"]["order_list"]
    for order in copy.deepcopy(documented):
        order["update_time"] = now - 10
        state.orders[order["order_sn"]] = order
    connector, _, _ = connect(app, base)
    served = connector.client.get_order_detail([o["order_sn"] for o in documented])
    via_sandbox = normalize([served])
    direct = normalize([{"response": {"order_list": [{**o, "update_time": now - 10} for o in documented]}}])
    assert via_sandbox == direct
    assert [o.total for o in via_sandbox] == [o.total for o in direct]


def test_the_spec_is_complete_and_its_connector_has_the_claimed_capabilities():
    from hub.channels.port import capabilities_of
    from hub.channels.registry import check

    assert check(SPEC, "shopee") is SPEC and SPEC.sandbox_port == 5105
    connector = ShopeeConnector(Connection("http://127.0.0.1:1", {"partner_id": "1", "partner_key": "k",
                                                                  "shop_id": "2", "access_token": "t"}))
    assert capabilities_of(connector) == ["orders", "inventory", "stock_levels", "prices", "fulfilment", "webhooks"]


def test_orders_moved_on_by_time_are_pulled_again_with_their_new_status(sandbox):
    app, base = sandbox
    connector, _, _ = connect(app, base)
    since = datetime.now(UTC) - timedelta(seconds=2)
    moved = requests.post(f"{base}/_sandbox/tick", json={"count": 5}, timeout=5).json()["moved"]
    orders, _, _ = pull_all(connector, since)
    state = app.extensions["sandbox"]
    assert {o.external_id for o in orders} == set(moved)
    by_sn = {o.external_id: o for o in orders}
    assert all(by_sn[sn].raw["order_status"] == state.orders[sn]["order_status"] for sn in moved)


def test_the_seeded_data_holds_the_traps_the_mapping_must_survive(shared):
    app, base = shared
    connector, _, _ = connect(app, base)
    orders, rejected, _ = pull_all(connector, datetime.now(UTC) - timedelta(days=70))
    assert rejected == []
    statuses = {o.status for o in orders}
    assert {"cancelled", "paid", "pending", "fulfilled", "delivered", "partially_fulfilled"} <= statuses
    assert {o.currency for o in orders} >= {"SGD", "VND", "IDR", "BRL"}
    assert any(o.total is None for o in orders)  # unpaid orders not priced yet
    assert any(str(o.total) == "0.30000000000000004" for o in orders)
    assert any(line.quantity == 99999 for o in orders for line in o.lines)
    assert any(o.shipping_address is None for o in orders)
    assert any("IN_CANCEL" in " ".join(o.flags) for o in orders)


def test_an_order_status_push_is_verified_by_its_signature_and_read_through_the_api(shared):
    # https://open.shopee.com/developer-guide/18: Authorization = hex(HMAC-SHA256(partner key, url|body))
    app, base = shared
    url = "https://hub.example.com/webhooks/shopee"
    connector, _, _ = connect(app, base, push_url=url)
    sn = next(iter(app.extensions["sandbox"].orders))
    raw = (f'{{"data": {{"ordersn": "{sn}", "status": "READY_TO_SHIP", "update_time": 1660123177}}, '
           f'"shop_id": {SHOP_ID}, "code": 3, "timestamp": 1660123177}}').encode()
    good = hmac.new(PARTNER_KEY.encode(), url.encode() + b"|" + raw, hashlib.sha256).hexdigest()
    assert connector.verify_webhook({"Authorization": good}, raw)
    assert not connector.verify_webhook({"Authorization": good}, raw.replace(b"READY", b"SHIPD"))
    assert not connector.verify_webhook({}, raw)
    assert [o.external_id for o in connector.parse_webhook({"Authorization": good}, raw)] == [sn]
    assert connector.parse_webhook({}, b'{"code": 1, "shop_id": 1, "data": {}}') == []


def test_a_sku_map_option_skips_the_catalogue_and_model_failures_are_reported_per_sku(sandbox):
    app, base = sandbox
    connector, audit, _ = connect(app, base, sku_map={"A": [800003, 900031], "B": [800003, 999], "C": [800004, 0]},
                                  stock_pace_seconds=0)
    results = connector.push_stock([StockUpdate("A", 5), StockUpdate("B", 5), StockUpdate("C", -1)])
    assert [(r.sku, r.ok) for r in results] == [("A", True), ("B", False), ("C", False)]
    assert "model_id not found" in results[1].message
    assert not [c for c in audit.calls if "get_item_list" in c.url]
    assert app.extensions["sandbox"].stock[(800003, 900031)] == 5


def test_a_shipment_without_tracking_is_a_dropoff_and_line_quantities_are_refused(sandbox):
    app, base = sandbox
    state = app.extensions["sandbox"]
    sn = next(sn for sn, o in state.orders.items() if o["order_status"] == "READY_TO_SHIP")
    connector, _, _ = connect(app, base)
    with pytest.raises(PermanentError, match="line quantities"):
        connector.push_fulfilment(Shipment(sn, "SPX", "", datetime.now(UTC), lines=(("1", 1),)))
    connector.push_fulfilment(Shipment(sn, "SPX", "", datetime.now(UTC)))
    assert state.shipments[sn]["method"] == "dropoff" and state.shipments[sn]["tracking_number"].startswith("SPX")


def test_a_transient_error_inside_an_http_200_envelope_is_retried():
    from flask import Flask

    from hub.channels.shopee.client import ShopeeClient

    answers = [{"error": "error_server", "message": "Something wrong.", "request_id": "1"},
               {"error": "", "message": "", "request_id": "2", "response": {"order_list": []}}]
    probe = Flask("probe")
    probe.add_url_rule("/api/v2/order/get_order_detail", "detail", lambda: answers.pop(0))
    sleeps = Sleeps()
    with running(probe) as base:
        client = ShopeeClient(base, partner_id="1", partner_key="k", shop_id="2", access_token="t", sleep=sleeps)
        assert client.get_order_detail(["X"])["response"] == {"order_list": []}
    assert len(sleeps) == 1 and not answers


# --- stock read-back (drift check), pacing, throttles in the audit, big and broken shops ---------------

def test_stock_pushed_reads_back_equal_and_unknown_skus_are_left_out(sandbox, monkeypatch):
    from hub.channels.shopee import connector as module

    app, base = sandbox
    connector, audit, _ = connect(app, base)
    skus = ["MUG-BLUE", "MUG-RED", "SCARF", "BASKET-L", "CANDLE", "NON-LA"]
    assert all(r.ok for r in connector.push_stock([StockUpdate(s, 5 + n) for n, s in enumerate(skus)]))
    monkeypatch.setattr(module, "STOCK_READ_BATCH", 2)  # three items without variants: two base-info calls
    before = len(audit.calls)
    assert connector.read_stock([*skus, "NO-SUCH-SKU"]) == {s: 5 + n for n, s in enumerate(skus)}
    paths = [urlsplit(c.url).path.rsplit("/", 1)[-1] for c in audit.calls[before:]]
    assert sorted(paths) == ["get_item_base_info"] * 2 + ["get_model_list"] * 2  # MUG and BASKET


def test_a_pull_against_the_enforced_limit_is_paced_without_a_single_429():
    from tests.channels.support import FakeClock

    clock = FakeClock(float(int(time.time())))
    app = create_app(seed=7, orders=1500, clock=clock, faults=Faults(seed=7))  # 10 calls/s, burst 20
    with running(app) as base:
        audit = MemoryAudit()
        connection = Connection(base_url=base, credentials=app.extensions["sandbox"].credentials,
                                options={"clock": clock}, audit=audit, sleep=clock.sleep, clock=clock)
        orders, rejected, _ = pull_all(SPEC.connector(connection), datetime.fromtimestamp(clock.now, UTC)
                                       - timedelta(days=70))
    assert len(orders) + len(rejected) == 1500
    calls = len(audit.calls)
    assert calls > 40 and [c.status for c in audit.calls] == [200] * calls
    assert not any(c.throttled for c in audit.calls)
    rate, burst = 10 * HEADROOM, int(20 * HEADROOM)  # the client keeps under the sandbox's 10/s, burst 20
    least = (calls - burst) / rate  # the burst, then one call per token
    assert least <= sum(clock.slept) <= least + 0.002 * calls


def test_a_throttle_in_a_2xx_envelope_is_marked_throttled():
    from hub.channels.shopee.client import is_throttled
    from hub.outbound.http import Response

    assert is_throttled(Response(200, {}, '{"error": "error_too_many_request", "message": "slow down"}', "u"))
    assert not is_throttled(Response(200, {}, '{"error": "", "response": {"note": "error_too_many_request"}}', "u"))
    assert not is_throttled(Response(429, {}, '{"error": "error_too_many_request"}', "u"))  # HttpClient counts it


def test_malformed_orders_are_rejected_among_thousands_in_several_currencies():
    started = time.monotonic()
    app = create_app(seed=5, orders=5000, rate=1e6, burst=1e6, malformed_order_rate=0.03)
    assert time.monotonic() - started < 5
    state = app.extensions["sandbox"]
    assert len({o["currency"] for o in state.orders.values()}) >= 5
    with running(app) as base:
        connector, _, _ = connect(app, base)
        orders, rejects, _ = pull_all(connector, datetime.now(UTC) - timedelta(days=70))
    rejected = {r[0] for r in rejects}
    # Every order is listed; 3 % of 5,000 are malformed, whichever land where in time.
    assert len(orders) + len(rejected) == 5000 and 75 <= len(rejected) <= 225
    assert all("currency" in r[1] for r in rejects)
