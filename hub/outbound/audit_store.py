"""The audit trail in the database: every outbound attempt becomes an `external_calls` row."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from hub.outbound.audit import CallRecord
from hub.outbound.models import ExternalCall
from hub.timeutil import utcnow


class DbAudit:
    """Writes each record in its own short transaction, so the trail survives when the work that made
    the call is rolled back (a failed sync page is exactly when the calls matter)."""

    def __init__(self, sessions: sessionmaker[Session], *, seller_id: int | None = None,
                 channel_id: int | None = None, run_id: int | None = None) -> None:
        self.sessions, self.seller_id, self.channel_id, self.run_id = sessions, seller_id, channel_id, run_id

    def record(self, call: CallRecord) -> None:
        with self.sessions.begin() as session:
            session.add(ExternalCall(
                at=call.at, seller_id=self.seller_id, channel_id=self.channel_id, service=call.service,
                method=call.method, url=call.url, status=call.status, duration_ms=call.duration_ms,
                attempt=call.attempt, error=call.error[:200], run_id=self.run_id,
                throttled=call.throttled or call.status == 429))


def prune(session: Session, older_than_days: int) -> int:
    """Delete audit rows older than the retention; returns how many went."""
    cutoff = utcnow() - timedelta(days=older_than_days)
    return session.execute(sa.delete(ExternalCall).where(ExternalCall.at < cutoff)).rowcount or 0
