"""Rate-limit efficiency: how close a full order pull comes to the fastest its marketplace's limit allows.

    python -m bench.rate_limit_efficiency [--woo-orders 300] [--woo-limit 5/2] [--shopee-orders 2500]

Real clock, sandboxes served in-process over real HTTP, the connectors exactly as the sync engine opens them,
with no database (a pull's database work would hide the limiter: see bench.pull_throughput for that). Every
call is counted from the audit records the connector writes (the same records a run's api_calls/throttled
come from); "429s" are the answers that said "slow down".

- WooCommerce, fixed window (hub.sandbox.woocommerce rate_limit=(calls, seconds), RateLimit-* headers): the
  client waits for RateLimit-Reset once a window is spent, so it should never see a 429.
- Shopee, token bucket of 10 calls/s with a burst of 20 (the sandbox's and Shopee's v2 figures): the client
  paces itself with its own copy of the bucket (hub.outbound.pacing.Pacer).

Each pull is run twice on identical data: once with no limit, giving the time per call t, and once limited.
The minimum for C calls is the later of C*t and what the limit permits:
  fixed window (L calls per W s): (ceil(C/L) - 1) * W + (the calls of the last window) * t
  token bucket (rate R, burst B):  (C - B) / R
efficiency = minimum / wall time (1.0 is perfect); "x minimum" is its inverse.
"""

from __future__ import annotations

import argparse
import logging
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.support import Stopwatch, machine, table
from hub.channels import registry
from hub.channels.registry import Connection
from hub.outbound.audit import MemoryAudit
from hub.sandbox import shopee, woocommerce
from hub.sandbox.server import running

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)
WOO_CREDENTIALS = {"consumer_key": woocommerce.CONSUMER_KEY, "consumer_secret": woocommerce.CONSUMER_SECRET}
SHOPEE_RATE, SHOPEE_BURST = 10.0, 20.0


def pull(kind: str, app: Any, credentials: dict[str, str], options: dict[str, Any], since: datetime
         ) -> tuple[float, int, int, int]:
    """(seconds, pages, calls, throttled) for one full pull through the connector."""
    audit = MemoryAudit()
    with running(app) as base_url:
        connector = registry.load().get(kind).connector(
            Connection(base_url=base_url, credentials=credentials, options=options, audit=audit))
        pages, cursor = 0, None
        with Stopwatch() as watch:
            while True:
                page = connector.pull_orders(since, cursor)
                pages += 1
                cursor = page.next_cursor
                if cursor is None:
                    break
    throttled = sum(1 for c in audit.calls if c.throttled or c.status == 429)
    return watch.seconds, pages, len(audit.calls), throttled


def measure(name: str, make_app: Callable[[bool], Any], kind: str, credentials: Callable[[Any], dict[str, str]],
            options: Callable[[bool], dict[str, Any]], since: datetime, limit: str,
            minimum: Callable[[int, float], float]) -> list[object]:
    free = make_app(False)
    free_s, _, free_calls, _ = pull(kind, free, credentials(free), options(False), since)
    per_call = free_s / max(free_calls, 1)
    limited = make_app(True)
    wall, pages, calls, throttled = pull(kind, limited, credentials(limited), options(True), since)
    floor = max(minimum(calls, per_call), calls * per_call)
    return [name, limit, pages, calls, throttled, free_s, floor, wall, floor / wall, f"{wall / floor:.2f}x"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.rate_limit_efficiency", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--woo-orders", type=int, default=300, help="WooCommerce orders (default 300)")
    parser.add_argument("--woo-per-page", type=int, default=10, help="WooCommerce orders a page (default 10)")
    parser.add_argument("--woo-limit", default="5/2", help="WooCommerce fixed window CALLS/SECONDS (default 5/2)")
    parser.add_argument("--shopee-orders", type=int, default=2500, help="Shopee orders (default 2500)")
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    calls_per, seconds = (int(x) for x in args.woo_limit.split("/"))
    print(f"rate-limit efficiency, real clock; {machine()}")
    rows = [
        measure("woocommerce", lambda limited: woocommerce.create_app(
                    seed=3, orders=args.woo_orders, rate_limit=(calls_per, seconds) if limited else None),
                "woocommerce", lambda _app: WOO_CREDENTIALS, lambda _limited: {"per_page": args.woo_per_page}, LONG_AGO,
                f"fixed window {calls_per} calls/{seconds} s",
                lambda c, t: (math.ceil(c / calls_per) - 1) * seconds + (c - (math.ceil(c / calls_per) - 1)
                                                                         * calls_per) * t),
        # The sandbox's orders are from the last 60 days: 61 days back is every one, in five 15-day windows.
        measure("shopee", lambda limited: shopee.create_app(
                    seed=3, orders=args.shopee_orders, rate=SHOPEE_RATE if limited else 1e6,
                    burst=SHOPEE_BURST if limited else 1e6),
                # Unlimited also means the client's own pacing off (options.rate_limit), or t would include it.
                "shopee", lambda app: app.extensions["sandbox"].credentials,
                lambda limited: {} if limited else {"rate_limit": (1e6, 1e6)},
                datetime.now(UTC) - timedelta(days=61),
                f"token bucket {SHOPEE_RATE:g}/s, burst {SHOPEE_BURST:g}",
                lambda c, _t: max(0.0, (c - SHOPEE_BURST) / SHOPEE_RATE)),
    ]
    print(table(["sandbox", "limit", "pages", "calls", "429s", "unlimited s", "minimum s", "wall s", "efficiency",
                 "x minimum"], rows))


if __name__ == "__main__":
    main()
