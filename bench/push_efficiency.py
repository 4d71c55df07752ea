"""Stock push efficiency: marketplace write calls made for K changed SKUs, against ceil(K / cap).

    python -m bench.push_efficiency [--k shopify=600/260,woocommerce=250/101,ebay=60/26,amazon=12/5,shopee=8/3]

For each connector whose sandbox takes stock pushes, a channel on a fresh SQLite database sells K SKUs (added to
the sandbox's catalogue where it has fewer), each linked to a product with stock. Two runs of
hub.sync.jobs.run_job(env, channel, "push-inventory"), real clock, over real HTTP:

1. first push: nothing was pushed before, so all K listings are changed;
2. after the stock of k of those products changed: only those k should be sent.

What is counted, at the sandbox (a WSGI wrapper sees every request the marketplace would):
  writes   requests that set stock: Shopify inventorySetQuantities, WooCommerce POST products/batch, eBay
           bulk_update_price_quantity, Amazon PATCH listings item, Shopee update_stock. A retried write counts
           each time it arrived.
  lookups  every other request: auth tokens, SKU -> id lookups (Shopify variants by SKU and the location,
           WooCommerce products by SKU, Shopee's item and model lists).
  run      the run's api_calls and throttled (sync_runs, from the client's audit records, one per attempt;
           throttled = answers that said "slow down", a 429 or Shopify's THROTTLED in a 200 body, after which
           that write or lookup is sent again).
minimum = ceil(K / cap), cap being the marketplace's bulk limit per call; Shopee takes one item (all of its
models) per call, so its minimum is the number of distinct items among the K SKUs.
"""

from __future__ import annotations

import argparse
import io
import logging
import math
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from bench.support import World, machine, table, world
from hub.catalog import stock
from hub.catalog.schemas import StockAdjustment
from hub.channels.models import Listing
from hub.sandbox import amazon, ebay, shopee, shopify, woocommerce
from hub.sandbox.server import running
from hub.sandbox.shopify.state import Variant
from hub.sync.jobs import run_job
from hub.sync.models import SyncRun

Environ = dict[str, Any]


class Counting:
    """A WSGI wrapper counting requests, and those `is_write` says set stock."""

    def __init__(self, app: Any, is_write: Callable[[str, str, bytes], bool]) -> None:
        self.app, self.is_write, self.name = app, is_write, getattr(app, "name", "sandbox")
        self.writes = self.total = 0
        self._lock = threading.Lock()

    def __call__(self, environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = b""
        if environ["REQUEST_METHOD"] in ("POST", "PUT", "PATCH"):
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)  # the app reads it again
        write = self.is_write(environ["REQUEST_METHOD"], environ["PATH_INFO"], body)
        with self._lock:
            self.total += 1
            self.writes += write
        return self.app(environ, start_response)

    def reset(self) -> None:
        self.writes = self.total = 0


@dataclass
class Setup:
    kind: str
    cap: str
    make: Callable[[list[str]], Any]  # the sandbox app, knowing these SKUs
    credentials: Callable[[Any, str], dict[str, str]]
    options: Callable[[str], dict[str, Any]]
    is_write: Callable[[str, str, bytes], bool]
    minimum: Callable[[list[str]], int]
    skus: Callable[[int], list[str]]


def per_cap(cap: int) -> Callable[[list[str]], int]:
    return lambda skus: math.ceil(len(skus) / cap)


def numbered(prefix: str) -> Callable[[int], list[str]]:
    return lambda k: [f"{prefix}-{i:05d}" for i in range(1, k + 1)]


def _shopify(skus: list[str]) -> Any:
    app = shopify.create_app(seed=1, orders=0)
    shop = app.extensions["sandbox"]
    for n, sku in enumerate(skus, 1):
        if sku not in shop.variants:
            shop.variants[sku] = Variant(45_000_000_000_000 + n, sku, f"Bench {sku}", Decimal("9.90"),
                                         47_000_000_000_000 + n, 8_500_000_000_000 + n, Decimal("9.90"))
            for location in shop.locations:
                shop.levels[(47_000_000_000_000 + n, location)] = 0
    return app


def _woocommerce(skus: list[str]) -> Any:
    app = woocommerce.create_app(seed=1, orders=0)
    state = app.extensions["sandbox"]
    template = next(iter(state.products.values()))
    for n, sku in enumerate(skus, 1):
        state.products[5000 + n] = {**template, "id": 5000 + n, "sku": sku, "slug": sku.lower(), "name": sku}
    return app


def _ebay(skus: list[str]) -> Any:
    app = ebay.create_app(seed=1, orders=0)
    app.extensions["sandbox"].inventory.update(dict.fromkeys(skus, 0))
    return app


def _amazon(skus: list[str]) -> Any:
    app = amazon.create_app(seed=1, orders=0)
    listings = app.extensions["sandbox"].listings
    for sku in skus:
        listings[sku] = {"sku": sku, "productType": "PRODUCT", "quantity": 0, "prices": {}}
    return app


SHOPEE_SKUS = {sku: item for item, _n, item_sku, _p, models in shopee.CATALOGUE
               for sku in ([m_sku for _m, _mn, m_sku in models] if models else [item_sku]) if sku}


