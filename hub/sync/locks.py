"""Named locks across processes, through the database every process already shares.

    Locks.hold(name)   non-blocking: yields True while this process holds `name`, False if another does

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


class Locks:
    def __init__(self, engine: Engine, lease_seconds: float = LEASE_SECONDS) -> None:
        self.engine = engine
        self.lease_seconds = lease_seconds
        self.holder = holder_id()
        self.advisory = engine.dialect.name == "postgresql"

    @contextmanager
    def hold(self, name: str) -> Iterator[bool]:
        if self.advisory:
            with self._advisory(name) as held:
                yield held
        else:
            with self._lease(name) as held:
                yield held

    # --- PostgreSQL ----------------------------------------------------------------------------
    @contextmanager
    def _advisory(self, name: str) -> Iterator[bool]:
        key = advisory_key(name)
        conn = self.engine.connect()
        try:
            held = bool(conn.scalar(sa.select(sa.func.pg_try_advisory_lock(key))))
            conn.commit()  # the lock belongs to the session, not to a transaction left open
            try:
                yield held
            finally:
                if held:
                    conn.scalar(sa.select(sa.func.pg_advisory_unlock(key)))
                    conn.commit()
        finally:
            conn.close()

    # --- lease rows ----------------------------------------------------------------------------
    def try_lease(self, name: str) -> bool:
        now = utcnow()
        until = now + timedelta(seconds=self.lease_seconds)
        with self.engine.begin() as conn:  # BEGIN IMMEDIATE on SQLite: one writer decides at a time
            row = conn.execute(sa.select(Lease.holder, Lease.expires_at).where(Lease.name == name)).first()
            if row is None:
                conn.execute(sa.insert(Lease).values(name=name, holder=self.holder, expires_at=until))
                return True
            holder, expires_at = row
            if holder == self.holder or expires_at <= now or not _holder_alive(holder):
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

    @contextmanager
    def _lease(self, name: str) -> Iterator[bool]:
        if not self.try_lease(name):
            yield False
            return
        stop = threading.Event()

        def heartbeat() -> None:
            while not stop.wait(self.lease_seconds / 3):
                try:
                    if not self.renew(name):
                        log.error("lease %s was taken over while held", name)
                        return
                except Exception:  # the database may be briefly busy; the next beat tries again
                    log.exception("renewing lease %s failed", name)

        beat = threading.Thread(target=heartbeat, name=f"lease-{name}", daemon=True)
        beat.start()
        try:
            yield True
        finally:
            stop.set()
            beat.join()
            self.release(name)

