"""Order pull throughput: orders per second from a marketplace sandbox into the database, against a raw floor.

    python -m bench.pull_throughput [--orders 2000] [--per-page 100] [--backends sqlite,postgresql]

One WooCommerce sandbox is served in-process over real HTTP (no rate limit, no faults). Three timings:

1. fetch + map: every page through the connector alone (HTTP, the sandbox's own work, mapping to canonical
   orders), no database. This is the part of a pull that is not the hub's database work.
2. hub pull: hub.sync.jobs.run_job(..., "pull") on a fresh migrated database, as `hub sync --since` runs it:
   per-order savepoints, listings, stock reservations, the order timeline, page-by-page commits with the
   cursor, the run record and its audit rows.
3. raw executemany: the same canonical orders, already fetched, written with two plain executemany INSERTs
   per page (orders, then their lines) into a bare table pair in the same database, one commit per page.
   This is the floor: no checks, no stock, no events, no idempotency.

"hub DB" = hub pull - fetch + map; the ratio hub DB / raw is what the hub's bookkeeping costs over the floor.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from bench.support import BACKENDS, Stopwatch, machine, pg_reachable, pg_url, table, world
from hub.channels import registry
from hub.channels.port import ChannelOrder
from hub.channels.registry import Connection
from hub.db import JSON
from hub.outbound.audit import MemoryAudit
from hub.sandbox.server import running
from hub.sandbox.woocommerce import CONSUMER_KEY, CONSUMER_SECRET, WEBHOOK_SECRET, create_app
from hub.sandbox.woocommerce.state import PRODUCTS
from hub.sync.jobs import run_job
from hub.sync.models import Outcome

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)
CREDENTIALS = {"consumer_key": CONSUMER_KEY, "consumer_secret": CONSUMER_SECRET, "webhook_secret": WEBHOOK_SECRET}


def fetch_all(base_url: str, per_page: int) -> list[list[ChannelOrder]]:
    """Every page of canonical orders, through the connector the hub uses, without a database."""
    connector = registry.load().get("woocommerce").connector(
        Connection(base_url=base_url, credentials=CREDENTIALS, options={"per_page": per_page}, audit=MemoryAudit()))
    pages: list[list[ChannelOrder]] = []
    cursor: str | None = None
    while True:
        page = connector.pull_orders(LONG_AGO, cursor)
        pages.append(list(page.orders))
        cursor = page.next_cursor
        if cursor is None:
            return pages


def raw_tables(metadata: sa.MetaData) -> tuple[sa.Table, sa.Table]:
    """A bare order/line pair shaped like the hub's, without its constraints beyond the keys."""
    money = sa.Numeric(19, 4)
    orders = sa.Table(
        "bench_raw_orders", metadata,
        sa.Column("id", sa.Integer, primary_key=True), sa.Column("seller_id", sa.Integer),
        sa.Column("channel_id", sa.Integer), sa.Column("external_id", sa.String(128)),
        sa.Column("status", sa.String(24)), sa.Column("currency", sa.String(3)), sa.Column("subtotal", money),
        sa.Column("shipping_total", money), sa.Column("tax_total", money), sa.Column("discount_total", money),
        sa.Column("grand_total", money), sa.Column("buyer_name", sa.String(200)),
        sa.Column("buyer_email", sa.String(254)), sa.Column("shipping_address", JSON),
        sa.Column("placed_at", sa.DateTime(timezone=True)), sa.Column("updated_at", sa.DateTime(timezone=True)),
        sa.Column("raw_payload", JSON))
    lines = sa.Table(
        "bench_raw_order_lines", metadata,
        sa.Column("id", sa.Integer, primary_key=True), sa.Column("order_id", sa.ForeignKey(orders.c.id)),
        sa.Column("line_no", sa.Integer), sa.Column("sku", sa.String(64)), sa.Column("title", sa.String(255)),
        sa.Column("quantity", sa.Integer), sa.Column("unit_price", money), sa.Column("discount", money),
        sa.Column("tax", money), sa.Column("line_total", money))
    return orders, lines