def setups() -> list[Setup]:
    return [
        Setup("shopify", "250", _shopify,
              lambda app, _url: {"access_token": app.extensions["sandbox"].access_token,
                                 "api_secret": app.extensions["sandbox"].api_secret},
              lambda _url: {}, lambda m, p, body: m == "POST" and b"inventorySetQuantities" in body,
              per_cap(250), numbered("SHF")),
        Setup("woocommerce", "100", _woocommerce,
              lambda _app, _url: {"consumer_key": woocommerce.CONSUMER_KEY,
                                  "consumer_secret": woocommerce.CONSUMER_SECRET},
              lambda _url: {}, lambda m, p, _b: m == "POST" and p.endswith("/products/batch"),
              per_cap(100), numbered("WOO")),
        Setup("ebay", "25", _ebay,
              lambda _app, _url: {"client_id": ebay.CLIENT_ID, "client_secret": ebay.CLIENT_SECRET,
                                  "refresh_token": ebay.REFRESH_TOKEN},
              lambda _url: {}, lambda m, p, _b: m == "POST" and p.endswith("/bulk_update_price_quantity"),
              per_cap(25), numbered("EBY")),
        Setup("amazon", "1", _amazon, lambda _app, _url: dict(amazon.CREDENTIALS),
              lambda url: {"marketplace_ids": ["A1PA6795UKMFR9"], "lwa_endpoint": f"{url}/auth/o2/token"},
              lambda m, p, _b: m == "PATCH" and p.startswith("/listings/"), per_cap(1), numbered("AMZ")),
        Setup("shopee", "1 item", lambda _skus: shopee.create_app(seed=1, orders=1),
              lambda app, _url: app.extensions["sandbox"].credentials, lambda _url: {},
              lambda m, p, _b: m == "POST" and p.endswith("/product/update_stock"),
              lambda skus: len({SHOPEE_SKUS[s] for s in skus}), lambda k: list(SHOPEE_SKUS)[:k]),
    ]


def link(w: World, channel_id: int, skus: list[str]) -> None:
    """A listing per SKU on the channel, linked to the product of that SKU."""
    from hub.catalog.models import Product

    with w.env.sessions.begin() as session:
        ids = dict(session.execute(sa.select(Product.sku, Product.id).where(Product.seller_id == w.seller_id,
                                                                            Product.sku.in_(skus))).all())
        session.add_all(Listing(seller_id=w.seller_id, channel_id=channel_id, channel_sku=sku, product_id=ids[sku],
                                is_active=True, push_error="") for sku in skus)


def change_stock(w: World, skus: list[str]) -> None:
    with w.env.sessions.begin() as session:
        session.info["seller_id"] = w.seller_id
        for sku in skus:
            stock.adjust(session, w.actor, StockAdjustment(sku=sku, warehouse="MAIN", delta=-1, reason="bench"))


def push(w: World, channel_id: int, counter: Counting) -> tuple[int, int, int, int, int, int]:
    """(pushed, refused, writes, lookups, run api_calls, run throttled) of one push-inventory run."""
    counter.reset()
    result = run_job(w.env, channel_id, "push-inventory", trigger="cli")
    if result.run_id is None or not result.counts:
        raise SystemExit(f"push-inventory failed: {result.outcome} {result.message}")
    with w.env.sessions() as session:
        run = session.get(SyncRun, result.run_id)
        calls, throttled = run.api_calls, run.throttled
    pushed, refused = result.counts["pushed"], result.counts["push_failed"]
    return pushed, refused, counter.writes, counter.total - counter.writes, calls, throttled


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.push_efficiency", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--k", default="shopify=600/260,woocommerce=250/101,ebay=60/26,amazon=12/5,shopee=8/3",
                        help="KIND=K/k,...: SKUs on the channel (all pushed first) and how many change next "
                             "(default %(default)s)")
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    sizes = {kind: tuple(int(n) for n in ks.split("/")) for kind, ks in (p.split("=") for p in args.k.split(","))}
    print(f"stock push efficiency, push-inventory runs over real HTTP, SQLite; {machine()}")
    rows: list[list[object]] = []
    with world("sqlite") as w:
        for setup in (s for s in setups() if s.kind in sizes):
            big, small = sizes[setup.kind]
            skus = setup.skus(big)
            w.products(skus, quantity=50)
            counter = Counting(setup.make(skus), setup.is_write)
            with running(counter) as url:  # type: ignore[arg-type]
                app = counter.app
                channel_id = w.channel(setup.kind, url, setup.credentials(app, url), options=setup.options(url))
                link(w, channel_id, skus)
                for label, changed in (("first push", skus), ("k changed", skus[:small])):
                    if label == "k changed":
                        change_stock(w, changed)
                    pushed, refused, writes, lookups, calls, throttled = push(w, channel_id, counter)
                    minimum = setup.minimum(changed)
                    ratio = f"{writes / minimum:.2f}" if minimum else "-"
                    rows.append([setup.kind, label, len(changed), setup.cap, minimum, writes, ratio, lookups,
                                 calls, throttled, pushed, refused])
    print(table(["connector", "run", "changed SKUs", "cap", "minimum", "writes", "writes/min", "lookups",
                 "run api_calls", "run throttled", "pushed", "refused"], rows))


if __name__ == "__main__":
    main()
