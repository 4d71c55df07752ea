"""Pooled PostgreSQL connections: tested after sitting idle, not at every checkout."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hub import db
from hub.db import make_engine


def backend_pid(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(sa.select(sa.func.pg_backend_pid()))


def test_a_connection_the_server_closed_while_idle_is_replaced_before_the_page_uses_it(pg_engine, monkeypatch):
    engine = make_engine(pg_engine.url.render_as_string(hide_password=False))
    try:
        dead = backend_pid(engine)
        with pg_engine.connect() as admin:
            assert admin.scalar(sa.select(sa.func.pg_terminate_backend(dead)))
        monkeypatch.setattr(db, "PING_IDLE_SECONDS", 0.0)  # as if it had been idle for a while
        assert backend_pid(engine) != dead
    finally:
        engine.dispose()


def test_a_connection_used_moments_ago_is_not_pinged_and_one_found_dead_in_use_is_replaced_after(pg_engine):
    engine = make_engine(pg_engine.url.render_as_string(hide_password=False))
    try:
        dead = backend_pid(engine)
        with pg_engine.connect() as admin:
            assert admin.scalar(sa.select(sa.func.pg_terminate_backend(dead)))
        # Checked in a moment ago: no ping, so the first statement meets the closed connection...
        with pytest.raises(sa.exc.OperationalError) as failed:
            backend_pid(engine)
        assert failed.value.connection_invalidated
        # ...which invalidates the pool: the next checkout is a new connection.
        assert backend_pid(engine) != dead
    finally:
        engine.dispose()
