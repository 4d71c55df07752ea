"""A worker pulling 5,000 orders is killed with SIGKILL at random points, several times, and restarted;
afterwards the hub holds exactly the sandbox's orders: none doubled, none lost.

The pull runs as `hub sync` in its own process against the sandbox served over HTTP by this test process;
each restart resumes from the cursor the killed process committed with its last page. `make crash-test`
runs this file alone; the suite runs it on both backends.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from hub.orders.models import Order, OrderLine
from hub.sandbox.server import running
from hub.sandbox.woocommerce import CONSUMER_KEY, CONSUMER_SECRET, WEBHOOK_SECRET, create_app
from hub.sync.models import Outcome, SyncCursor, SyncRun

ORDERS = 5_000
KILLS = 4
HUB = str(Path(sys.executable).parent / "hub")


def hub_sync(database_url: str, channel_id: int, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "HUB_DATABASE_URL": database_url, "HUB_SECRET_KEY": "test-secret-key",
           "HUB_TESTING": "true"}
    return subprocess.Popen([HUB, "sync", str(channel_id), "--job", "pull", *extra], env=env,  # noqa: S603
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def count(env, *columns) -> int:
    with env.sessions() as session:
        return session.scalar(sa.select(sa.func.count(*columns)).select_from(Order)) or 0


def test_a_pull_killed_at_random_points_and_restarted_ends_with_exactly_the_sandboxes_orders(
        env, make_channel, alice, database_url):
    seed = random.randrange(1_000_000)  # printed, so a failure can be replayed
    print(f"crash test seed {seed}")
    chaos = random.Random(seed)
    app = create_app(seed=3, orders=ORDERS)
    with running(app) as base_url:
        channel = make_channel(alice.seller_id, "woocommerce", base_url,
                               {"consumer_key": CONSUMER_KEY, "consumer_secret": CONSUMER_SECRET,
                                "webhook_secret": WEBHOOK_SECRET}, options={"per_page": 100})
        kills = 0
        first = True
        while kills < KILLS:
            process = hub_sync(database_url, channel.id, *(["--since", "2000-01-01T00:00:00Z"] if first else []))
            before = count(env)
            # Kill once the process is mid-pull: after it committed something, at a random moment.
            deadline = time.monotonic() + 60
            while count(env) == before and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(chaos.uniform(0.0, 1.5))
            if process.poll() is not None:
                break  # it finished before the kill: nothing left to crash
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            kills += 1
            first = False
        last = hub_sync(database_url, channel.id)
        output, _ = last.communicate(timeout=240)
        assert last.returncode == 0, output

    expected = {str(i): o for i, o in app.extensions["sandbox"].orders.items() if o["status"] != "trash"}
    with env.sessions() as session:
        held = session.execute(sa.select(Order.external_id, sa.func.count()).where(Order.channel_id == channel.id)
                               .group_by(Order.external_id)).all()
        lines = session.scalar(sa.select(sa.func.count()).select_from(OrderLine).join(Order)
                               .where(Order.channel_id == channel.id))
        cursor = session.get(SyncCursor, channel.id)
        runs = session.scalars(sa.select(SyncRun).where(SyncRun.channel_id == channel.id)).all()
    assert kills >= 2, f"the pull was killed only {kills} times"
    assert len(runs) == kills + 1 + (0 if kills == KILLS else 1)
    interrupted = [r for r in runs if r.message.startswith("interrupted")]
    assert len(interrupted) == kills and all(r.outcome is Outcome.FAILED for r in interrupted), \
        "each killed run is closed as failed by the next run of the job"
    assert not [r for r in runs if r.outcome is Outcome.RUNNING]
    assert all(n == 1 for _, n in held), "an order was doubled"
    assert {external_id for external_id, _ in held} == set(expected), "orders were lost or invented"
    assert lines == sum(len(o["line_items"]) for o in expected.values())
    assert cursor.page_cursor is None and cursor.watermark is not None, "the last pass completed"
