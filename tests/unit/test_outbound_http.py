from decimal import Decimal

import pytest
import requests
import responses

from hub.errors import PermanentError, TransientError
from hub.outbound.audit import MemoryAudit
from hub.outbound.http import HttpClient, RetryPolicy, UnreadableBody, parse_retry_after, redact_url

BASE = "https://shop.example.com/api"


def client(**kw) -> tuple[HttpClient, MemoryAudit, list[float]]:
    audit, slept = MemoryAudit(), []
    http = HttpClient(BASE, service="test", audit=audit, sleep=slept.append,
                      retry=RetryPolicy(attempts=4, initial_seconds=1, max_seconds=8, jitter_seconds=0), **kw)
    return http, audit, slept


@responses.activate
def test_transient_failures_are_retried_with_exponential_backoff_until_success():
    responses.get(f"{BASE}/orders", status=503)
    responses.get(f"{BASE}/orders", status=502)
    responses.get(f"{BASE}/orders", json={"ok": True})
    http, audit, slept = client()
    assert http.request("GET", "/orders").json() == {"ok": True}
    assert slept == [1, 2]
    assert [(c.status, c.attempt) for c in audit.calls] == [(503, 1), (502, 2), (200, 3)]


@responses.activate
def test_retry_after_is_honoured_when_longer_than_the_backoff():
    responses.get(f"{BASE}/orders", status=429, headers={"Retry-After": "7"})
    responses.get(f"{BASE}/orders", json=[])
    http, _, slept = client()
    http.request("GET", "/orders")
    assert slept == [7]


@responses.activate
def test_client_errors_are_not_retried():
    responses.get(f"{BASE}/orders", status=401, body="bad key")
    http, audit, slept = client()
    with pytest.raises(PermanentError, match="answered 401: bad key") as info:
        http.request("GET", "/orders")
    assert info.value.status == 401
    assert slept == [] and len(audit.calls) == 1


@responses.activate
def test_timeouts_are_retried_and_give_up_after_the_last_attempt():
    for _ in range(4):
        responses.get(f"{BASE}/orders", body=requests.ReadTimeout("slow"))
    http, audit, slept = client()
    with pytest.raises(TransientError, match="timed out"):
        http.request("GET", "/orders")
    assert len(audit.calls) == 4 and len(slept) == 3
    assert all(c.status is None and c.error.startswith("timeout") for c in audit.calls)


@responses.activate
def test_json_numbers_become_decimals_never_floats():
    responses.get(f"{BASE}/orders", body='{"price": 0.1, "total": 0.30000000000000004, "qty": 99999}')
    http, _, _ = client()
    body = http.request("GET", "/orders").json()
    assert body == {"price": Decimal("0.1"), "total": Decimal("0.30000000000000004"), "qty": 99999}
    assert body["price"] + Decimal("0.2") == Decimal("0.3")


@responses.activate
def test_secrets_in_the_url_never_reach_the_audit_record():
    responses.get(f"{BASE}/orders", json={})
    http, audit, _ = client()
    http.request("GET", "/orders", params={"access_token": "s3cret", "sign": "abc", "page": 2})
    assert "s3cret" not in audit.calls[0].url and "abc" not in audit.calls[0].url
    assert "page=2" in audit.calls[0].url


def test_redaction_also_drops_userinfo():
    assert redact_url("https://key:secret@h.example.com/p?consumer_secret=x&a=1") == \
        "https://h.example.com/p?consumer_secret=***&a=1"


@pytest.mark.parametrize(("header", "seconds"), [
    ("5", 5.0), ("0", 0.0), ("-3", 0.0), ("100000", 120.0), ("soon", None), (None, None),
    ("Wed, 25 Nov 2026 12:00:30 GMT", 30.0),
])
def test_retry_after_accepts_seconds_and_http_dates(header, seconds):
    from datetime import UTC, datetime

    assert parse_retry_after(header, now=datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)) == seconds


