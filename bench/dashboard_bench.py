"""Dashboard latency: the orders list and the overview with many orders, under concurrent clients over HTTP.

    python -m bench.dashboard_bench [--orders 1000000] [--clients 16] [--seconds 60]

1. Seed: a scratch PostgreSQL database (hub.scratch), one seller, its owner, channels and products made through
   the services; then `--orders` orders (one or two lines each, and an FX snapshot each) written by set-based
   INSERT ... SELECT FROM generate_series with deterministic pseudo-random values (hashint4 of the row number):
   status mix, 6 channels, 15 ship-to countries, 6 currencies, placed over the last two years; and SYNC_RUNS
   finished sync runs across the channels and jobs, a few months of schedule. Foreign-key
   triggers are off while seeding (session_replication_role = replica; the rows are consistent by construction),
   then VACUUM ANALYZE (what autovacuum would have done to a table this old).
2. Serve: the app as `make serve` runs it, gunicorn with config/gunicorn.conf.py (`--workers` processes of 4
   threads), on a free loopback port; `--workers 0` serves it with one werkzeug threaded process instead, whose
   GIL serialises all the Python work. Either way in other processes than the load generator's.
3. Load: `--clients` threads, each with its own requests.Session signed in through the login form (CSRF token
   from /login), requesting the page mix round-robin (each client starting at a different page) for `--seconds`,
   once per `--think` value: the mean pause in ms a client takes before its first request and after each reply
   (uniform between 0 and twice the mean, so clients fall out of step). By default twice: 1000 ms, people
   working the dashboard, then 0, clients firing back to back, which measures the machine's throughput ceiling
   more than the pages' latency. Before that, one client alone requests each page `--solo` times: the service
   time without queueing.

Prints per page requests, p50/p95/p99 (ms) and errors, and the verdict against TARGET_MS at p95.
"""

from __future__ import annotations

import argparse
import html
import importlib
import logging
import os
import random
import re
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable

import requests
import sqlalchemy as sa

from bench.support import Stopwatch, machine, pg_reachable, pg_url, table, world_on
from hub.scratch import scratch_database

TARGET_MS = 100.0
CHANNELS = (("amazon", "Amazon DE"), ("amazon", "Amazon UK"), ("ebay", "eBay"), ("shopify", "Shopify"),
            ("woocommerce", "Web shop"), ("shopee", "Shopee"))
SKUS = [f"SKU-{i:03d}" for i in range(1, 41)]
# Weighted pools of 100: a row picks pool[hash % 100].
STATUS = (["pending"] * 5 + ["paid"] * 15 + ["partially_fulfilled"] * 3 + ["fulfilled"] * 20 + ["delivered"] * 47
          + ["cancelled"] * 5 + ["refunded"] * 3 + ["partially_refunded"] * 2)
CURRENCY = ["EUR"] * 45 + ["USD"] * 20 + ["GBP"] * 15 + ["PLN"] * 8 + ["SEK"] * 7 + ["CHF"] * 5
COUNTRY = (["DE"] * 25 + ["FR"] * 12 + ["GB"] * 12 + ["US"] * 10 + ["IT"] * 7 + ["ES"] * 7 + ["NL"] * 6
           + ["PL"] * 5 + ["AT"] * 4 + ["BE"] * 3 + ["SE"] * 3 + ["CH"] * 2 + ["DK"] * 2 + ["CZ"] * 1 + ["IE"] * 1)
TO_EUR = {"EUR": "1", "USD": "0.92", "GBP": "1.17", "PLN": "0.23", "SEK": "0.087", "CHF": "1.05"}
UNMATCHED_PERCENT = 2  # of lines, whose SKU matches no product


def _pool(values: list[str]) -> str:
    assert len(values) == 100
    return "ARRAY[" + ",".join(f"'{v}'" for v in values) + "]"


