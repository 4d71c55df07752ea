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


def prepared_plans(engine: Engine, runs: int) -> tuple[int, int]:
    """(generic, custom) plans PostgreSQL made for one statement run `runs` times on one connection."""
    with engine.connect() as conn:
        for n in range(runs):  # a statement whose plan cannot depend on the value: PostgreSQL's easiest case
            conn.execute(sa.text("SELECT CAST(:n AS integer) + 1 AS plan_probe"), {"n": n})
        return conn.execute(sa.text(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE "
            "'SELECT CAST(% AS integer) + 1 AS plan_probe'")).one()


def test_a_statement_run_again_and_again_is_planned_for_its_own_values_every_time(pg_engine):
    # A generic plan (made once, without the values) scanned a whole table for a seller unlike the average one.
    plain = sa.create_engine(pg_engine.url)  # without the hub's settings: PostgreSQL's own choice
    engine = make_engine(pg_engine.url.render_as_string(hide_password=False))
    try:
        generic, _custom = prepared_plans(plain, 20)
        assert generic > 0  # PostgreSQL switches a prepared statement to a generic plan when left to itself
        assert prepared_plans(engine, 20) == (0, 15)  # prepared at the 6th run, then planned on each of 15
    finally:
        plain.dispose()
        engine.dispose()
