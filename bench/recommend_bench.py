"""Recommendations at scale: the recompute job and the reads, on 100,000 products and 1,000,000 orders.

    python -m bench.recommend_bench [--products 100000] [--orders 1000000] [--customers 100000] [--reads 2000]

1. Seed: a scratch PostgreSQL database (hub.scratch), one seller and its owner through the services, six channels;
   then set-based INSERT ... SELECT FROM generate_series with deterministic pseudo-random values (hashint4 of the
   row number): `--products` products in themes of five (one in ten consumable), a third of them listed on each
   channel, `--customers` customer profiles, `--orders` delivered orders over two years (seven in ten with a
   customer, the rest by email or anonymous) of one to three lines from one theme, the themes' popularity skewed
   (squared uniform), and a view or click event per five orders. Foreign-key triggers are off while seeding (the
   rows are consistent by construction), then VACUUM ANALYZE.
2. The job: hub.recommend.compute.recompute for the seller, in one transaction, as the worker runs it.
3. Reads through the service layer (hub.recommend.serve), each in its own session as a request has: `--reads` of
   each list for random products and customers. Then the same over HTTP: the app served as `make serve` serves it
   (gunicorn, 3 processes) on a loopback port, the API called with the owner's token (one client, sequential).

Prints the seeding steps, the job's duration and output, and p50/p95/p99 per read against TARGET_MS at p95.
"""

from __future__ import annotations

import argparse
import random
import secrets
import statistics
import sys
import time

import requests
import sqlalchemy as sa

from bench.support import Stopwatch, machine, pg_reachable, pg_url, table, world_on
from hub import create_app
from hub.accounts import services as accounts
from hub.accounts.actor import Actor
from hub.accounts.schemas import NewToken
from hub.recommend import compute, serve

TARGET_MS = 10.0
THEME = 5
CHANNELS = (("amazon", "Amazon DE"), ("amazon", "Amazon UK"), ("ebay", "eBay"), ("shopify", "Shopify"),
            ("woocommerce", "Web shop"), ("direct", "Direct"))
COUNTRIES = "ARRAY['DE','DE','DE','FR','FR','GB','NL','IT','ES','AT']"

PRODUCTS_SQL = """
    INSERT INTO products (seller_id, sku, title, description, base_price, currency, is_active, consumable,
        customs_description, created_at, updated_at)
    SELECT :seller, 'P-' || lpad(g::text, 7, '0'), 'Product ' || g, '', 5 + abs(hashint4(g)) % 9500 / 100.0, 'EUR',
        true, g % 10 = 0, '', now(), now()
    FROM generate_series(1, :products) AS g ORDER BY g"""

LISTINGS_SQL = """
    INSERT INTO listings (seller_id, channel_id, channel_sku, product_id, is_active, push_error, created_at)
    SELECT p.seller_id, c.id, p.sku, p.id, true, '', now()
    FROM products p CROSS JOIN channels c
    WHERE p.seller_id = :seller AND c.seller_id = :seller AND c.kind <> 'direct'
      AND abs(hashint4(p.id * 7 + c.id)) % 3 = 0"""

CUSTOMERS_SQL = """
    INSERT INTO customers (seller_id, name, email_key, created_at, updated_at)
    SELECT :seller, 'Customer ' || g, 'c' || g || '@example.com', now(), now()
    FROM generate_series(1, :customers) AS g ORDER BY g"""

# r1..r3 per order: independent pseudo-random non-negative ints. A buyer's orders stay in a few themes: the theme
# is drawn from the buyer's own small set most of the time (buyer * 7 + r % 3), else from the skewed popular ones.
ORDERS_SQL = f"""
    INSERT INTO orders (seller_id, channel_id, external_id, status, currency, subtotal, discount_total,
        shipping_total, tax_total, grand_total, refunded_total, prices_include_tax, buyer_name, buyer_email,
        ship_country, placed_at, updated_at, created_at, note, flags, customer_id, customer_match)
    SELECT :seller, (:channels)[1 + r1 % cardinality(:channels)], 'R-' || lpad(g::text, 9, '0'), 'delivered', 'EUR',
        10, 0, 0, 0, 10, 0, false, 'Buyer', CASE WHEN r3 % 10 < 9 THEN 'c' || buyer || '@example.com' END,
        ({COUNTRIES})[1 + r2 % 10], now() - (:n - g) * (interval '730 days' / :n), now(), now(), '', '[]',
        CASE WHEN r3 % 10 < 7 THEN c.first + buyer - 1 END, ''
    FROM (SELECT g, abs(hashint4(g)) AS r1, abs(hashint4(g + 1000000007)) AS r2, abs(hashint4(-g)) AS r3,
                 1 + abs(hashint4(g * 31)) % :customers AS buyer
          FROM generate_series(1, :n) AS g) AS o
    CROSS JOIN (SELECT min(id) AS first FROM customers WHERE seller_id = :seller) AS c
    ORDER BY g"""  # noqa: S608 - only this module's constants are formatted in