def _orders_sql(seller_id: int, channel_ids: list[int]) -> str:
    # r1..r3: independent pseudo-random non-negative ints per row; ids (serial) follow placed_at, as imports do.
    # Only integers and this module's constants are formatted into these statements.
    return f"""
    INSERT INTO orders (seller_id, channel_id, external_id, status, currency, subtotal, discount_total,
        shipping_total, tax_total, grand_total, refunded_total, prices_include_tax, buyer_name, buyer_email,
        ship_country, placed_at, updated_at, created_at, note, flags)
    SELECT {seller_id}, (ARRAY{channel_ids})[1 + r1 % {len(channel_ids)}], 'B-' || lpad(g::text, 9, '0'),
        st, cur, sub, 0, ship, round(sub * 0.19, 2), sub + ship + round(sub * 0.19, 2),
        CASE st WHEN 'refunded' THEN sub + ship + round(sub * 0.19, 2) ELSE 0 END, false,
        'Buyer ' || (r3 % 50000), 'buyer' || (r3 % 50000) || '@example.com', ctry, placed,
        placed + interval '1 hour', placed, '', '[]'
    FROM (SELECT g, r1, r3,
              ({_pool(STATUS)})[1 + (r1 / 7) % 100] AS st,
              ({_pool(CURRENCY)})[1 + r2 % 100] AS cur,
              ({_pool(COUNTRY)})[1 + r3 % 100] AS ctry,
              (500 + r2 / 100 % 30000) / 100.0 AS sub,
              CASE WHEN r2 % 3 = 0 THEN 0 ELSE 4.90 END AS ship,
              now() - (:n - g) * (interval '730 days' / :n) - (r1 % 3600) * interval '1 second' AS placed
          FROM (SELECT g, abs(hashint4(g)) AS r1, abs(hashint4(g + 1000000007)) AS r2,
                       abs(hashint4(-g)) AS r3
                FROM generate_series(1, :n) AS g) AS h) AS o
    ORDER BY g"""  # noqa: S608


SYNC_RUNS = 200_000  # a run per channel and job every few minutes for months: what the sync-health card reads
JOBS = ("pull", "push-inventory", "push-prices", "push-fulfilments", "check-drift")


def _runs_sql(seller_id: int, channel_ids: list[int]) -> str:
    return f"""
    INSERT INTO sync_runs (seller_id, channel_id, job, trigger, started_at, finished_at, outcome, pages, fetched,
        created, updated, unchanged, quarantined, pushed, push_failed, api_calls, retries, throttled, message, details)
    SELECT {seller_id}, (ARRAY{channel_ids})[1 + g % {len(channel_ids)}],
        (ARRAY{list(JOBS)})[1 + (g / {len(channel_ids)}) % {len(JOBS)}], 'schedule',
        now() - ({SYNC_RUNS} - g) * interval '40 seconds', now() - ({SYNC_RUNS} - g) * interval '40 seconds'
            + interval '2 seconds', CASE WHEN g % 50 = 0 THEN 'failed' ELSE 'ok' END,
        1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, '', '{{}}'
    FROM generate_series(1, {SYNC_RUNS}) AS g"""  # noqa: S608


LINES_SQL = f"""
    INSERT INTO order_lines (seller_id, order_id, line_no, sku, product_id, title, quantity, unit_price, discount,
        tax, line_total, quantity_fulfilled, quantity_short, base_line_total, external_line_id)
    SELECT l.seller_id, l.id, l.n, l.sku, p.id, 'Item ' || l.sku, 1, l.amount, 0, 0, l.amount, 0, 0, NULL, ''
    FROM (SELECT o.seller_id, o.id, n,
              CASE WHEN abs(hashint4(o.id * 2 + n + 77)) % 100 < {UNMATCHED_PERCENT}
                   THEN 'GONE-' || abs(hashint4(o.id)) % 500
                   ELSE 'SKU-' || lpad((1 + abs(hashint4(o.id * 2 + n)) % {len(SKUS)})::text, 3, '0') END AS sku,
              CASE WHEN o.id % 3 <> 0 THEN o.subtotal WHEN n = 1 THEN round(o.subtotal / 2, 2)
                   ELSE o.subtotal - round(o.subtotal / 2, 2) END AS amount
          FROM orders o CROSS JOIN generate_series(1, 2) AS n
          WHERE o.seller_id = :seller AND (n = 1 OR o.id % 3 = 0)) AS l
    LEFT JOIN products p ON p.seller_id = l.seller_id AND p.sku = l.sku
    ORDER BY l.id, l.n"""  # noqa: S608

