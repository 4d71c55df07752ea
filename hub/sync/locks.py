"""Named locks across processes, through the database every process already shares.

    Locks.hold(name)      non-blocking: yields True while this process holds `name`, False if another does
    Locks.acquire(name)   non-blocking: a Held to keep past one block (the scheduler's leadership), or None;
                          Held.still_held() says whether it is still ours, Held.release() gives it up

On PostgreSQL a session-level advisory lock on a connection kept open for the block: the server frees
it the moment that connection dies, so a killed worker's locks are free at once. Elsewhere (SQLite,
the embedded default) a row in `sync_leases` with an expiry that a heartbeat thread pushes forward;
a lease whose holder process is gone (same host) or whose expiry passed may be taken over.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hub.sync.models import Lease
from hub.timeutil import utcnow

log = logging.getLogger(__name__)

LEASE_SECONDS = 15.0  # a lease nobody renews is free after this long


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for pg_try_advisory_lock."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


def holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _holder_alive(holder: str) -> bool:
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another machine's process: only its expiry tells
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Held:
    """A lock this process holds until `release()`. `lost` is set once it is known to be gone (the advisory
    lock's connection died; the lease was taken over or could not be renewed before it ran out)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.lost = threading.Event()

    def still_held(self) -> bool:
        return not self.lost.is_set()

    def release(self) -> None:
        raise NotImplementedError


class _AdvisoryHeld(Held):
    def __init__(self, name: str, key: int, conn: sa.Connection) -> None:
        super().__init__(name)
        self.key, self.conn = key, conn

    def still_held(self) -> bool:
        """Asks the server over the lock's own connection (call it from the thread that acquired): a
        connection that fails to answer has lost its session, and with it the lock."""
        if self.lost.is_set():
            return False
        unsigned = self.key & 0xFFFF_FFFF_FFFF_FFFF
        try:
            # A bigint key shows in pg_locks as classid (high half), objid (low half), objsubid 1.
            mine = self.conn.scalar(sa.text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1"
                " AND pid = pg_backend_pid() AND classid::bigint = :hi AND objid::bigint = :lo"),
                {"hi": unsigned >> 32, "lo": unsigned & 0xFFFF_FFFF})
            self.conn.commit()
        except sa.exc.DBAPIError:
            log.warning("lock %s: its connection failed; the lock is gone with it", self.name)
            mine = 0
        if not mine:
            self.lost.set()
        return bool(mine)

    def release(self) -> None:
        try:
            if not self.lost.is_set():
                self.conn.scalar(sa.select(sa.func.pg_advisory_unlock(self.key)))
                self.conn.commit()
        except sa.exc.DBAPIError:
            self.conn.invalidate()  # a broken connection must not go back to the pool
        finally:
            self.lost.set()
            self.conn.close()


class _LeaseHeld(Held):
    def __init__(self, name: str, locks: Locks) -> None:
        super().__init__(name)
        self.locks = locks
        self._stop = threading.Event()
        self._beat = threading.Thread(target=self._heartbeat, name=f"lease-{name}", daemon=True)
        self._beat.start()

    def _heartbeat(self) -> None:
        renewed = time.monotonic()
        while not self._stop.wait(self.locks.lease_seconds / 3):
            try:
                if not self.locks.renew(self.name):
                    log.error("lease %s was taken over while held", self.name)
                    self.lost.set()
                    return
                renewed = time.monotonic()
            except Exception:  # the database may be briefly busy; the next beat tries again
                log.exception("renewing lease %s failed", self.name)
                # Past its expiry another process may take it: from then on it is not ours to rely on.
                if time.monotonic() - renewed >= self.locks.lease_seconds:
                    self.lost.set()
                    return

    def release(self) -> None:
        self._stop.set()
        self._beat.join()
        self.lost.set()
        self.locks.release(self.name)  # deletes the row only while it still names this holder


class Locks:
    def __init__(self, engine: Engine, lease_seconds: float = LEASE_SECONDS) -> None:
        self.engine = engine
        self.lease_seconds = lease_seconds
        self.holder = holder_id()
        self.advisory = engine.dialect.name == "postgresql"

    @contextmanager
    def hold(self, name: str) -> Iterator[bool]:
        held = self.acquire(name)
        if held is None:
            yield False
            return
        try:
            yield True
        finally:
            held.release()

    def acquire(self, name: str) -> Held | None:
        return self._advisory(name) if self.advisory else self._lease(name)

    # --- PostgreSQL ----------------------------------------------------------------------------
    def _advisory(self, name: str) -> Held | None:
        key = advisory_key(name)
        conn = self.engine.connect()
        try:
            held = bool(conn.scalar(sa.select(sa.func.pg_try_advisory_lock(key))))
            conn.commit()  # the lock belongs to the session, not to a transaction left open
        except BaseException:
            conn.close()
            raise
        if not held:
            conn.close()
            return None
        return _AdvisoryHeld(name, key, conn)

    # --- lease rows ----------------------------------------------------------------------------
    def _lease(self, name: str) -> Held | None:
        return _LeaseHeld(name, self) if self.try_lease(name) else None

    def try_lease(self, name: str) -> bool:
        now = utcnow()
        until = now + timedelta(seconds=self.lease_seconds)
        with self.engine.begin() as conn:  # BEGIN IMMEDIATE on SQLite: one writer decides at a time
            row = conn.execute(sa.select(Lease.holder, Lease.expires_at).where(Lease.name == name)).first()
            if row is None:
                conn.execute(sa.insert(Lease).values(name=name, holder=self.holder, expires_at=until))
                return True
            holder, expires_at = row
            # Not re-entrant, as advisory locks on separate connections are not: two threads of one process
            # (a web process's "sync now") must not both run a job.
            if expires_at <= now or not _holder_alive(holder):
                conn.execute(sa.update(Lease).where(Lease.name == name).values(holder=self.holder, expires_at=until))
                return True
            return False

    def renew(self, name: str) -> bool:
        until = utcnow() + timedelta(seconds=self.lease_seconds)
        with self.engine.begin() as conn:
            result = conn.execute(sa.update(Lease).where(Lease.name == name, Lease.holder == self.holder)
                                  .values(expires_at=until))
            return result.rowcount == 1

    def release(self, name: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.delete(Lease).where(Lease.name == name, Lease.holder == self.holder))
