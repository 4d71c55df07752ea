"""Every run on the record: a `sync_runs` row opened before the work and closed after it, counting what
happened, every outbound call of the run in the audit table under its id, and the channel's circuit
moved by the outcome."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from hub.outbound.audit import AuditSink, CallRecord
from hub.outbound.audit_store import DbAudit
from hub.sync.models import ChannelCircuit, CircuitState, Job, Outcome, SyncRun
from hub.timeutil import utcnow

log = logging.getLogger(__name__)

COUNTS = ("pages", "fetched", "created", "updated", "unchanged", "quarantined", "pushed", "push_failed")


class CountingAudit:
    """Passes each record on and counts calls, retries (attempt > 1) and throttled answers."""

    def __init__(self, inner: AuditSink) -> None:
        self.inner = inner
        self.calls = self.retries = self.throttled = 0

    def record(self, call: CallRecord) -> None:
        self.calls += 1
        self.retries += call.attempt > 1
        self.throttled += call.throttled or call.status == 429
        self.inner.record(call)


@dataclass
class Run:
    id: int
    seller_id: int
    channel_id: int
    job: Job
    audit: CountingAudit
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)  # what a count cannot say (a drift check's SKUs)
    outcome: Outcome = Outcome.RUNNING  # set when `recorded` closes the run

    def add(self, **amounts: int) -> None:
        for name, amount in amounts.items():
            self.counts[name] += amount


@contextmanager
def recorded(sessions: sessionmaker[Session], seller_id: int, channel_id: int, job: Job, trigger: str,
             inner_audit: AuditSink | None = None) -> Iterator[Run]:
    """Open a run, yield it for the work to count into, close it with its outcome (failed on an exception,
    which is re-raised; partial when items were quarantined or refused)."""
    with sessions.begin() as session:
        row = SyncRun(seller_id=seller_id, channel_id=channel_id, job=job, trigger=trigger)
        session.add(row)
        session.flush()
        run_id = row.id
    audit = CountingAudit(inner_audit or DbAudit(sessions, seller_id=seller_id, channel_id=channel_id, run_id=run_id))
    run = Run(run_id, seller_id, channel_id, job, audit)
    try:
        yield run
    except BaseException as exc:
        _close(sessions, run, Outcome.FAILED, f"{type(exc).__name__}: {exc}"[:2000])
        raise
    outcome = Outcome.PARTIAL if run.counts["quarantined"] or run.counts["push_failed"] else Outcome.OK
    _close(sessions, run, outcome, run.message)


def _close(sessions: sessionmaker[Session], run: Run, outcome: Outcome, message: str) -> None:
    run.outcome = outcome
    with sessions.begin() as session:
        row = session.get(SyncRun, run.id)
        row.outcome = outcome
        row.finished_at = utcnow()
        row.message = message
        row.details = run.details
        row.api_calls, row.retries, row.throttled = run.audit.calls, run.audit.retries, run.audit.throttled
        for name, value in run.counts.items():
            setattr(row, name, value)


def close_orphans(sessions: sessionmaker[Session], channel_id: int, job: Job) -> int:
    """Runs of this (channel, job) still `running` when its lock has just been taken belong to a process that
    died (killed, machine restarted): nobody else can be running them. Close them as failed, saying so."""
    with sessions.begin() as session:
        result = session.execute(sa.update(SyncRun).where(
            SyncRun.channel_id == channel_id, SyncRun.job == job, SyncRun.outcome == Outcome.RUNNING,
        ).values(outcome=Outcome.FAILED, finished_at=utcnow(),
                 message="interrupted: the process running it stopped before it finished"))
        return result.rowcount or 0


# --- circuit ---------------------------------------------------------------------------------------

def circuit_allows(session: Session, channel_id: int, seller_id: int, *, manual: bool) -> tuple[bool, str]:
    """May a run start? An open circuit lets one probe through once its pause is over; a manual run
    ("sync now") is always a probe."""
    circuit = session.get(ChannelCircuit, channel_id)
    if circuit is None or circuit.state is CircuitState.CLOSED:
        return True, ""
    if manual or circuit.retry_at is None or circuit.retry_at <= utcnow():
        circuit.state = CircuitState.HALF_OPEN
        return True, "probe"
    return False, f"circuit open until {circuit.retry_at:%Y-%m-%d %H:%M:%S} UTC after: {circuit.last_error}"


def record_outcome(session: Session, channel_id: int, seller_id: int, *, failed: bool, error: str,
                   threshold: int, pause: timedelta, max_pause: timedelta) -> ChannelCircuit:
    circuit = session.get(ChannelCircuit, channel_id)
    if circuit is None:
        circuit = ChannelCircuit(channel_id=channel_id, seller_id=seller_id, state=CircuitState.CLOSED, failures=0,
                                 last_error="")
        session.add(circuit)
    now = utcnow()
    circuit.updated_at = now
    if not failed:
        circuit.state, circuit.failures, circuit.retry_at, circuit.opened_at = CircuitState.CLOSED, 0, None, None
        return circuit
    circuit.failures += 1
    circuit.last_error = error[:2000]
    if circuit.state is CircuitState.HALF_OPEN or circuit.failures >= threshold:
        # Each failed probe doubles the pause: a marketplace down for hours is asked rarely, not every minute.
        beyond = max(circuit.failures - threshold, 0)
        wait = min(pause * (2 ** beyond), max_pause)
        if circuit.state is not CircuitState.OPEN:
            circuit.opened_at = now
        circuit.state = CircuitState.OPEN
        circuit.retry_at = now + wait
        log.warning("channel %s circuit open for %s after %d failures: %s", channel_id, wait, circuit.failures, error)
    return circuit


def prune_runs(session: Session, older_than_days: int) -> int:
    """Delete runs started before the retention (the same as their calls' in the audit table), but never a
    channel's newest run of a job, which its health shows however long ago it ran. Returns how many went."""
    cutoff = utcnow() - timedelta(days=older_than_days)
    newest = sa.select(sa.func.max(SyncRun.id)).group_by(SyncRun.channel_id, SyncRun.job)
    return session.execute(sa.delete(SyncRun).where(SyncRun.started_at < cutoff, SyncRun.id.not_in(newest))
                           .execution_options(synchronize_session=False)).rowcount or 0