def write_raw(engine: sa.Engine, pages: list[list[ChannelOrder]]) -> float:
    """Seconds to write every page with executemany, one transaction per page (as the pull commits)."""
    metadata = sa.MetaData()
    orders, lines = raw_tables(metadata)
    metadata.create_all(engine)
    order_id = line_id = 0
    with Stopwatch() as watch:
        for page in pages:
            order_rows: list[dict[str, Any]] = []
            line_rows: list[dict[str, Any]] = []
            for o in page:
                order_id += 1
                order_rows.append({
                    "id": order_id, "seller_id": 1, "channel_id": 1, "external_id": o.external_id,
                    "status": str(o.status), "currency": o.currency, "subtotal": o.subtotal,
                    "shipping_total": o.shipping, "tax_total": o.tax, "discount_total": o.discount,
                    "grand_total": o.total, "buyer_name": o.buyer_name[:200], "buyer_email": o.buyer_email,
                    "shipping_address": dataclasses.asdict(o.shipping_address) if o.shipping_address else None,
                    "placed_at": o.placed_at, "updated_at": o.updated_at, "raw_payload": o.raw or None})
                for n, li in enumerate(o.lines, 1):
                    line_id += 1
                    line_rows.append({
                        "id": line_id, "order_id": order_id, "line_no": n, "sku": li.sku, "title": li.title[:255],
                        "quantity": li.quantity, "unit_price": li.unit_price or Decimal(0), "discount": li.discount,
                        "tax": li.tax, "line_total": li.line_total})
            with engine.begin() as conn:
                conn.execute(orders.insert(), order_rows)
                if line_rows:
                    conn.execute(lines.insert(), line_rows)
    metadata.drop_all(engine)
    return watch.seconds


def run_backend(backend: str, base_url: str, per_page: int, pages: list[list[ChannelOrder]]) -> dict[str, Any]:
    with world(backend) as w:
        # The seller sells the shop's SKUs, so the pull also links lines and reserves stock, as in real use.
        w.products([sku for sku, _name, _price in PRODUCTS], quantity=100_000)
        channel_id = w.channel("woocommerce", base_url, CREDENTIALS, options={"per_page": per_page})
        with Stopwatch() as hub:
            result = run_job(w.env, channel_id, "pull", trigger="cli", since=LONG_AGO)
        if result.outcome is not Outcome.OK or not result.counts:
            raise SystemExit(f"{backend}: the pull did not succeed: {result.outcome} {result.message}")
        raw = write_raw(w.env.engine, pages)
        return {"created": result.counts["created"], "pages": result.counts["pages"], "hub": hub.seconds,
                "raw": raw}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.pull_throughput", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    # 2,000 keeps both backends within about a minute on two cores; the README's figures are for 5,000.
    parser.add_argument("--orders", type=int, default=2000, help="orders in the sandbox (default 2000)")
    parser.add_argument("--per-page", type=int, default=100, help="orders per page, at most 100 (default 100)")
    parser.add_argument("--backends", default=",".join(BACKENDS),
                        help="comma-separated: sqlite, postgresql (default both; PostgreSQL at "
                             "HUB_BENCH_DATABASE_URL or HUB_TEST_DATABASE_URL, skipped when unreachable)")
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one access-log line per page otherwise
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if "postgresql" in backends and not pg_reachable(pg_url()):
        print(f"PostgreSQL at {pg_url()} is not reachable: skipped")
        backends.remove("postgresql")

    print(f"pull throughput: WooCommerce sandbox, {args.orders:,} orders, {args.per_page} a page; {machine()}")
    app = create_app(seed=42, orders=args.orders)
    with running(app) as base_url:
        with Stopwatch() as fetch:
            pages = fetch_all(base_url, args.per_page)
        fetched = sum(len(p) for p in pages)
        rows = []
        for backend in backends:
            r = run_backend(backend, base_url, args.per_page, pages)
            db = max(r["hub"] - fetch.seconds, 1e-9)
            rows.append([backend, r["created"], r["pages"], fetch.seconds, r["hub"], db, r["raw"],
                         r["created"] / r["hub"], r["created"] / db, fetched / r["raw"], f"{db / r['raw']:.1f}x"])
    print(table(["backend", "orders", "pages", "fetch+map s", "hub pull s", "hub DB s", "raw s", "hub orders/s",
                 "hub DB orders/s", "raw orders/s", "hub DB / raw"], rows))


if __name__ == "__main__":
    main()
