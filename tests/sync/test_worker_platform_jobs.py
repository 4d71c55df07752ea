"""The leading worker's scheduler holds the jobs of payments, logistics and the outbox, at their settings' intervals.

A paused scheduler on the test database: it holds jobs but runs none, so nothing here waits."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import timedelta
from typing import Any

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

from hub.config import load_settings
from hub.sync.env import SyncEnv
from hub.sync.schedule import PRUNE_ID
from hub.sync.worker import PLATFORM_JOBS, Worker

EXPECTED = {  # id -> (function, seconds with config/defaults.toml)
    "platform:payment-notifications": ("hub.payments.jobs:apply_notifications_job", 5),
    "platform:reconcile-payments": ("hub.payments.jobs:reconcile_payments_job", 300),
    "platform:poll-tracking": ("hub.logistics.jobs:poll_tracking_job", 300),
    "platform:dispatch-outbox": ("hub.outbox.jobs:dispatch_outbox_job", 5),
    "platform:prune-outbox": ("hub.outbox.jobs:prune_outbox_job", 86400),
    "platform:pull-reviews": ("hub.reviews.jobs:pull_reviews_job", 3600),
    "platform:recompute-recommendations": ("hub.recommend.compute:recompute_job", 3600),
}


@pytest.fixture
def leading(app: Flask, env: SyncEnv) -> Iterator[Callable[..., tuple[Worker, BackgroundScheduler]]]:
    """A worker with the app's settings (and `overrides`) and its scheduler, started paused."""
    started: list[BackgroundScheduler] = []

    def make(**overrides: Any) -> tuple[Worker, BackgroundScheduler]:
        worker = Worker(env, {**app.config, **overrides})
        scheduler = worker.make_scheduler()
        scheduler.start(paused=True)
        started.append(scheduler)
        return worker, scheduler

    yield make
    for scheduler in started:
        if scheduler.running:
            scheduler.shutdown(wait=False)


def held(scheduler: BackgroundScheduler) -> Mapping[str, tuple[str, timedelta]]:
    return {job.id: (job.func_ref, job.trigger.interval) for job in scheduler.get_jobs()}


def test_every_platform_job_is_declared_in_the_settings_file_with_its_default() -> None:
    settings = load_settings(environ={})
    assert settings["PAYMENT_NOTIFY_SECONDS"] == 5
    assert settings["PAYMENT_RECONCILE_SECONDS"] == 300
    assert settings["TRACKING_POLL_SECONDS"] == 300
    assert settings["OUTBOX_DISPATCH_SECONDS"] == 5
    assert {job.id for job in PLATFORM_JOBS} == set(EXPECTED)


def test_the_leader_schedules_payments_tracking_and_the_outbox_at_their_default_intervals(leading) -> None:
    worker, scheduler = leading()
    worker._reconcile(scheduler)
    jobs = held(scheduler)
    for job_id, (func, seconds) in EXPECTED.items():
        assert jobs[job_id] == (func, timedelta(seconds=seconds)), job_id
    assert PRUNE_ID in jobs  # next to the platform's own jobs


def test_the_intervals_follow_the_settings_and_zero_leaves_a_job_off(leading) -> None:
    worker, scheduler = leading(PAYMENT_NOTIFY_SECONDS=2, PAYMENT_RECONCILE_SECONDS=0, TRACKING_POLL_SECONDS=60,
                                OUTBOX_DISPATCH_SECONDS=1)
    worker._reconcile(scheduler)
    jobs = held(scheduler)
    assert jobs["platform:payment-notifications"][1] == timedelta(seconds=2)
    assert "platform:reconcile-payments" not in jobs
    assert jobs["platform:poll-tracking"][1] == timedelta(seconds=60)
    assert jobs["platform:dispatch-outbox"][1] == timedelta(seconds=1)


def test_a_restarted_leader_keeps_the_platform_jobs_next_run_times_and_retimes_a_changed_one(leading) -> None:
    first, scheduler = leading()
    first._reconcile(scheduler)
    before = {job.id: job.next_run_time for job in scheduler.get_jobs()}
    scheduler.shutdown(wait=False)

    second, scheduler = leading(TRACKING_POLL_SECONDS=120)
    second._reconcile(scheduler)
    after = {job.id: job.next_run_time for job in scheduler.get_jobs()}
    assert held(scheduler)["platform:poll-tracking"][1] == timedelta(seconds=120)
    unchanged = set(EXPECTED) - {"platform:poll-tracking"}
    assert {i: after[i] for i in unchanged} == {i: before[i] for i in unchanged}