FX_SQL = f"""
    INSERT INTO order_fx (order_id, seller_id, base_currency, order_currency, rate, rate_source, rate_as_of,
        subtotal, discount_total, shipping_total, tax_total, grand_total, lines_total, rounding_difference,
        created_at)
    SELECT o.id, o.seller_id, 'EUR', o.currency, r.rate, 'ecb', o.placed_at::date, round(o.subtotal * r.rate, 2),
        0, round(o.shipping_total * r.rate, 2), round(o.tax_total * r.rate, 2), round(o.grand_total * r.rate, 2),
        round(o.subtotal * r.rate, 2), 0, o.placed_at
    FROM orders o JOIN (VALUES {", ".join(f"('{c}', {r})" for c, r in TO_EUR.items())}) AS r(currency, rate)
        ON r.currency = o.currency
    WHERE o.seller_id = :seller"""  # noqa: S608


def seed(url: str, orders: int) -> tuple[str, str, list[tuple[str, float]]]:
    """Seller, owner, channels and products through the services, then the orders in SQL. (email, password,
    seconds per step)."""
    steps: list[tuple[str, float]] = []
    with Stopwatch() as watch, world_on(url) as w:
        channel_ids = [w.channel(kind, "http://127.0.0.1:9", {"token": "x"}, name=name) for kind, name in CHANNELS]
        w.products(SKUS)
        email, password, seller_id = w.email, w.password, w.seller_id
    steps.append(("seller, channels, products (services)", watch.seconds))
    engine = sa.create_engine(url)
    statements = [("orders", _orders_sql(seller_id, channel_ids)), ("order lines", LINES_SQL),
                  ("order FX snapshots", FX_SQL),
                  ("lines' base totals", "UPDATE order_lines l SET base_line_total = round(l.line_total * f.rate, 2) "
                                         "FROM order_fx f WHERE f.order_id = l.order_id AND l.seller_id = :seller"),
                  (f"{SYNC_RUNS:,} sync runs", _runs_sql(seller_id, channel_ids))]
    with engine.begin() as conn:
        conn.exec_driver_sql("SET session_replication_role = replica")
        for label, sql in statements:
            with Stopwatch() as watch:
                conn.execute(sa.text(sql), {"n": orders, "seller": seller_id} if ":n" in sql else {"seller": seller_id})
            steps.append((label, watch.seconds))
    with Stopwatch() as watch, engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
    steps.append(("VACUUM ANALYZE", watch.seconds))
    steps.append(refresh_summaries(engine, seller_id))
    engine.dispose()
    return email, password, steps


def refresh_summaries(engine: sa.Engine, seller_id: int) -> tuple[str, float]:
    """The overview's summary table, when hub.reports has a refresh for it (it is being built): as the worker
    would keep it, so the overview is measured as it will run."""
    refresh: Callable[..., object] | None = getattr(importlib.import_module("hub.reports"), "refresh_sales", None)
    if refresh is None:
        return "reports.refresh_sales (not present)", 0.0
    with Stopwatch() as watch, sa.orm.Session(engine) as session, session.begin():
        refresh(session, seller_id=seller_id)
    return "reports.refresh_sales", watch.seconds


# --- serving ---------------------------------------------------------------------------------------------------
def serve(url: str) -> None:
    """The child process: the app on an ephemeral loopback port, printed on stdout, until killed."""
    from werkzeug.serving import make_server

    from hub import create_app

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": secrets.token_hex(16)})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(server.server_port, flush=True)
    server.serve_forever()


