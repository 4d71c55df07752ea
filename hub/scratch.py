"""Throwaway PostgreSQL databases, migrated to the newest schema: each test run and each benchmark gets its own,
so parallel runs on one server never meet."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from hub import migrate
from hub.db import make_engine


def migrated(url: str) -> None:
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()


@contextmanager
def scratch_database(server_url: str, label: str = "") -> Iterator[str]:
    """Create `<database>_<label><random>` on the server of `server_url`, migrate it, yield its URL, drop it."""
    admin = make_engine(server_url, isolation_level="AUTOCOMMIT")
    name = f"{admin.url.database}_{label}{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        url = admin.url.set(database=name).render_as_string(hide_password=False)
        migrated(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
