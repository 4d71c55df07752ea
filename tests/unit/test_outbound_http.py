from decimal import Decimal

import pytest
import requests
import responses

from hub.errors import PermanentError, TransientError
from hub.outbound.audit import MemoryAudit
from hub.outbound.http import HttpClient, RetryPolicy, parse_retry_after, redact_url

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
