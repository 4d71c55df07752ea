"""What every benchmark needs: a throwaway migrated database, a seller, channels, products, a printed table.

The databases are the real schema (hub.migrate.upgrade), on SQLite in a temporary folder or in a fresh PostgreSQL
database created and dropped around the run, as tests/conftest.py does, so a benchmark never touches real data.
"""

from __future__ import annotations

import os
import platform
import secrets
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import Flask

from hub import create_app
from hub.accounts import services as accounts
from hub.accounts.actor import Actor
from hub.accounts.schemas import SignUp
from hub.catalog import products, stock
from hub.catalog.schemas import ProductIn, StockReceipt, WarehouseIn
from hub.channels.models import Channel
from hub.db import make_engine
from hub.scratch import migrated, scratch_database
from hub.sync.env import SyncEnv

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BACKENDS = ("sqlite", "postgresql")


def pg_url() -> str:
    return os.environ.get("HUB_BENCH_DATABASE_URL") or os.environ.get("HUB_TEST_DATABASE_URL") or PG_DEFAULT


def machine() -> str:
    """The machine, how busy it was and how fast its CPU ran just then: figures taken beside other work are
    slower, not wrong, and a shared VM's CPU speed drifts (this one was seen 1.7 times slower from one hour to
    the next), so the yardstick lets two runs be compared."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, load average {load}, "
            f"yardstick {yardstick_ms():.0f} ms")


def yardstick_ms(steps: int = 2_000_000) -> float:
    """CPU milliseconds a fixed pure-Python loop takes now: lower is a faster machine."""
    started = time.process_time()
    total = 0
    for i in range(steps):
        total += i
    return (time.process_time() - started) * 1000


def pg_reachable(url: str) -> bool:
    try:
        engine = make_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect():
            pass
        engine.dispose()
    except sa.exc.OperationalError:
        return False
    return True


@contextmanager
def database(backend: str) -> Iterator[str]:
    """A migrated throwaway database of `backend` for the block; yields its URL and removes it afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="hub-bench-") as folder:
            url = f"sqlite:///{folder}/bench.sqlite3"
            migrated(url)
            yield url
        return
    with scratch_database(pg_url(), "bench_") as url:
        yield url


@dataclass
class World:
    """One seller on one database, with the sync engine built as the worker builds it (real clock and sleep)."""

    app: Flask
    env: SyncEnv
    seller_id: int
    actor: Actor
    email: str = ""  # the owner's login, for benchmarks that sign in over HTTP
    password: str = ""

    def channel(self, kind: str, base_url: str, credentials: dict[str, str], *, currency: str = "EUR",
                options: dict[str, Any] | None = None, name: str | None = None) -> int:
        with self.env.sessions.begin() as session:
            row = Channel(seller_id=self.seller_id, kind=kind, name=name or f"{kind} bench", currency=currency,
                          base_url=base_url, credentials_encrypted=self.env.box.seal(credentials),
                          options=options or {}, schedule={})
            session.add(row)
            session.flush()
            return row.id

    def products(self, skus: Iterable[str], quantity: int = 1000) -> None:
        """A product per SKU with `quantity` on hand in one warehouse (made on first use)."""
        with self.env.sessions.begin() as session:
            session.info["seller_id"] = self.seller_id
            if not stock.list_warehouses(session, self.actor):
                stock.create_warehouse(session, self.actor, WarehouseIn(code="MAIN", name="Main", country="DE"))
            for sku in skus:
                products.create_product(session, self.actor, ProductIn(sku=sku, title=f"Bench {sku}",
                                                                       base_price=Decimal("9.90")))
                stock.receive(session, self.actor, StockReceipt(sku=sku, warehouse="MAIN", quantity=quantity))

    def close(self) -> None:
        self.app.extensions["hub"].engine.dispose()


@contextmanager
def world(backend: str) -> Iterator[World]:
    with database(backend) as url, world_on(url) as found:
        yield found


@contextmanager
def world_on(url: str) -> Iterator[World]:
    """A seller with its owner on the migrated database at `url` (closed, not dropped, afterwards)."""
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": secrets.token_hex(16),
                      # Sign-up hashes one password; the cost is not what is measured.
                      "PASSWORD_HASH_TIME_COST": 1, "PASSWORD_HASH_MEMORY_KIB": 1024})
    hub = app.extensions["hub"]
    email, password = f"bench-{uuid.uuid4().hex[:8]}@example.com", secrets.token_urlsafe(18)
    with hub.sessions.begin() as session:
        owner = accounts.sign_up(session, hub.security, SignUp(
            seller_name="Bench Seller", name="Bench Owner", email=email, password=password,
            base_currency="EUR"))
        seller_id, actor = owner.seller_id, accounts.actor_for(owner)
    found = World(app, SyncEnv.build(hub.engine, hub.sessions, app.config), seller_id, actor, email, password)
    try:
        yield found
    finally:
        found.close()


class Stopwatch:
    def __enter__(self) -> Stopwatch:
        self.started = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *_: object) -> None:
        self.seconds = time.perf_counter() - self.started


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A plain fixed-width table (also valid Markdown), numbers right-aligned."""
    text = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in text) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        return "| " + " | ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths,
                                                                                              strict=True))) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(text[0]), rule, *(line(r) for r in text[1:])])


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    return f"{value:,}" if isinstance(value, int) else str(value)