def start_server(url: str, workers: int) -> tuple[subprocess.Popen[str], str]:
    """`workers` 0: one werkzeug process (the development server); else gunicorn as `make serve` runs it."""
    if not workers:
        child = subprocess.Popen([sys.executable, "-m", "bench.dashboard_bench", "--serve", url],  # noqa: S603
                                 stdout=subprocess.PIPE, text=True)
        assert child.stdout is not None
        return child, f"http://127.0.0.1:{int(child.stdout.readline())}"
    with socket.socket() as probe:  # a free port for gunicorn, which does not print the one it was given
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "HUB_DATABASE_URL": url, "HUB_SECRET_KEY": secrets.token_hex(16)}
    child = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py",  # noqa: S603
                              "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "wsgi:app"], env=env, text=True)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if requests.get(f"{base}/login", timeout=5).ok:
                return child, base
        except requests.RequestException:  # not listening yet, or a worker still importing the app
            time.sleep(0.1)
    child.terminate()
    raise SystemExit("gunicorn did not start within 30 s")


# --- load ------------------------------------------------------------------------------------------------------
def signed_in(base: str, email: str, password: str) -> requests.Session:
    client = requests.Session()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get(f"{base}/login").text)
    assert token, "no CSRF token on /login"
    reply = client.post(f"{base}/login", data={"email": email, "password": password, "csrf_token": token[1]})
    assert reply.ok and "/login" not in reply.url, f"login failed: {reply.status_code} {reply.url}"
    return client


def next_link(page: str) -> str | None:
    found = re.search(r'<a rel="next" href="([^"]+)"', page)
    return html.unescape(found[1]) if found else None


def pages(client: requests.Session, base: str, url: str) -> dict[str, str]:
    """The page mix: name -> path. The 100th page's cursor is found once by following 99 next links."""
    path = "/orders"
    for _ in range(99):
        reply = client.get(base + path)
        link = next_link(reply.text)
        assert reply.ok and link, f"no next link after {path}"
        path = link
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        external_id = conn.scalar(sa.text("SELECT external_id FROM orders ORDER BY id LIMIT 1 OFFSET "
                                          "(SELECT count(*) / 2 FROM orders)"))
        week = conn.scalar(sa.text("SELECT (max(placed_at) - interval '60 days')::date FROM orders"))
    engine.dispose()
    return {
        "/orders": "/orders", "/orders page 100": path, "status=paid": "/orders?status=paid",
        "country=DE": "/orders?country=DE", "currency=USD": "/orders?currency=USD",
        f"channel={CHANNELS[2][1]}": f"/orders?channel={CHANNELS[2][1]}", "unmatched=true": "/orders?unmatched=true",
        "q=<external id>": f"/orders?q={external_id}",
        "placed a week": f"/orders?from={week}&to={week.fromordinal(week.toordinal() + 6)}",
        "sort=total_high": "/orders?sort=total_high", "/overview": "/overview",
    }


Samples = dict[str, list[float]]


def drive(clients: list[requests.Session], base: str, mix: dict[str, str], *, seconds: float = 0,
          each: int = 0, think: float = 0) -> tuple[Samples, dict[str, int], float]:
    """Every client requests the mix round-robin, pausing `think` seconds on average after each reply: for
    `seconds`, or each page `each` times. (ms per page, errors per page, wall seconds)."""
    names = list(mix)
    samples: Samples = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def run(k: int, client: requests.Session) -> None:
        i, jitter = k, random.Random(k)  # pauses, not secrets
        # A first pause too: people do not all click at the same instant, and 16 requests at once at the start
        # made the slowest 2 % of a phase at people's pace (its p99) a measure of that one burst.
        time.sleep(jitter.uniform(0, 2 * think))
        while (time.perf_counter() < deadline) if seconds else i < k + each * len(names):
            name = names[i % len(names)]
            i += 1
            started = time.perf_counter()
            try:
                ok = client.get(base + mix[name], allow_redirects=False, timeout=60).status_code == 200
            except requests.RequestException:
                ok = False
            ms = (time.perf_counter() - started) * 1000
            with lock:
                samples[name].append(ms)
                if not ok:
                    errors[name] += 1
            time.sleep(jitter.uniform(0, 2 * think))  # uniform around the mean: clients fall out of step

    threads = [threading.Thread(target=run, args=(k, c)) for k, c in enumerate(clients)]
    with Stopwatch() as watch:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    return samples, errors, watch.seconds


