"""Outbound calls leave a row each in the audit table, even when the work that made them fails."""

from datetime import timedelta

import responses
import sqlalchemy as sa

from hub.outbound.audit_store import DbAudit
from hub.outbound.http import HttpClient, RetryPolicy
from hub.outbound.models import ExternalCall
from hub.timeutil import utcnow

BASE = "https://shop.example.com/api"


@responses.activate
def test_every_attempt_is_a_row_with_the_url_redacted_and_survives_a_rolled_back_transaction(sessions, alice):
    responses.get(f"{BASE}/orders", status=503)
    responses.get(f"{BASE}/orders", json={"orders": []})
    http = HttpClient(BASE, service="shop", audit=DbAudit(sessions, seller_id=alice.seller_id),
                      retry=RetryPolicy(attempts=3, initial_seconds=0, jitter_seconds=0), sleep=lambda s: None)
    with sessions() as work:
        http.request("GET", "/orders", params={"access_token": "s3cret", "page": 1})
        work.rollback()  # the sync page that made the call failed; the trail stays
    with sessions() as session:
        rows = session.scalars(sa.select(ExternalCall).order_by(ExternalCall.id)).all()
    assert [(r.status, r.attempt, r.seller_id) for r in rows] == [(503, 1, alice.seller_id), (200, 2, alice.seller_id)]
    assert all("s3cret" not in r.url and "page=1" in r.url for r in rows)


def test_pruning_removes_only_rows_older_than_the_retention(app, sessions):
    now = utcnow()
    with sessions.begin() as session:
        for days in (1, 29, 31, 90):
            session.add(ExternalCall(at=now - timedelta(days=days), service="fx", method="GET", url="https://x",
                                     status=200, duration_ms=5, attempt=1))
    result = app.test_cli_runner().invoke(args=["audit", "prune"])
    assert result.exit_code == 0 and "removed 2 audit rows and 0 sync runs older than 30 days" in result.output
    with sessions() as session:
        left = sorted((now - r.at).days for r in session.scalars(sa.select(ExternalCall)))
    assert left == [1, 29]


def test_pruning_refuses_a_retention_below_one_day(app):
    result = app.test_cli_runner().invoke(args=["audit", "prune", "--days", "0"])
    assert result.exit_code != 0
