"""Two workers at once: the unique key and the locks keep orders and pushes single (both backends; the suite
runs on PostgreSQL too)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import sqlalchemy as sa

from hub.channels.models import Channel
from hub.orders.models import Order
from hub.outbound.audit import MemoryAudit
from hub.sandbox.server import running
from hub.sandbox.woocommerce import CONSUMER_KEY, CONSUMER_SECRET, WEBHOOK_SECRET, create_app
from hub.sync import runs
from hub.sync.connect import open_connector
from hub.sync.jobs import lock_name, run_job
from hub.sync.models import Job, Outcome
from hub.sync.pull import pull_orders

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)
CREDENTIALS = {"consumer_key": CONSUMER_KEY, "consumer_secret": CONSUMER_SECRET, "webhook_secret": WEBHOOK_SECRET}


def test_two_workers_pulling_one_channel_past_its_lock_still_never_double_an_order(env, make_channel, alice):
    app = create_app(seed=21, orders=600)
    with running(app) as base_url:
        channel = make_channel(alice.seller_id, "woocommerce", base_url, CREDENTIALS, options={"per_page": 50})
        errors: list[BaseException] = []

        def worker() -> None:
            # Straight into the pull, around run_job's lock: only the (channel, external id) key stands between.
            try:
                with env.sessions() as session:
                    row = session.get(Channel, channel.id)
                    session.expunge(row)
                with runs.recorded(env.sessions, alice.seller_id, channel.id, Job.PULL, "test",
                                   inner_audit=MemoryAudit()) as run:
                    pull_orders(env, row, open_connector(env, row, run.audit), run, since=LONG_AGO)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert errors == []
    expected = {str(i) for i, o in app.extensions["sandbox"].orders.items() if o["status"] != "trash"}
    with env.sessions() as session:
        held = session.execute(sa.select(Order.external_id, sa.func.count()).where(Order.channel_id == channel.id)
                               .group_by(Order.external_id)).all()
    assert {external_id for external_id, _ in held} == expected
    assert max(n for _, n in held) == 1


def test_a_job_running_in_another_worker_is_skipped_not_run_twice(env, make_channel, alice):
    channel = make_channel(alice.seller_id, "woocommerce", "http://127.0.0.1:9", CREDENTIALS)
    other = type(env.locks)(env.engine)  # another process's locks: another holder

    with other.hold(lock_name(channel.id, Job.PULL)) as held:
        assert held
        result = run_job(env, channel.id, "pull", trigger="cli")

    assert result.outcome is Outcome.SKIPPED and "already running" in result.message


def test_two_workers_pushing_one_channel_at_once_push_each_quantity_once(env, fake_channel, market, alice):
    from tests.integration.helpers import stocked_product
    from tests.sync.push_support import link

    for n in range(12):
        stocked_product(env.sessions, alice.actor, f"TEA-{n}", {"BER": 5})
    channel = fake_channel(alice.seller_id)
    link(env.sessions, channel)
    started = threading.Event()
    slow_push = market.push_stock

    def push_stock(updates):  # holds the job long enough for the second worker to arrive
        started.set()
        threading.Event().wait(0.5)
        return slow_push(updates)

    market.push_stock = push_stock
    results: list = []
    first = threading.Thread(target=lambda: results.append(run_job(env, channel.id, "push-inventory")))
    first.start()
    assert started.wait(10)
    results.append(run_job(env, channel.id, "push-inventory"))
    first.join()

    assert sorted(r.outcome for r in results) == sorted([Outcome.OK, Outcome.SKIPPED])
    assert len(market.stock_updates) == 12