def percentile(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1] if len(values) > 1 else values[0]


def report(mix: dict[str, str], samples: Samples, errors: dict[str, int]) -> str:
    rows = []
    for name in mix:
        ms = samples[name]
        p95 = percentile(ms, 95)
        rows.append((name, len(ms), percentile(ms, 50), p95, percentile(ms, 99), errors.get(name, 0),
                     "ok" if p95 < TARGET_MS and not errors.get(name) else "MISS"))
    return table(("page", "requests", "p50 ms", "p95 ms", "p99 ms", "errors", f"p95 < {TARGET_MS:.0f}"), rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60.0, help="of concurrent load")
    parser.add_argument("--think", type=float, action="append",
                        help="mean ms a client waits after each reply (uniform 0..2x); repeatable, one load phase "
                             "per value (default: 1000, then 0)")
    parser.add_argument("--solo", type=int, default=10, help="requests per page by one client alone first")
    parser.add_argument("--skip", action="append", default=[], metavar="PAGE",
                        help="leave a page of the mix out (its name as printed); repeatable")
    parser.add_argument("--workers", type=int, default=3,
                        help="gunicorn worker processes (4 threads each); 0 serves with one werkzeug process")
    parser.add_argument("--keep", action="store_true", help="wait for Enter before dropping the database")
    parser.add_argument("--reuse", nargs=3, metavar=("URL", "EMAIL", "PASSWORD"),
                        help="measure a database seeded and kept by an earlier --keep run instead of seeding one")
    parser.add_argument("--serve", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    url = pg_url()
    if not pg_reachable(url):
        sys.exit(f"PostgreSQL not reachable at {url}")
    if args.reuse:
        db_url, email, password = args.reuse
        measure(args, db_url, email, password)
        return
    with scratch_database(url, "dash_") as db_url:
        with Stopwatch() as watch:
            email, password, steps = seed(db_url, args.orders)
        print(f"Seeded {args.orders:,} orders in {watch.seconds:.1f} s")
        print(table(("step", "s"), steps))
        measure(args, db_url, email, password)
        if args.keep:
            input(f"database kept: --reuse {db_url} {email} {password}\nEnter drops it ")


def measure(args: argparse.Namespace, db_url: str, email: str, password: str) -> None:
    child, base = start_server(db_url, args.workers)
    try:
        clients = [signed_in(base, email, password) for _ in range(args.clients)]
        mix = {k: v for k, v in pages(clients[0], base, db_url).items() if k not in args.skip}
        solo, solo_errors, _ = drive(clients[:1], base, mix, each=args.solo)
        print(f"\nOne client alone, {args.solo} requests per page ({machine()}):")
        print(report(mix, solo, solo_errors))
        server = (f"gunicorn, {args.workers} processes" if args.workers else "werkzeug threaded server, one process")
        for think in args.think or (1000.0, 0.0):
            samples, errors, wall = drive(clients, base, mix, seconds=args.seconds, think=think / 1000)
            total = sum(len(v) for v in samples.values())
            print(f"\n{args.clients} clients, think time {think:.0f} ms, {wall:.0f} s, {total:,} requests "
                  f"({total / wall:.0f}/s); {server} ({machine()}):")
            print(report(mix, samples, errors))
            missed = [n for n in mix if percentile(samples[n], 95) >= TARGET_MS or errors.get(n)]
            print(f"Verdict with {think:.0f} ms think time: "
                  f"{'all pages meet' if not missed else ', '.join(missed) + ' MISS'} the p95 < {TARGET_MS:.0f} ms "
                  "target")
    finally:
        child.terminate()
        child.wait()

if __name__ == "__main__":
    main()