LINES_SQL = f"""
    INSERT INTO order_lines (seller_id, order_id, line_no, sku, product_id, title, quantity, unit_price, discount,
        tax, line_total, quantity_fulfilled, quantity_short, base_line_total, external_line_id)
    SELECT l.seller_id, l.id, l.n, p.sku, p.id, p.title, 1, 10, 0, 0, 10, 1, 0, 10, ''
    FROM (SELECT o.seller_id, o.id, n,
              CASE WHEN abs(hashint4(o.id * 3)) % 10 < 7
                   THEN (abs(hashint4(coalesce(o.customer_id, o.id)))::bigint * 7 + abs(hashint4(o.id)) % 3) % :themes
                   ELSE floor(:themes * power((abs(hashint4(o.id * 5)) % 100000) / 100000.0, 2))::int END AS theme,
              (abs(hashint4(o.id * 11)) + n * 2) % {THEME} AS slot
          FROM orders o CROSS JOIN generate_series(1, 3) AS n
          WHERE o.seller_id = :seller AND n <= 1 + abs(hashint4(o.id * 13)) % 3) AS l
    JOIN products p
        ON p.seller_id = l.seller_id AND p.sku = 'P-' || lpad((l.theme * {THEME} + l.slot + 1)::text, 7, '0')
    ORDER BY l.id, l.n"""  # noqa: S608 - only this module's constants are formatted in

EVENTS_SQL = """
    INSERT INTO behaviour_events (seller_id, event_id, kind, product_id, customer_id, visitor, context, occurred_at,
        received_at)
    SELECT o.seller_id, 'ev-' || o.id, CASE WHEN o.id % 3 = 0 THEN 'click' ELSE 'view' END, l.product_id,
        o.customer_id, 'v' || o.id, CASE WHEN o.id % 9 = 0 THEN 'for_buyer' ELSE '' END,
        o.placed_at - interval '5 minutes', o.placed_at
    FROM orders o JOIN order_lines l ON l.order_id = o.id AND l.line_no = 1
    WHERE o.seller_id = :seller AND o.id % 5 = 0"""


