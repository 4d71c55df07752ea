"""The replay contract every connector keeps with the quarantine (hub.sync.quarantine.replay).

A pull stores, for a rejected order, the raw payload of `OrderPage.rejected`, and for an order the database
refuses, `ChannelOrder.raw`. A replay maps that payload alone with `spec.normalize([payload])`. So, for every
connector, over every page of a pull against its sandbox (with a share of malformed orders):

(a) a rejected payload, stored and read back, still fails with MappingError and the reason the pull gave, and
    once fixed (the missing field put back) maps to exactly that one order;
(b) an order's raw, stored and read back, maps to exactly one order equal to it on the canonical fields.

The payload goes through the same exact JSON the database column uses (Decimals kept, tuples made lists).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hub.channels.port import ChannelOrder
from hub.channels.registry import Connection, ConnectorSpec
from hub.channels.values import MappingError
from hub.jsonexact import dumps_exact, parse_json
from hub.outbound.audit import MemoryAudit
from hub.outbound.http import RetryPolicy
from hub.sandbox.server import running
from tests.channels.support import FakeClock, pull_all

MALFORMED = 0.1
CANONICAL = ("external_id", "status", "currency", "total", "subtotal", "shipping", "tax", "discount", "lines",
             "placed_at", "updated_at")
NO_RETRY_WAIT = RetryPolicy(attempts=4, initial_seconds=0, max_seconds=0, jitter_seconds=0)


@dataclass
class Channel:
    spec: ConnectorSpec
    connector: Any
    since: datetime
    fix: Callable[[str, dict[str, Any]], None]  # (external id, payload): put back what the sandbox left out


def stored(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as the quarantine's JSON column gives it back."""
    return parse_json(dumps_exact(payload))


def canonical(order: ChannelOrder) -> dict[str, Any]:
    return {name: getattr(order, name) for name in CANONICAL}


# --- one sandbox per connector ----------------------------------------------------------------------------------

@contextmanager
def shopify(tmp_path: Path) -> Iterator[Channel]:
    from hub.channels.shopify import SPEC
    from hub.channels.shopify.client import LINE_PAGE
    from hub.sandbox.shopify import create_app

    clock = FakeClock(datetime(2026, 2, 1, tzinfo=UTC).timestamp())
    app = create_app(seed=5, orders=150, clock=clock, malformed_order_rate=MALFORMED)
    shop = app.extensions["sandbox"]
    assert any(len(o.lines) > LINE_PAGE for o in shop.orders.values())  # some raws merge further line pages

    def fix(external_id: str, payload: dict[str, Any]) -> None:
        order = shop.orders[int(external_id)]
        quantities = {f"gid://shopify/LineItem/{line.number}": line.quantity for line in order.lines}
        payload["presentmentCurrencyCode"] = order.currency
        for edge in payload["lineItems"]["edges"]:
            edge["node"]["quantity"] = quantities[edge["node"]["id"]]

    with running(app) as base:
        connection = Connection(base, {"access_token": shop.access_token, "api_secret": shop.api_secret},
                                audit=MemoryAudit(), sleep=clock.sleep, clock=clock)
        yield Channel(SPEC, SPEC.connector(connection), datetime(2000, 1, 1, tzinfo=UTC), fix)


@contextmanager
def woocommerce(tmp_path: Path) -> Iterator[Channel]:
    from hub.channels.woocommerce import SPEC
    from hub.sandbox.woocommerce import CONSUMER_KEY, CONSUMER_SECRET, WEBHOOK_SECRET, create_app

    app = create_app(seed=7, orders=230, malformed_order_rate=MALFORMED)
    state = app.extensions["sandbox"]

    def fix(external_id: str, payload: dict[str, Any]) -> None:
        payload["currency"] = state.orders[int(external_id)]["currency"]

    with running(app) as base:
        connection = Connection(base, {"consumer_key": CONSUMER_KEY, "consumer_secret": CONSUMER_SECRET,
                                       "webhook_secret": WEBHOOK_SECRET},
                                audit=MemoryAudit(), sleep=lambda _: None)
        yield Channel(SPEC, SPEC.connector(connection), datetime(2000, 1, 1, tzinfo=UTC), fix)


@contextmanager
def amazon(tmp_path: Path) -> Iterator[Channel]:
    from hub.channels.amazon import SPEC
    from hub.sandbox.amazon import CREDENTIALS, create_app

    clock = FakeClock(1000.0)
    app = create_app(seed=7, orders=120, clock=clock, malformed_order_rate=MALFORMED)
    state = app.extensions["sandbox"]
    marketplaces = sorted({r["order"]["MarketplaceId"] for r in state.orders.values()})

    def fix(external_id: str, payload: dict[str, Any]) -> None:
        payload["order"]["OrderStatus"] = state.orders[external_id]["order"]["OrderStatus"]

    with running(app) as base:
        connection = Connection(base, CREDENTIALS, audit=MemoryAudit(), sleep=clock.sleep, clock=clock,
                                options={"marketplace_ids": marketplaces, "lwa_endpoint": f"{base}/auth/o2/token",
                                         "page_size": 20})
        yield Channel(SPEC, SPEC.connector(connection), datetime(2000, 1, 1, tzinfo=UTC), fix)