CUT = '{"orders": [{"id": 1, "total": "12.5'  # a JSON body cut short in transit


@responses.activate
def test_a_cut_body_on_a_get_is_asked_for_again_and_each_attempt_is_audited():
    responses.get(f"{BASE}/orders", body=CUT)
    responses.get(f"{BASE}/orders", body=CUT)
    responses.get(f"{BASE}/orders", body='{"orders": [], "total": 12.5}')
    http, audit, slept = client()
    body, response = http.request_json("GET", "/orders")
    assert body == {"orders": [], "total": Decimal("12.5")}
    assert response.status == 200 and response.json() == body
    assert slept == [1, 2] and len(responses.calls) == 3
    assert [(c.status, c.attempt, c.error) for c in audit.calls] == \
        [(200, 1, "body: not JSON"), (200, 2, "body: not JSON"), (200, 3, "")]


@responses.activate
def test_a_get_whose_body_stays_cut_gives_up_transient_after_the_body_attempts():
    responses.get(f"{BASE}/orders", body=CUT)
    http, audit, slept = client()  # attempts=4, body_attempts=3
    with pytest.raises(UnreadableBody, match="not JSON") as info:
        http.request_json("GET", "/orders")
    assert isinstance(info.value, TransientError) and info.value.status == 200
    assert len(audit.calls) == 3 and len(slept) == 2


@responses.activate
def test_each_cut_body_gets_the_full_budget_of_transport_retries():
    for status in (503, 503, 503, 200, 502, 502, 502, 200):
        responses.get(f"{BASE}/orders", status=status, body=CUT)
    responses.get(f"{BASE}/orders", json={"ok": True})
    http, audit, _ = client()
    assert http.request_json("GET", "/orders")[0] == {"ok": True}
    assert [c.status for c in audit.calls] == [503, 503, 503, 200, 502, 502, 502, 200, 200]
    assert [c.attempt for c in audit.calls] == list(range(1, 10))


@responses.activate
def test_transport_failures_in_a_row_after_a_cut_body_still_give_up():
    responses.get(f"{BASE}/orders", body=CUT)
    for _ in range(4):
        responses.get(f"{BASE}/orders", status=503)
    http, audit, _ = client()
    with pytest.raises(TransientError, match="answered 503"):
        http.request_json("GET", "/orders")
    assert [c.status for c in audit.calls] == [200, 503, 503, 503, 503]


@responses.activate
def test_a_cut_body_on_a_post_is_not_sent_again_unless_the_call_is_idempotent():
    responses.post(f"{BASE}/notes", body=CUT)
    http, audit, slept = client()
    with pytest.raises(PermanentError, match="not JSON") as info:
        http.request_json("POST", "/notes", json_body={"note": "shipped"})
    assert info.value.status == 200
    assert len(responses.calls) == 1 and slept == []
    assert [(c.status, c.attempt, c.error) for c in audit.calls] == [(200, 1, "body: not JSON")]


@responses.activate
def test_a_cut_body_on_a_post_marked_idempotent_is_asked_for_again():
    responses.post(f"{BASE}/graphql.json", body=CUT)
    responses.post(f"{BASE}/graphql.json", json={"data": {"orders": []}})
    http, audit, slept = client()
    body, _ = http.request_json("POST", "/graphql.json", json_body={"query": "query { orders }"}, idempotent=True)
    assert body == {"data": {"orders": []}}
    assert len(responses.calls) == 2 and slept == [1]
    assert [(c.attempt, c.error) for c in audit.calls] == [(1, "body: not JSON"), (2, "")]


@responses.activate
def test_a_get_marked_not_idempotent_is_not_asked_again():
    responses.get(f"{BASE}/orders", body=CUT)
    http, _, slept = client()
    with pytest.raises(PermanentError, match="not JSON"):
        http.request_json("GET", "/orders", idempotent=False)
    assert len(responses.calls) == 1 and slept == []