def seed(url: str, args: argparse.Namespace) -> tuple[int, str, list[tuple[str, float]]]:
    """The seller and its world; (seller id, an API token of the owner, seconds per step)."""
    steps: list[tuple[str, float]] = []
    with Stopwatch() as watch, world_on(url) as w:
        channel_ids = [w.channel(kind, "http://127.0.0.1:9", {"token": "x"}, name=name) for kind, name in CHANNELS]
        with w.env.sessions.begin() as session:
            _, token = accounts.create_token(session, w.actor, NewToken(name="bench"))
        seller_id = w.seller_id
    steps.append(("seller, channels (services)", watch.seconds))
    engine = sa.create_engine(url)
    params = {"seller": seller_id, "products": args.products, "customers": args.customers, "n": args.orders,
              "themes": args.products // THEME, "channels": channel_ids}
    statements = [("products", PRODUCTS_SQL), ("listings", LISTINGS_SQL), ("customers", CUSTOMERS_SQL),
                  ("orders", ORDERS_SQL), ("order lines", LINES_SQL), ("behaviour events", EVENTS_SQL)]
    with engine.begin() as conn:
        conn.exec_driver_sql("SET session_replication_role = replica")
        for label, sql in statements:
            with Stopwatch() as watch:
                conn.execute(sa.text(sql), params)
            steps.append((label, watch.seconds))
    with Stopwatch() as watch, engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
    steps.append(("VACUUM ANALYZE", watch.seconds))
    engine.dispose()
    return seller_id, token, steps


def percentile(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1] if len(values) > 1 else values[0]


def verdict(name: str, ms: list[float]) -> tuple[object, ...]:
    p95 = percentile(ms, 95)
    return (name, len(ms), percentile(ms, 50), p95, percentile(ms, 99), "ok" if p95 < TARGET_MS else "MISS")


def timed(calls: list, run) -> list[float]:
    samples = []
    for arg in calls:
        started = time.perf_counter()
        run(arg)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--reads", type=int, default=2000, help="per list, through the services and over HTTP")
    parser.add_argument("--keep", action="store_true", help="wait for Enter before dropping the database")
    args = parser.parse_args()
    url = pg_url()
    if not pg_reachable(url):
        sys.exit(f"PostgreSQL not reachable at {url}")
    from hub.scratch import scratch_database

    with scratch_database(url, "rec_") as db_url:
        with Stopwatch() as watch:
            seller_id, token, steps = seed(db_url, args)
        print(f"Seeded {args.products:,} products, {args.customers:,} customers, {args.orders:,} orders "
              f"in {watch.seconds:.1f} s ({machine()})")
        print(table(("step", "s"), steps))
        app = create_app({"DATABASE_URL": db_url, "SECRET_KEY": secrets.token_hex(16)})
        sessions = app.extensions["hub"].sessions
        actor = Actor.system(seller_id, "bench")
        try:
            with Stopwatch() as watch, sessions.begin() as session:
                run = compute.recompute(session, seller_id)
            print(f"\nRecompute job: {watch.seconds:.1f} s wall ({run.duration_ms / 1000:.1f} s inside, before the "
                  f"commit): {run.orders:,} orders, {run.events:,} events -> {run.bought_together:,} bought-together, "
                  f"{run.for_buyer:,} for-buyer, {run.opportunities:,} opportunity rows")
            with sessions() as session:
                products = session.scalars(sa.select(compute.BoughtTogether.product_id).where(
                    compute.BoughtTogether.seller_id == seller_id, compute.BoughtTogether.rank == 1)).all()
                customers = session.scalars(sa.text("SELECT id FROM customers WHERE seller_id = :s"),
                                            {"s": seller_id}).all()
            rng = random.Random(42)
            product_ids = [rng.choice(products) for _ in range(args.reads)]
            customer_ids = [rng.choice(customers) for _ in range(args.reads)]

            def service(call):
                def run_one(arg):
                    with sessions() as session:
                        return call(session, arg)
                return run_one

            rows = [
                verdict("bought together", timed(product_ids, service(
                    lambda s, p: serve.bought_together(s, actor, p)))),
                verdict("for this customer", timed(customer_ids, service(
                    lambda s, c: serve.for_customer(s, actor, c)))),
                verdict("listing opportunities (first page)", timed(range(args.reads), service(
                    lambda s, _: serve.listing_opportunities(s, actor)))),
            ]
            print(f"\nReads through the service layer, one session each ({args.reads:,} per list, {machine()}):")
            print(table(("list", "reads", "p50 ms", "p95 ms", "p99 ms", f"p95 < {TARGET_MS:.0f}"), rows))
            print(f"\nOver HTTP (gunicorn as `make serve` runs it, one client, {args.reads:,} per list):")
            print(table(("endpoint", "requests", "p50 ms", "p95 ms", "p99 ms", f"p95 < {TARGET_MS:.0f}"),
                        http_reads(db_url, token, product_ids, customer_ids)))
            if args.keep:
                input(f"database kept at {db_url}; Enter drops it ")
        finally:
            app.extensions["hub"].engine.dispose()


def http_reads(db_url: str, token: str, product_ids: list[int], customer_ids: list[int]) -> list[tuple[object, ...]]:
    """The app served as `make serve` serves it (gunicorn, 3 processes), one client on loopback."""
    from bench.dashboard_bench import start_server

    child, root = start_server(db_url, workers=3)
    base = f"{root}/api/v1/recommendations"
    client = requests.Session()
    client.headers["Authorization"] = f"Bearer {token}"

    def get(path: str) -> None:
        reply = client.get(base + path, timeout=30)
        assert reply.status_code == 200, reply.text[:300]

    try:
        for p in product_ids[:50]:  # warm each worker's connections and caches
            get(f"/bought-together/{p}")
        return [
            verdict("GET bought-together/<id>", timed(product_ids, lambda p: get(f"/bought-together/{p}"))),
            verdict("GET customers/<id>", timed(customer_ids, lambda c: get(f"/customers/{c}"))),
            verdict("GET listing-opportunities", timed(range(len(product_ids)),
                                                       lambda _: get("/listing-opportunities"))),
        ]
    finally:
        child.terminate()
        child.wait()


if __name__ == "__main__":
    main()
