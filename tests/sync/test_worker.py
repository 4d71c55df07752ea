"""`hub worker` processes on the test database: one leads, the others stand by and take over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from hub.channels.models import Channel
from hub.sync.env import SyncEnv
from hub.sync.locks import Locks, advisory_key
from hub.sync.models import Lease, SyncRun
from hub.sync.worker import LEADER_LOCK, Worker
from hub.timeutil import utcnow
from tests.conftest import Account

ROOT = Path(__file__).resolve().parents[2]

# Fast for tests: try for the lead every 0.2 s, reconcile every 0.5 s; a failing pull never opens the circuit.
WORKER_SETTINGS = {
    "HUB_SECRET_KEY": "test-secret-key",
    "HUB_WORKER_POLL_SECONDS": "0.2",
    "HUB_WORKER_RECONCILE_SECONDS": "0.5",
    "HUB_SYNC_LEASE_SECONDS": "3",
    "HUB_SYNC_CIRCUIT_FAILURES": "1000",
}


def wait_until(condition: Callable[[], object], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


class WorkerProcess:
    def __init__(self, name: str, database_url: str, folder: Path) -> None:
        self.name = name
        self.log_path = folder / f"worker-{name}.log"
        environ = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
        environ.update(WORKER_SETTINGS, HUB_DATABASE_URL=database_url)
        with self.log_path.open("wb") as out:
            self.process = subprocess.Popen([sys.executable, "-c", "from hub.cli import main; main()", "worker"],
                                            cwd=ROOT, env=environ, stdout=out, stderr=subprocess.STDOUT)

    @property
    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def says(self, text: str, seconds: float = 10.0) -> bool:
        return wait_until(lambda: text in self.log, seconds)

    def leads(self) -> bool:
        return "state: leader" in self.log


@pytest.fixture
def start_worker(env: SyncEnv, database_url: str, tmp_path: Path) -> Iterator[Callable[[str], WorkerProcess]]:
    started: list[WorkerProcess] = []

    def start(name: str) -> WorkerProcess:
        started.append(WorkerProcess(name, database_url, tmp_path))
        return started[-1]

    yield start
    for worker in started:  # before the app fixture empties the tables under them
        if worker.process.poll() is None:
            worker.process.kill()
        worker.process.wait(10)


@pytest.fixture
def pulled_every_second(env: SyncEnv, make_account: Callable[..., Account], make_channel: Callable[..., Channel],
                        tmp_path: Path) -> Channel:
    (tmp_path / "inbox").mkdir()
    channel = make_channel(make_account().seller_id, "csv", "", name="stall",
                           options={"inbox": str(tmp_path / "inbox"), "outbox": str(tmp_path / "outbox")})
    with env.sessions.begin() as session:
        session.get(Channel, channel.id).schedule = {"pull": 1, "push-inventory": 0}
    return channel


def runs_since(env: SyncEnv, channel_id: int, moment: datetime) -> int:
    with env.sessions() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(SyncRun)
                              .where(SyncRun.channel_id == channel_id, SyncRun.started_at > moment))


def test_a_standby_worker_takes_over_within_seconds_when_the_leader_is_killed(
        env: SyncEnv, start_worker: Callable[[str], WorkerProcess], pulled_every_second: Channel) -> None:
    channel = pulled_every_second
    first, second = start_worker("first"), start_worker("second")
    assert wait_until(lambda: first.leads() or second.leads(), 15), first.log + second.log
    leader, standby = (first, second) if first.leads() else (second, first)
    assert standby.says("state: standby"), standby.log
    assert wait_until(lambda: runs_since(env, channel.id, datetime(2000, 1, 1, tzinfo=UTC)) >= 1, 10), leader.log

    leader.process.send_signal(signal.SIGKILL)
    leader.process.wait(5)
    killed_at, clock = utcnow(), time.monotonic()
    assert standby.says("state: leader", 5), standby.log
    assert time.monotonic() - clock < 5
    # The schedule goes on from the job store: the pull keeps running, now in the standby.
    assert wait_until(lambda: runs_since(env, channel.id, killed_at) >= 2, 20), standby.log
    assert f"pull of channel {channel.id}: ok" in standby.log
    assert "state: standby" not in leader.log  # it never had to wait


def test_a_worker_stopped_with_sigterm_gives_up_the_lead(env: SyncEnv,
                                                         start_worker: Callable[[str], WorkerProcess]) -> None:
    worker = start_worker("only")
    assert worker.says("state: leader", 15), worker.log
    worker.process.send_signal(signal.SIGTERM)
    assert worker.process.wait(10) == 0, worker.log
    assert "state: stopped" in worker.log
    held = Locks(env.engine).acquire(LEADER_LOCK)
    assert held is not None  # free at once, not after a lease runs out
    held.release()


def test_a_leader_that_loses_its_lock_stops_its_scheduler_and_stands_by(app: Flask, env: SyncEnv) -> None:
    settings = {**app.config, "WORKER_POLL_SECONDS": 0.05, "WORKER_RECONCILE_SECONDS": 60, "SYNC_LEASE_SECONDS": 0.3}
    worker = Worker(env, settings)
    thread = threading.Thread(target=worker.run_forever)
    thread.start()
    try:
        assert wait_until(lambda: worker.state == "leader" and worker.scheduler is not None, 5)
        scheduler = worker.scheduler
        rival, taken = Locks(env.engine), []
        if env.engine.dialect.name == "postgresql":  # the lock's connection dies: the server frees the lock
            with env.engine.connect() as conn:
                key = advisory_key(LEADER_LOCK) & 0xFFFF_FFFF_FFFF_FFFF
                conn.execute(sa.text(  # only this test database's, of the leader lock: the server is shared
                    "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1"
                    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                    " AND classid::bigint = :hi AND objid::bigint = :lo"), {"hi": key >> 32, "lo": key & 0xFFFF_FFFF})
                conn.commit()
            assert wait_until(lambda: taken.append(rival.acquire(LEADER_LOCK)) or taken[-1] is not None, 5)
        else:  # another host's worker took the lease over (the beat stalled past its expiry, say)
            with env.engine.begin() as conn:
                conn.execute(sa.update(Lease).values(holder="elsewhere:1:x", expires_at=utcnow() + timedelta(hours=1)))
        assert wait_until(lambda: worker.state == "standby", 5)
        assert not scheduler.running
    finally:
        worker.stop()
        thread.join(10)
        for held in filter(None, taken):
            held.release()
    assert worker.state == "stopped"