@responses.activate
def test_request_json_parses_decimals_and_leaves_204_and_accepted_errors_unparsed():
    responses.get(f"{BASE}/orders", body='{"price": 0.1, "qty": 3}')
    responses.post(f"{BASE}/shipments", status=204)
    responses.get(f"{BASE}/missing", status=404, body="<html>not found</html>")
    http, _, _ = client()
    body, _ = http.request_json("GET", "/orders")
    assert body == {"price": Decimal("0.1"), "qty": 3} and isinstance(body["qty"], int)
    assert http.request_json("POST", "/shipments", json_body={})[0] is None
    body, response = http.request_json("GET", "/missing", ok=(404,))
    assert body is None and response.status == 404


@responses.activate
def test_request_leaves_the_body_to_the_caller():
    responses.get(f"{BASE}/orders", body=CUT)
    http, audit, _ = client()
    response = http.request("GET", "/orders")
    assert len(audit.calls) == 1 and audit.calls[0].error == ""
    with pytest.raises(PermanentError, match="not JSON"):
        response.json()


@responses.activate
def test_an_answer_that_breaks_off_mid_body_is_a_transient_fault():
    responses.get(f"{BASE}/orders", body=requests.exceptions.ChunkedEncodingError("cut"))
    responses.get(f"{BASE}/orders", json={"ok": True})
    http, audit, _ = client()
    assert http.request("GET", "/orders").json() == {"ok": True}
    assert audit.calls[0].error == "body: ChunkedEncodingError"


@responses.activate
def test_json_bodies_carry_decimals_as_exact_numbers_and_refuse_floats():
    responses.post(f"{BASE}/prices", json={})
    http, _, _ = client()
    http.request("POST", "/prices", json_body={"price": Decimal("12345678901234567.89"), "name": "Žółć"})
    sent = responses.calls[0].request
    assert sent.body == '{"price": 12345678901234567.89, "name": "Žółć"}'.encode()
    assert sent.headers["Content-Type"] == "application/json"
    with pytest.raises(TypeError, match="float"):
        http.request("POST", "/prices", json_body={"price": 0.1})


@responses.activate
def test_a_429_and_a_throttle_in_a_2xx_body_are_marked_throttled_and_pace_runs_before_every_attempt():
    responses.get(f"{BASE}/orders", status=429, headers={"Retry-After": "0"})
    responses.get(f"{BASE}/orders", json={"errors": "slow down"})
    responses.get(f"{BASE}/orders", json={"ok": True})
    audit, paced = MemoryAudit(), []
    http = HttpClient(BASE, "shop", audit=audit, sleep=lambda _: None, pace=lambda: paced.append(1),
                      throttled=lambda r: "slow down" in r.text,
                      retry=RetryPolicy(initial_seconds=0, max_seconds=0, jitter_seconds=0))
    http.request_json("GET", "/orders")
    http.request_json("GET", "/orders")
    assert [(c.status, c.throttled) for c in audit.calls] == [(429, True), (200, True), (200, False)]
    assert len(paced) == 3


def test_the_pacer_lets_a_burst_through_then_waits_one_token_at_a_time():
    from hub.outbound.pacing import HEADROOM, SAFETY_SECONDS, Pacer

    now, slept = [0.0], []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    pacer = Pacer(rate=10, burst=20, clock=lambda: now[0], sleep=sleep)  # paced under: HEADROOM of both
    burst, interval = int(20 * HEADROOM), 1 / (10 * HEADROOM)
    waits = [pacer.acquire() for _ in range(burst + 5)]
    assert waits[:burst] == [0.0] * burst and waits[burst:] == pytest.approx([interval] * 5, abs=2 * SAFETY_SECONDS)
    now[0] += 100  # a long pause refills the bucket to its burst, no further
    assert [pacer.acquire() for _ in range(burst)] == [0.0] * burst and pacer.acquire() > 0
