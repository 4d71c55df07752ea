"""Named locks across processes: each Locks object stands for one process (its own holder id)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hub.sync.locks import Locks
from hub.sync.models import Lease
from hub.timeutil import utcnow


def postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def leases(engine: Engine, **kw: float) -> Locks:
    """Locks in lease mode on either backend: the SQLite path, whose SQL runs on PostgreSQL too."""
    locks = Locks(engine, **kw)
    locks.advisory = False
    return locks


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def wait_for(condition, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_two_processes_cannot_hold_the_same_name_at_once(engine: Engine) -> None:
    first, second = Locks(engine), Locks(engine)
    held = first.acquire("scheduler")
    assert held is not None and held.still_held()
    assert second.acquire("scheduler") is None
    with second.hold("scheduler") as got:
        assert got is False
    held.release()
    again = second.acquire("scheduler")
    assert again is not None
    assert first.acquire("scheduler") is None
    again.release()


def test_two_threads_of_one_process_cannot_both_hold_a_name(engine: Engine) -> None:
    locks = Locks(engine)
    with locks.hold("job:1:pull") as first, locks.hold("job:1:pull") as second:
        assert first and not second
    with locks.hold("job:1:pull") as again:
        assert again


def test_other_names_are_not_blocked_by_a_held_one(engine: Engine) -> None:
    first, second = Locks(engine), Locks(engine)
    with first.hold("job:1:pull") as one, second.hold("job:1:push-inventory") as other:
        assert one and other


def test_a_lease_whose_holder_process_is_gone_is_taken_over_at_once(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.insert(Lease).values(name="scheduler", holder=f"{socket.gethostname()}:{dead_pid()}:dead",
                                             expires_at=utcnow() + timedelta(hours=1)))
    held = leases(engine).acquire("scheduler")
    assert held is not None
    held.release()


def test_a_lease_of_a_live_holder_is_respected_until_it_expires(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.insert(Lease).values(name="scheduler", holder="elsewhere:1:abc",
                                             expires_at=utcnow() + timedelta(hours=1)))
    assert leases(engine).acquire("scheduler") is None
    with engine.begin() as conn:
        conn.execute(sa.update(Lease).values(expires_at=utcnow() - timedelta(seconds=1)))
    held = leases(engine).acquire("scheduler")
    assert held is not None
    held.release()


def test_a_holder_is_told_when_its_lease_was_taken_over(engine: Engine) -> None:
    held = leases(engine, lease_seconds=0.3).acquire("scheduler")
    assert held is not None
    with engine.begin() as conn:
        conn.execute(sa.update(Lease).values(holder="elsewhere:1:abc"))
    assert wait_for(lambda: not held.still_held(), seconds=2)
    held.release()  # gives up nothing that is another's
    with engine.connect() as conn:
        assert conn.scalar(sa.select(Lease.holder)) == "elsewhere:1:abc"


def test_a_held_lease_is_renewed_past_its_length(engine: Engine) -> None:
    locks = leases(engine, lease_seconds=0.3)
    held = locks.acquire("scheduler")
    assert held is not None
    time.sleep(0.5)
    assert held.still_held()
    assert leases(engine).acquire("scheduler") is None
    held.release()
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(Lease)) == 0


def test_an_advisory_lock_is_freed_when_its_connection_dies(pg_engine: Engine) -> None:
    engine = pg_engine
    held = Locks(engine).acquire("scheduler")
    assert held is not None and held.still_held()
    assert Locks(engine).acquire("scheduler") is None
    pid = held.conn.scalar(sa.select(sa.func.pg_backend_pid()))  # type: ignore[attr-defined]
    held.conn.commit()  # type: ignore[attr-defined]
    with engine.connect() as admin:
        admin.scalar(sa.select(sa.func.pg_terminate_backend(pid)))
    taker, taken = Locks(engine), []

    def take() -> bool:
        got = taker.acquire("scheduler")
        taken.extend([got] if got else [])
        return got is not None

    assert wait_for(take)
    assert not held.still_held()
    held.release()  # on a dead connection: nothing to give up, and no error
    taken[0].release()
