"""One entry point for every sync job, whoever starts it: the scheduler, `hub sync`, "sync now" on the
dashboard. It takes the (channel, job) lock, consults the channel's circuit, records the run, opens the
connector and hands over to the job's module.

    run_job(env, channel_id, job) -> JobResult

A job function has the shape `work(env, channel, connector, run, *, since, progress)`; it counts into
`run` and commits its own transactions (a pull commits page by page).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.channels.models import Channel
from hub.sync import runs
from hub.sync.connect import capable, open_connector
from hub.sync.env import SyncEnv
from hub.sync.models import Job, Outcome

log = logging.getLogger(__name__)

# job -> (module:function, the connector capability it needs)
WORK: dict[Job, tuple[str, str]] = {
    Job.PULL: ("hub.sync.pull:pull_orders", "orders"),
    Job.PUSH_INVENTORY: ("hub.sync.push:push_inventory", "inventory"),
    Job.PUSH_PRICES: ("hub.sync.push:push_prices", "prices"),
    Job.PUSH_FULFILMENTS: ("hub.sync.fulfilment:push_fulfilments", "fulfilment"),
    Job.CHECK_DRIFT: ("hub.sync.drift:check_drift", "stock_levels"),
}

Progress = Callable[[dict[str, int]], None]


@dataclass(frozen=True)
class JobResult:
    outcome: Outcome
    run_id: int | None = None
    message: str = ""
    counts: dict[str, int] | None = None


def lock_name(channel_id: int, job: Job) -> str:
    return f"job:{channel_id}:{job.value}"


def jobs_for(env: SyncEnv, channel: Channel) -> list[Job]:
    """The jobs a channel's connector can run."""
    return [job for job, (_, capability) in WORK.items() if capable(env, channel, capability)]


def run_job(env: SyncEnv, channel_id: int, job: Job | str, *, trigger: str = "schedule",
            since: datetime | None = None, progress: Progress | None = None, connector: Any = None,
            **options: Any) -> JobResult:
    """Run one job of one channel now. `connector` replaces the one the registry would open (service tests
    pass a hand-written fake at the port)."""
    job = Job(job)
    with env.sessions() as session:
        channel = session.get(Channel, channel_id)
        if channel is None:
            return JobResult(Outcome.SKIPPED, message=f"no channel {channel_id}")
        session.expunge(channel)
    if not channel.is_active:
        return JobResult(Outcome.SKIPPED, message=f"channel {channel.name} is disabled")
    target, capability = WORK[job]
    if connector is None and not capable(env, channel, capability):
        return JobResult(Outcome.SKIPPED, message=f"{channel.kind} connectors cannot {job.value}")
    with env.locks.hold(lock_name(channel_id, job)) as held:
        if not held:
            return JobResult(Outcome.SKIPPED, message=f"{job.value} of {channel.name} is already running")
        runs.close_orphans(env.sessions, channel_id, job)
        with env.sessions.begin() as session:
            allowed, why = runs.circuit_allows(session, channel_id, channel.seller_id,
                                               manual=trigger in ("manual", "cli"))
        if not allowed:
            return JobResult(Outcome.SKIPPED, message=why)
        return _run(env, channel, job, target, trigger, since, progress, connector, options)


def _run(env: SyncEnv, channel: Channel, job: Job, target: str, trigger: str, since: datetime | None,
         progress: Progress | None, connector: Any, options: dict[str, Any]) -> JobResult:
    module, _, name = target.partition(":")
    run_ref: runs.Run | None = None
    error = ""
    try:
        with runs.recorded(env.sessions, channel.seller_id, channel.id, job, trigger) as run:
            run_ref = run
            work = getattr(importlib.import_module(module), name)
            connector = connector or open_connector(env, channel, run.audit)
            work(env, channel, connector, run, since=since, progress=progress, **options)
    except Exception as exc:  # recorded on the run and the circuit; the scheduler goes on with other channels
        error = f"{type(exc).__name__}: {exc}"
        log.warning("%s of channel %s failed: %s", job.value, channel.id, error)
    finally:
        with env.sessions.begin() as session:
            s = env.settings
            runs.record_outcome(session, channel.id, channel.seller_id, failed=bool(error), error=error,
                                threshold=s.circuit_failures, pause=s.circuit_pause, max_pause=s.circuit_max_pause)
    assert run_ref is not None or error
    # A failure before the run row existed (the database, say) has no run to take the outcome from.
    outcome = run_ref.outcome if run_ref is not None and run_ref.outcome is not Outcome.RUNNING else Outcome.FAILED
    return JobResult(outcome, run_ref.id if run_ref else None, error or (run_ref.message if run_ref else ""),
                     dict(run_ref.counts) if run_ref else None)
