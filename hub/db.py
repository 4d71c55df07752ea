"""Database plumbing: engine, declarative base, column types, tenant scoping, unit of work.

Tenant isolation is enforced twice. Services and views always filter by seller explicitly, and a
session scoped to a seller (``session.info["seller_id"]``) additionally adds
``seller_id = :sid`` to every ORM SELECT of a tenant-owned class and refuses to flush a row of
another seller. A platform admin's session carries no scope.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
import sqlalchemy.dialects.postgresql
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    ORMExecuteState,
    Session,
    mapped_column,
    sessionmaker,
    with_loader_criteria,
)
from sqlalchemy.types import TypeDecorator

from hub.jsonexact import dumps_exact, parse_json

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """timestamptz on PostgreSQL; on SQLite, naive UTC text. Always aware UTC in Python."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("refusing to store a naive datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Enough for any order total in any currency, with 4 decimals (CLF, unit prices finer than cents).
Amount = sa.Numeric(19, 4, asdecimal=True)

# JSON documents: JSONB on PostgreSQL (indexable, compact), JSON text elsewhere.
JSON = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")

# Primary keys are INTEGER columns: no id exceeds this, and larger numbers make the drivers fail
# (PostgreSQL: integer out of range; SQLite: int too large), so inputs naming ids are capped here.
MAX_ID = 2**31 - 1


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), Decimal: Amount}


class TenantOwned:
    """Mixin for rows that belong to one seller."""

    seller_id: Mapped[int] = mapped_column(sa.ForeignKey("sellers.id", ondelete="CASCADE"), index=True)


class TenantViolation(RuntimeError):
    """A scoped session tried to write another seller's row: a programming error, never user input."""


@event.listens_for(Session, "do_orm_execute")
def _scope_to_seller(state: ORMExecuteState) -> None:
    seller_id = state.session.info.get("seller_id")
    if seller_id is None or not state.is_select or state.execution_options.get("unscoped"):
        return
    state.statement = state.statement.options(_seller_criteria(seller_id))


@lru_cache(maxsize=4096)
def _seller_criteria(seller_id: int) -> Any:
    # One option per seller, built once: building it analyses the lambda's closure, which on a page of twenty
    # statements cost a millisecond. The option is immutable, so sharing it between sessions and threads is safe.
    return with_loader_criteria(TenantOwned, lambda cls: cls.seller_id == seller_id, include_aliases=True)


@event.listens_for(Session, "before_flush")
def _refuse_cross_tenant_writes(session: Session, _ctx: Any, _instances: Any) -> None:
    seller_id = session.info.get("seller_id")
    if seller_id is None:
        return
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if isinstance(obj, TenantOwned) and obj.seller_id not in (None, seller_id):
            raise TenantViolation(f"{type(obj).__name__} of seller {obj.seller_id} in seller {seller_id}'s session")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    # Statement parameters (password hashes, token digests, buyers' addresses) never appear in an
    # exception message or a log line.
    kwargs.setdefault("hide_parameters", True)
    # Raw marketplace payloads hold Decimal amounts: JSON columns keep them exact both ways.
    kwargs.setdefault("json_serializer", dumps_exact)
    kwargs.setdefault("json_deserializer", parse_json)
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own BEGIN handling defers locking; take the write lock at BEGIN so that
        # read-then-write transactions serialise instead of failing with "database is locked".
        event.listen(engine, "connect", lambda conn, _r: setattr(conn, "isolation_level", None))
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        return engine
    connect_args = kwargs.pop("connect_args", {})
    connect_args["options"] = f"{connect_args.get('options', '')} -c plan_cache_mode=force_custom_plan".strip()
    engine = sa.create_engine(url, connect_args=connect_args, **kwargs)
    event.listen(engine, "connect", _note_checkin)  # a new connection is as good as a just-used one
    event.listen(engine, "checkin", _note_checkin)
    event.listen(engine, "checkout", _ping_if_idle)
    return engine


# plan_cache_mode: psycopg prepares a statement once a connection has run it five times, and after five more
# executions PostgreSQL may keep a generic plan, chosen without the parameters' values. Sellers differ by orders of
# magnitude and a channel may have no runs at all, so a plan fine on average can scan a whole table for one of
# them: the overview's sync health went from 1.5 ms to 75 ms from a connection's eleventh view on (the newest run
# of a channel without runs, looked for backwards through 200,000 others). Each execution is planned for its own
# values; the statements stay prepared, parsed once.

# A pooled connection that sat idle may have been closed by the server (a restart, an idle timeout) and is
# tested before use. pool_pre_ping would test it at every checkout: a round trip and a statement on the server
# for every web request, a tenth of a list page's database work. A connection used within the last few seconds
# is taken as alive; if it died meanwhile, the statement fails as it would have after a passed ping.
PING_IDLE_SECONDS = 5.0


def _note_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info["checked_in"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    if time.monotonic() - record.info.get("checked_in", 0.0) < PING_IDLE_SECONDS:
        return
    try:
        dbapi_connection.execute("SELECT 1")
        dbapi_connection.rollback()
    except Exception as exc:  # the pool discards this connection and checks out another (up to 3 times)
        raise sa.exc.DisconnectionError(str(exc)) from exc


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session], seller_id: int | None = None) -> Iterator[Session]:
    """One transaction per use case: commit on success, roll back on any exception."""
    session = factory()
    session.info["seller_id"] = seller_id
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def is_postgres(session_or_engine: Session | Engine) -> bool:
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, Session) else session_or_engine
    return bind.dialect.name == "postgresql"


def dialect_insert(session: Session) -> Callable[..., Any]:
    """The backend's INSERT construct, which has ON CONFLICT on both PostgreSQL and SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def insert_ignoring_duplicates(session: Session, table: sa.Table, values: dict[str, Any]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING on either backend: safe when two transactions race."""
    session.execute(dialect_insert(session)(table).values(**values).on_conflict_do_nothing())


def _is_unique_violation(exc: IntegrityError) -> bool:
    sqlstate = getattr(exc.orig, "sqlstate", None)  # psycopg
    return sqlstate == "23505" if sqlstate else "UNIQUE constraint failed" in str(exc.orig)


@contextmanager
def unique_or_raise(session: Session, error: Callable[[], Exception]) -> Iterator[None]:
    """Run the block's writes in a savepoint; if a unique constraint refuses them, undo only the block
    and raise `error()` (called after the rollback, so it may query). The database's constraint
    decides, so two racing requests cannot both pass.

    Make the writes *inside* the block: begin_nested() flushes what is already pending before the
    savepoint starts, so a conflicting row added earlier would fail outside it.
    """
    try:
        with session.begin_nested():
            yield
            session.flush()
    except IntegrityError as exc:
        if not _is_unique_violation(exc):
            raise
        raise error() from None
