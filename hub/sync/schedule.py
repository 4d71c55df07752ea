"""What the scheduler should hold, and making its job store say so.

One interval job per active channel and job its connector can run, every `Channel.schedule[job]` seconds
(SYNC_<JOB>_SECONDS by default; 0 or less: not scheduled, "sync now" only), plus the platform's daily
audit prune and the exchange-rate refresh (every FX_REFRESH_SECONDS). `reconcile` adds what is missing,
re-times what changed and removes what is no longer wanted; it leaves everything else alone, so a restart or
a takeover keeps each job's next run time.

Jobs name their function by text (the store pickles only that): hub.sync.worker runs them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine

from hub.channels.models import Channel
from hub.sync.env import SyncEnv
from hub.sync.jobs import jobs_for
from hub.sync.models import Job

log = logging.getLogger(__name__)

JOB_TABLE = "apscheduler_jobs"  # created by the migrations, not by the store
SYNC_FUNC = "hub.sync.worker:scheduled_job"
PRUNE_FUNC = "hub.sync.worker:prune_audit"
PRUNE_ID = "platform:prune-audit"
FX_FUNC = "hub.sync.worker:refresh_rates"
FX_ID = "platform:refresh-rates"
SALES_FUNC = "hub.sync.worker:refresh_sales_job"
SALES_ID = "platform:refresh-sales"
SYNC_PREFIX = "sync:"


class JobStore(SQLAlchemyJobStore):
    def __init__(self, engine: Engine) -> None:
        super().__init__(engine=engine, tablename=JOB_TABLE)

    def shutdown(self) -> None:
        # The base class disposes the engine: here it is the hub's, still used by running jobs and the locks.
        pass


def job_id(channel_id: int, job: Job) -> str:
    return f"{SYNC_PREFIX}{channel_id}:{job.value}"


def interval(env: SyncEnv, channel: Channel, job: Job) -> int:
    default = env.settings.intervals[job]
    raw = (channel.schedule or {}).get(job.value)
    if raw is None:
        return default
    try:
        return int(raw)
    except (TypeError, ValueError):
        log.warning("channel %s: schedule[%s] = %r is not a number of seconds; using %s", channel.id, job.value,
                    raw, default)
        return default


def wanted(env: SyncEnv) -> dict[str, tuple[int, Job, int]]:
    """job id -> (channel id, job, seconds) for every job that should be on the schedule now."""
    with env.sessions() as session:
        channels = session.scalars(sa.select(Channel).where(Channel.is_active).order_by(Channel.id)).all()
    result: dict[str, tuple[int, Job, int]] = {}
    for channel in channels:
        for job in jobs_for(env, channel):
            seconds = interval(env, channel, job)
            if seconds > 0:
                result[job_id(channel.id, job)] = (channel.id, job, seconds)
    return result


@dataclass(frozen=True)
class Changes:
    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)


def reconcile(env: SyncEnv, scheduler: BaseScheduler, fx_refresh_seconds: int = 0,
              sales_refresh_seconds: int = 0) -> Changes:
    want = wanted(env)
    have = {job.id: job for job in scheduler.get_jobs()}
    removed = tuple(i for i in have if i.startswith(SYNC_PREFIX) and i not in want)
    for i in removed:
        scheduler.remove_job(i)
    added: list[str] = []
    changed: list[str] = []
    for i, (channel_id, job, seconds) in want.items():
        current = have.get(i)
        trigger = IntervalTrigger(seconds=seconds, timezone=UTC)
        if current is None:
            scheduler.add_job(SYNC_FUNC, trigger, args=(channel_id, job.value), id=i, replace_existing=True,
                              name=f"{job.value} of channel {channel_id}")
            added.append(i)
        elif getattr(current.trigger, "interval", None) != timedelta(seconds=seconds):
            # A new interval counts from now; an unchanged one keeps its stored next run time.
            scheduler.reschedule_job(i, trigger=trigger)
            changed.append(i)
    if PRUNE_ID not in have:
        scheduler.add_job(PRUNE_FUNC, IntervalTrigger(days=1, timezone=UTC), id=PRUNE_ID, replace_existing=True,
                          name="prune the outbound audit", next_run_time=datetime.now(UTC) + timedelta(minutes=1))
        added.append(PRUNE_ID)
    # The exchange-rate refresh (FX_REFRESH_SECONDS) comes soon after the worker first leads, so a fresh install
    # has today's rates; the overview's sales summary (SALES_REFRESH_SECONDS) likewise.
    _reconcile_periodic(scheduler, have, FX_ID, FX_FUNC, "refresh the exchange rates", fx_refresh_seconds,
                        added, changed)
    _reconcile_periodic(scheduler, have, SALES_ID, SALES_FUNC, "refresh the sales summary", sales_refresh_seconds,
                        added, changed)
    return Changes(tuple(added), tuple(changed), removed)


def _reconcile_periodic(scheduler: BaseScheduler, have: dict[str, object], job_id: str, func: str, name: str,
                        seconds: int, added: list[str], changed: list[str]) -> None:
    """A platform job every `seconds` (0 or less: not scheduled; its CLI or caller runs it on demand)."""
    current = have.get(job_id)
    if seconds <= 0:
        if current is not None:
            scheduler.remove_job(job_id)
            changed.append(job_id)
        return
    trigger = IntervalTrigger(seconds=seconds, timezone=UTC)
    if current is None:
        scheduler.add_job(func, trigger, id=job_id, replace_existing=True, name=name,
                          next_run_time=datetime.now(UTC) + timedelta(seconds=30))
        added.append(job_id)
    elif getattr(getattr(current, "trigger", None), "interval", None) != timedelta(seconds=seconds):
        scheduler.reschedule_job(job_id, trigger=trigger)
        changed.append(job_id)