@contextmanager
def ebay(tmp_path: Path) -> Iterator[Channel]:
    from hub.channels.ebay import SPEC
    from hub.sandbox import ebay as sandbox

    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    app = sandbox.create_app(seed=7, orders=200, clock=lambda: now, malformed_order_rate=MALFORMED)
    state = app.extensions["sandbox"]
    unchanged = copy.deepcopy(state.orders)

    def fix(external_id: str, payload: dict[str, Any]) -> None:
        payload["orderPaymentStatus"] = unchanged[external_id]["orderPaymentStatus"]

    with running(app) as base:
        credentials = {"client_id": sandbox.CLIENT_ID, "client_secret": sandbox.CLIENT_SECRET,
                       "refresh_token": sandbox.REFRESH_TOKEN}
        connection = Connection(base, credentials, audit=MemoryAudit(), sleep=lambda _: None,
                                options={"retry": NO_RETRY_WAIT, "page_size": 50})
        yield Channel(SPEC, SPEC.connector(connection, now=lambda: now), now - timedelta(days=89), fix)


@contextmanager
def shopee(tmp_path: Path) -> Iterator[Channel]:
    from hub.channels.shopee import SPEC
    from hub.sandbox.shopee import create_app

    app = create_app(seed=7, orders=150, rate=1000, burst=1000, malformed_order_rate=MALFORMED)
    state = app.extensions["sandbox"]

    def fix(external_id: str, payload: dict[str, Any]) -> None:
        payload["currency"] = state.orders[external_id]["currency"]

    with running(app) as base:
        connection = Connection(base, state.credentials, audit=MemoryAudit(), sleep=lambda _: None)
        connector = SPEC.connector(connection)
        connector.client.http.retry = NO_RETRY_WAIT
        yield Channel(SPEC, connector, datetime.now(UTC) - timedelta(days=70), fix)


CSV_HEADER = ("order_id;status;currency;placed_at;updated_at;sku;title;quantity;unit_price;line_total;order_total;"
              "shipping;tax;prices_include_tax;buyer_name;ship_city;ship_country")


@contextmanager
def csv(tmp_path: Path) -> Iterator[Channel]:
    """No HTTP: order files in an inbox, read with seller options a replay must know (decimal comma, naive
    times in Europe/Berlin, the seller's own status labels); about a tenth of the orders has no currency."""
    from random import Random

    from hub.channels.csv import SPEC

    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    inbox.mkdir()
    rng = Random(3)
    currencies: dict[str, str] = {}
    for file_number in range(3):
        rows = [CSV_HEADER]
        for n in range(40):
            order_id = f"K-{file_number}{n:03d}"
            currency = rng.choice(["EUR", "CHF", "JPY"])
            currencies[order_id] = currency
            shown = "" if rng.random() < MALFORMED else currency
            status = rng.choice(["Bezahlt", "Versendet", "paid", "cancelled+refunded"])
            day = 1 + n % 27
            placed = f"2026-03-{day:02d} 10:{n % 60:02d}:00"
            updated = f"2026-03-{day:02d} 18:30:00" if n % 3 else ""
            count = rng.randint(1, 3)
            prices = [rng.randint(100, 5000) for _ in range(count)]
            quantities = [rng.randint(1, 4) for _ in range(count)]

            def money(cents: int, currency: str = currency) -> str:
                return str(cents) if currency == "JPY" else f"{cents // 100},{cents % 100:02d}"

            total = money(sum(p * q for p, q in zip(prices, quantities, strict=True)) + 490)
            for line in range(count):
                rows.append(";".join([
                    order_id, status, shown, placed, updated, f"SKU-{line}", f"Artikel {line}", str(quantities[line]),
                    money(prices[line]), "" if line else money(prices[line] * quantities[line]), total,
                    money(490), "", "yes" if n % 2 else "no", f"Käufer {n}", "Köln", "DE"]))
        (inbox / f"2026-03-0{file_number + 1}.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")

    def fix(external_id: str, payload: dict[str, Any]) -> None:
        for row in payload["rows"]:
            row["currency"] = currencies[external_id]

    options = {"inbox": str(inbox), "outbox": str(outbox), "timezone": "Europe/Berlin", "decimal_comma": True,
               "statuses": {"Bezahlt": "paid", "Versendet": "fulfilled"}, "country": "DE"}
    yield Channel(SPEC, SPEC.connector(Connection("", {}, options=options)), datetime(2000, 1, 1, tzinfo=UTC), fix)


CHANNELS = {"shopify": shopify, "woocommerce": woocommerce, "amazon": amazon, "ebay": ebay, "shopee": shopee,
            "csv": csv}


@pytest.fixture(params=sorted(CHANNELS))
def channel(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Channel]:
    with CHANNELS[request.param](tmp_path) as built:
        yield built


# --- the contract -----------------------------------------------------------------------------------------------

def test_every_stored_payload_of_a_pull_replays_as_the_pull_mapped_it(channel: Channel) -> None:
    orders, rejected, pages = pull_all(channel.connector, channel.since)
    assert pages > 1 and orders
    assert rejected, "the sandbox served no malformed order on the pages pulled"
    normalize = channel.spec.normalize
    for external_id, reason, raw in rejected:  # (a): still bad, so still refused, for the same reason
        with pytest.raises(MappingError) as refused:
            normalize([stored(raw)])
        assert reason in str(refused.value), (external_id, reason, str(refused.value))
    for order in orders:  # (b): the raw is self-sufficient
        again = normalize([stored(order.raw)])
        assert len(again) == 1, order.external_id
        assert canonical(again[0]) == canonical(order)


def test_a_rejected_payload_once_fixed_replays_to_exactly_its_order(channel: Channel) -> None:
    _, rejected, _ = pull_all(channel.connector, channel.since)
    assert rejected
    external_id, _, raw = max(rejected, key=lambda r: len(dumps_exact(r[2])))  # the largest: most to put back
    payload = stored(raw)
    channel.fix(external_id, payload)
    replayed = channel.spec.normalize([stored(payload)])
    assert [o.external_id for o in replayed] == [external_id]
    assert replayed[0].lines
