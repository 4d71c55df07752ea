"""`hub worker`: the one process that runs the sync jobs on their schedules.

Any number of workers may run; exactly one leads. APScheduler's job store must not be shared by two
schedulers, so a worker only starts its scheduler while it holds the lock "scheduler" (an advisory lock
on PostgreSQL, a heartbeat lease elsewhere, see hub.sync.locks); the others wait as hot standbys, trying
every WORKER_POLL_SECONDS, and the first to get the lock after the leader dies takes over.

While leading, the worker reconciles the job store with the channels table every WORKER_RECONCILE_SECONDS
(hub.sync.schedule) and the platform jobs of payments, logistics, the outbox, reviews and recommendations
with the settings (PLATFORM_JOBS), and checks every WORKER_POLL_SECONDS that it still leads; when it no longer does, it
stops its scheduler at once. Each run goes through hub.sync.jobs.run_job, which takes the (channel, job)
lock, so a run never overlaps another of the same job in any process, leader or not.

Jobs are stored as a textual reference to a function of this module plus (channel id, job): the store
pickles only that, and the function finds the process's SyncEnv in `_runtime`, set by the Worker.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from types import FrameType
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy.orm import Session, sessionmaker

from hub.sync.env import SyncEnv
from hub.sync.jobs import run_job
from hub.sync.locks import Held, Locks
from hub.sync.models import Outcome
from hub.sync.schedule import Changes, JobStore, _reconcile_periodic, reconcile

log = logging.getLogger(__name__)

LEADER_LOCK = "scheduler"
OUTBOX_PRUNE_SECONDS = 86400  # published events are kept for days (OUTBOX_RETENTION_DAYS): a daily prune is plenty


@dataclass(frozen=True)
class WorkerSettings:
    poll_seconds: float  # standby: how often to try for the lead; leader: how often to check it still leads
    reconcile_seconds: float
    threads: int
    lease_seconds: float  # lease locks (SQLite): a holder that stops renewing loses them after this long
    audit_days: int
    fx_refresh_seconds: int = 0
    sales_refresh_seconds: int = 0
    fx: Mapping[str, Any] | None = None  # the FX_* settings the refresh job builds its providers from
    # Payments, logistics and the outbox (PLATFORM_JOBS): seconds between runs, 0 or less: not scheduled.
    payment_notify_seconds: int = 5
    payment_reconcile_seconds: int = 300
    tracking_poll_seconds: int = 300
    outbox_dispatch_seconds: float = 5.0  # read as a float, as `hub outbox dispatch` reads it
    outbox_prune_seconds: int = OUTBOX_PRUNE_SECONDS
    reviews_pull_seconds: int = 3600
    recommend_seconds: int = 3600

    @classmethod
    def from_settings(cls, s: Mapping[str, Any]) -> WorkerSettings:
        # Fallbacks for settings files written before these keys existed.
        return cls(poll_seconds=float(s.get("WORKER_POLL_SECONDS", 1.0)),
                   reconcile_seconds=float(s.get("WORKER_RECONCILE_SECONDS", 20.0)),
                   threads=int(s.get("WORKER_THREADS", 4)),
                   lease_seconds=float(s.get("SYNC_LEASE_SECONDS", 15.0)),
                   audit_days=int(s.get("AUDIT_RETENTION_DAYS", 30)),
                   fx_refresh_seconds=int(s.get("FX_REFRESH_SECONDS", 0)),
                   sales_refresh_seconds=int(s.get("SALES_REFRESH_SECONDS", 0)),
                   fx={k: v for k, v in s.items() if k.startswith("FX_")},
                   payment_notify_seconds=int(s.get("PAYMENT_NOTIFY_SECONDS", 5)),
                   payment_reconcile_seconds=int(s.get("PAYMENT_RECONCILE_SECONDS", 300)),
                   tracking_poll_seconds=int(s.get("TRACKING_POLL_SECONDS", 300)),
                   outbox_dispatch_seconds=float(s.get("OUTBOX_DISPATCH_SECONDS", 5.0)),
                   reviews_pull_seconds=int(s.get("REVIEWS_PULL_SECONDS", 3600)),
                   recommend_seconds=int(s.get("RECOMMEND_SECONDS", 3600)))


@dataclass(frozen=True)
class PlatformJob:
    """A job of no channel, on the schedule under a fixed id every `seconds` of WorkerSettings (0: off)."""

    id: str
    func: str  # "module:function", what the job store keeps
    name: str
    seconds: str  # the WorkerSettings field


# Besides the audit prune, the exchange rates and the sales summary (hub.sync.schedule.reconcile): the jobs of
# payments, logistics, the outbox, reviews and recommendations. Each finds this process's SyncEnv through
# `_current()`.
PLATFORM_JOBS = (
    PlatformJob("platform:payment-notifications", "hub.payments.jobs:apply_notifications_job",
                "apply stored payment notifications", "payment_notify_seconds"),
    PlatformJob("platform:reconcile-payments", "hub.payments.jobs:reconcile_payments_job",
                "reconcile payments left pending or unknown", "payment_reconcile_seconds"),
    PlatformJob("platform:poll-tracking", "hub.logistics.jobs:poll_tracking_job",
                "finish label purchases and poll tracking", "tracking_poll_seconds"),
    PlatformJob("platform:dispatch-outbox", "hub.outbox.jobs:dispatch_outbox_job",
                "deliver outbox events", "outbox_dispatch_seconds"),
    PlatformJob("platform:prune-outbox", "hub.outbox.jobs:prune_outbox_job",
                "prune published outbox events", "outbox_prune_seconds"),
    PlatformJob("platform:pull-reviews", "hub.reviews.jobs:pull_reviews_job",
                "pull channel reviews and push ratings back", "reviews_pull_seconds"),
    PlatformJob("platform:recompute-recommendations", "hub.recommend.compute:recompute_job",
                "recompute the recommendation tables", "recommend_seconds"),
)


def reconcile_platform_jobs(scheduler: BaseScheduler, settings: WorkerSettings) -> Changes:
    """Add, re-time or remove the PLATFORM_JOBS as the settings say; an unchanged job keeps its next run time."""
    have = {job.id: job for job in scheduler.get_jobs()}
    added: list[str] = []
    changed: list[str] = []
    for job in PLATFORM_JOBS:
        _reconcile_periodic(scheduler, have, job.id, job.func, job.name, getattr(settings, job.seconds), added,
                            changed)
    return Changes(tuple(added), tuple(changed))


@dataclass(frozen=True)
class _Runtime:
    env: SyncEnv
    settings: WorkerSettings


_runtime: _Runtime | None = None


def _current() -> _Runtime:
    if _runtime is None:
        raise RuntimeError("no worker runs in this process: scheduled jobs need a Worker")
    return _runtime


# --- the functions the job store refers to ------------------------------------------------------------

def scheduled_job(channel_id: int, job: str) -> None:
    try:
        result = run_job(_current().env, channel_id, job, trigger="schedule")
    except Exception:  # logged here: APScheduler's own report would not name the channel
        log.exception("%s of channel %s raised", job, channel_id)
        return
    level = logging.DEBUG if result.outcome is Outcome.SKIPPED else logging.INFO
    log.log(level, "%s of channel %s: %s%s", job, channel_id, result.outcome.value,
            f" ({result.message})" if result.message else "")


def prune_audit() -> None:
    from hub.outbound.audit_store import prune
    from hub.sync.runs import prune_runs

    runtime = _current()
    with runtime.env.sessions.begin() as session:
        removed, runs = prune(session, runtime.settings.audit_days), prune_runs(session, runtime.settings.audit_days)
    log.info("pruned %d outbound-call audit rows and %d sync runs older than %d days", removed, runs,
             runtime.settings.audit_days)


def refresh_rates() -> None:
    from hub.currency.providers import build_providers
    from hub.currency.store import refresh
    from hub.outbound.audit_store import DbAudit

    runtime = _current()
    providers = build_providers(runtime.settings.fx or {}, audit=DbAudit(runtime.env.sessions))
    result = refresh(runtime.env.sessions, providers)
    if result.ok:
        log.info("exchange rates from %s as of %s: %d new", result.provider, result.as_of, result.stored)
    else:  # the rates already stored still serve, until FX_MAX_AGE_DAYS
        log.warning("no exchange-rate provider answered: %s", "; ".join(f"{n}: {m}" for n, m in result.failures))
    convert_waiting_orders(runtime.env.sessions)


def refresh_sales_job() -> None:
    """The overview's summary of recent days, recomputed for every seller (hub.reports.refresh_sales)."""
    import sqlalchemy as sa

    from hub.accounts.models import Seller
    from hub.reports import refresh_sales

    runtime = _current()
    with runtime.env.sessions() as session:
        sellers = session.scalars(sa.select(Seller.id).order_by(Seller.id)).all()
    for seller_id in sellers:  # one transaction per seller: a big seller never holds up the others' summaries
        with runtime.env.sessions.begin() as session:
            refresh_sales(session, seller_id=seller_id)


