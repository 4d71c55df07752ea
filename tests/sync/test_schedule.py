"""The job store follows the channels table, and keeps each job's next run time across restarts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

from hub.channels.models import Channel
from hub.sync.env import SyncEnv
from hub.sync.schedule import JOB_TABLE, PRUNE_ID, SYNC_FUNC, reconcile
from hub.sync.worker import Worker
from tests.conftest import Account


@pytest.fixture
def start(app: Flask, env: SyncEnv) -> Iterator[Callable[[], BackgroundScheduler]]:
    """A worker's scheduler on the test database, paused: it holds jobs but runs none."""
    started: list[BackgroundScheduler] = []

    def make() -> BackgroundScheduler:
        scheduler = Worker(env, app.config).make_scheduler()
        scheduler.start(paused=True)
        started.append(scheduler)
        return scheduler

    yield make
    for scheduler in started:
        if scheduler.running:
            scheduler.shutdown(wait=False)


@pytest.fixture
def csv_channel(make_account: Callable[..., Account], make_channel: Callable[..., Channel],
                tmp_path: Path) -> Channel:
    seller = make_account().seller_id
    return make_channel(seller, "csv", "", options={"inbox": str(tmp_path / "in"), "outbox": str(tmp_path / "out")})


def set_channel(env: SyncEnv, channel_id: int, **values: object) -> None:
    with env.sessions.begin() as session:
        session.execute(sa.update(Channel).where(Channel.id == channel_id).values(**values))


def stored(env: SyncEnv) -> dict[str, float]:
    with env.engine.connect() as conn:
        return dict(conn.execute(sa.text(f"SELECT id, next_run_time FROM {JOB_TABLE}")).all())


def test_each_job_a_channel_can_run_is_scheduled_at_its_interval(env: SyncEnv, start, csv_channel: Channel) -> None:
    set_channel(env, csv_channel.id, schedule={"pull": 7})
    scheduler = start()
    changes = reconcile(env, scheduler)
    pull, push = f"sync:{csv_channel.id}:pull", f"sync:{csv_channel.id}:push-inventory"
    assert set(changes.added) == {pull, push, PRUNE_ID}  # csv: orders and inventory, nothing else
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert jobs[pull].trigger.interval == timedelta(seconds=7)
    assert jobs[push].trigger.interval == timedelta(seconds=env.settings.intervals["push-inventory"])
    assert jobs[pull].func_ref == SYNC_FUNC and jobs[pull].args == (csv_channel.id, "pull")
    assert set(stored(env)) == {pull, push, PRUNE_ID}


def test_a_restart_keeps_every_jobs_next_run_time(env: SyncEnv, start, csv_channel: Channel) -> None:
    first = start()
    reconcile(env, first)
    before = stored(env)
    first.shutdown(wait=False)

    second = start()
    assert not reconcile(env, second)  # nothing to add, re-time or remove
    assert stored(env) == before


def test_an_interval_change_is_applied_at_the_next_reconcile(env: SyncEnv, start, csv_channel: Channel) -> None:
    scheduler = start()
    reconcile(env, scheduler)
    before = stored(env)
    set_channel(env, csv_channel.id, schedule={"pull": 60})
    changes = reconcile(env, scheduler)
    pull, push = f"sync:{csv_channel.id}:pull", f"sync:{csv_channel.id}:push-inventory"
    assert changes.changed == (pull,) and not changes.added and not changes.removed
    job = scheduler.get_job(pull)
    assert job.trigger.interval == timedelta(seconds=60)
    assert job.next_run_time <= datetime.now(job.next_run_time.tzinfo) + timedelta(seconds=60)
    assert stored(env)[push] == before[push]


def test_a_zero_interval_leaves_a_job_to_sync_now_alone(env: SyncEnv, start, csv_channel: Channel) -> None:
    scheduler = start()
    reconcile(env, scheduler)
    set_channel(env, csv_channel.id, schedule={"push-inventory": 0})
    assert reconcile(env, scheduler).removed == (f"sync:{csv_channel.id}:push-inventory",)


def test_disabled_and_deleted_channels_lose_their_jobs(env: SyncEnv, start, csv_channel: Channel,
                                                      make_channel: Callable[..., Channel], tmp_path: Path) -> None:
    other = make_channel(csv_channel.seller_id, "csv", "", name="second",
                         options={"inbox": str(tmp_path / "in2"), "outbox": str(tmp_path / "out2")})
    scheduler = start()
    reconcile(env, scheduler)
    set_channel(env, csv_channel.id, is_active=False)
    with env.sessions.begin() as session:
        session.execute(sa.delete(Channel).where(Channel.id == other.id))
    changes = reconcile(env, scheduler)
    assert sorted(changes.removed) == sorted(f"sync:{c}:{j}" for c in (csv_channel.id, other.id)
                                             for j in ("pull", "push-inventory"))
    assert set(stored(env)) == {PRUNE_ID}


def test_channels_without_a_connector_get_no_jobs(env: SyncEnv, start, make_account, make_channel) -> None:
    make_channel(make_account().seller_id, "direct", "")
    scheduler = start()
    assert reconcile(env, scheduler).added == (PRUNE_ID,)