# Orders converted per seller per refresh: a backlog is worked off over several refreshes, not in one transaction.
BACKFILL_BATCH = 5_000


def convert_waiting_orders(sessions: sessionmaker[Session]) -> int:
    """Orders that came in without a usable rate get their FX snapshot once rates are there."""
    import sqlalchemy as sa

    from hub.currency.models import OrderFx
    from hub.currency.snapshots import backfill_snapshots
    from hub.orders.models import Order

    with sessions() as session:
        sellers = session.scalars(sa.select(Order.seller_id).where(
            ~sa.exists().where(OrderFx.order_id == Order.id)).distinct()).all()
    done = 0
    for seller_id in sellers:
        with sessions.begin() as session:
            session.info["seller_id"] = seller_id
            done += backfill_snapshots(session, seller_id, limit=BACKFILL_BATCH)
    if done:
        log.info("converted %d orders that were waiting for an exchange rate", done)
    return done


# --- the worker ----------------------------------------------------------------------------------------

class Worker:
    def __init__(self, env: SyncEnv, settings: Mapping[str, Any]) -> None:
        self.settings = WorkerSettings.from_settings(settings)
        self.env = env
        # The lease length is a setting (short in tests); the job locks of run_job use it too.
        env.locks = Locks(env.engine, lease_seconds=self.settings.lease_seconds)
        self.stopping = threading.Event()
        self.state = "starting"  # standby, leader, stopped: for logs, tests and a health check
        self.scheduler: BackgroundScheduler | None = None

    def make_scheduler(self) -> BackgroundScheduler:
        global _runtime
        _runtime = _Runtime(self.env, self.settings)
        return BackgroundScheduler(
            jobstores={"default": JobStore(self.env.engine)},
            executors={"default": ThreadPoolExecutor(max_workers=self.settings.threads)},
            # One run per job at a time; runs missed while no worker led are made up once, however late.
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=UTC,
        )

    def stop(self) -> None:
        self.stopping.set()

    def run_forever(self) -> None:
        self._handle_signals()
        holder = self.env.locks.holder
        standby_said = False
        while not self.stopping.is_set():
            try:
                held = self.env.locks.acquire(LEADER_LOCK)
            except Exception as exc:  # the database is unreachable: keep trying, without a traceback a second
                log.warning("asking for the lead failed: %s", exc)
                held = None
            if held is None:
                if not standby_said:
                    self.state = "standby"
                    log.info("state: standby (%s waits for the lead)", holder)
                    standby_said = True
                self.stopping.wait(self.settings.poll_seconds)
                continue
            standby_said = False
            try:
                self._lead(held)
            except Exception:
                log.exception("the scheduler failed; giving up the lead")
                self.stopping.wait(self.settings.poll_seconds)  # no tight loop while the database is down
            finally:
                try:
                    held.release()
                except Exception:
                    log.exception("releasing the lead failed (it lapses on its own)")
        self.state = "stopped"
        log.info("state: stopped (%s)", holder)

    def _lead(self, held: Held) -> None:
        self.state = "leader"
        log.info("state: leader (%s runs the schedule)", self.env.locks.holder)
        scheduler = self.scheduler = self.make_scheduler()
        scheduler.start()
        graceful = False
        try:
            due = 0.0
            while True:
                if self.stopping.is_set():
                    graceful = True
                    return
                if not held.still_held():
                    log.warning("lost the lead; stopping the scheduler")
                    return
                if time.monotonic() >= due:
                    self._reconcile(scheduler)
                    due = time.monotonic() + self.settings.reconcile_seconds
                self.stopping.wait(self.settings.poll_seconds)
        finally:
            # Lost: stop submitting at once (runs under way finish under their own locks). Stopping: let
            # them finish first, so their runs are closed on the record.
            if scheduler.running:
                # Paused first, so its loop submits nothing to executors already shutting down.
                scheduler.pause()
                scheduler.shutdown(wait=graceful)
            self.scheduler = None

    def _reconcile(self, scheduler: BackgroundScheduler) -> None:
        try:
            changes = reconcile(self.env, scheduler, self.settings.fx_refresh_seconds,
                                self.settings.sales_refresh_seconds)
            platform = reconcile_platform_jobs(scheduler, self.settings)
            changes = Changes(changes.added + platform.added, changes.changed + platform.changed, changes.removed)
        except Exception:  # a bad moment of the database; the schedule stands, the next round tries again
            log.exception("reconciling the schedule failed")
            return
        if changes:
            log.info("schedule: added %s, changed %s, removed %s", list(changes.added), list(changes.changed),
                     list(changes.removed))

    def _handle_signals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return

        def stop(signum: int, _frame: FrameType | None) -> None:
            log.info("%s: stopping after the runs under way (again to stop at once)", signal.Signals(signum).name)
            self.stopping.set()
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
