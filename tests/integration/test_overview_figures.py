"""The overview's figures equal a plain count over the orders, whichever part comes from the summary table and
whichever is read live, and whatever mix of statuses, currencies and missing snapshots the orders have."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from hub import reports
from hub.channels.models import Channel
from hub.currency.models import OrderFx
from hub.money import Money
from hub.orders.models import Order
from hub.orders.status import OrderStatus
from hub.reports_models import SalesRefresh
from hub.timeutil import utcnow
from tests.web.support import scoped

CHANNELS = ("woo shop", "amazon de")
COUNTRIES = ("DE", "FR", "PL", None)
NOT_REVENUE = (OrderStatus.CANCELLED, OrderStatus.REFUNDED)


def add_orders(sessions, channels: list[tuple[int, int]], count: int, seed: int, prefix: str) -> None:
    """`count` orders on the (seller id, channel id) pairs given, placed over the last 34 days (every tenth now),
    in three currencies, with a snapshot in the base currency, in a former base currency (USD) or none yet."""
    rng = random.Random(seed)
    now = utcnow()
    with sessions.begin() as session:
        for n in range(count):
            seller_id, channel_id = rng.choice(channels)
            placed = now - timedelta(days=rng.randint(0, 33), minutes=rng.randint(0, 1439)) if n % 10 else now
            total = Decimal(rng.randint(100, 50000)).scaleb(-2)
            currency = rng.choice(("EUR", "USD", "PLN"))
            order = Order(seller_id=seller_id, channel_id=channel_id, external_id=f"{prefix}-{n}",
                          status=rng.choice(list(OrderStatus)), currency=currency, subtotal=total,
                          discount_total=0, shipping_total=0, tax_total=0, grand_total=total,
                          ship_country=rng.choice(COUNTRIES), placed_at=placed, updated_at=placed)
            session.add(order)
            session.flush()
            snapshot = rng.random()
            if snapshot < 0.85 or snapshot > 0.9:
                base = "EUR" if snapshot < 0.85 else "USD"
                rate = Decimal("1") if currency == base else Decimal("0.9137")
                session.add(OrderFx(order_id=order.id, seller_id=order.seller_id, base_currency=base,
                                    order_currency=currency, rate=rate, rate_source=rng.choice(("ecb", "manual")),
                                    rate_as_of=placed.date() - timedelta(days=rng.randint(0, 3)),
                                    subtotal=total * rate, discount_total=0, shipping_total=0, tax_total=0,
                                    grand_total=(total * rate).quantize(Decimal("0.0001")),
                                    lines_total=total * rate, rounding_difference=0))


@pytest.fixture
def shops(sessions, alice, bob) -> dict[str, list[tuple[int, int]]]:
    """Alice's two channels and bob's one, with 300 orders of alice's and 30 of bob's (which must never count)."""
    with sessions.begin() as session:
        channels = {}
        for seller, name in ((alice, CHANNELS[0]), (alice, CHANNELS[1]), (bob, "bob shop")):
            channel = Channel(seller_id=seller.seller_id, kind="woocommerce", name=name, currency="EUR",
                              base_url="http://unused", options={}, schedule={})
            session.add(channel)
            session.flush()
            channels.setdefault(seller.email, []).append((seller.seller_id, channel.id))
    add_orders(sessions, channels[alice.email], 300, seed=7, prefix="A")
    add_orders(sessions, channels[bob.email], 30, seed=8, prefix="B")
    return channels


def expected(sessions, seller_id: int, today: date) -> dict:
    """The overview's figures by a plain walk over every order of the seller."""
    first = today - timedelta(days=29)
    starts = {key: today - timedelta(days=days - 1) for key, days in reports.PERIODS}
    periods = {key: {"orders": 0, "e4": 0, "unconverted": 0, "channel": defaultdict(lambda: [0, 0]),
                     "country": defaultdict(lambda: [0, 0])} for key in starts}
    daily = {first + timedelta(days=i): [0, 0] for i in range(30)}
    fx: dict[tuple[str, str, str], list] = {}
    with sessions() as session:
        rows = session.execute(sa.select(Order, Channel.name, OrderFx).join(Channel, Channel.id == Order.channel_id)
                               .outerjoin(OrderFx, OrderFx.order_id == Order.id)
                               .where(Order.seller_id == seller_id)).all()
    for order, channel, snapshot in rows:
        day = order.placed_at.date()
        if day < first:
            continue
        if snapshot is not None:
            slot = fx.setdefault((snapshot.order_currency, snapshot.base_currency, snapshot.rate_source),
                                 [0, snapshot.rate_as_of, snapshot.rate_as_of])
            slot[0] += 1
            slot[1], slot[2] = min(slot[1], snapshot.rate_as_of), max(slot[2], snapshot.rate_as_of)
        if order.status in NOT_REVENUE or (snapshot is not None and snapshot.base_currency != "EUR"):
            continue
        e4 = int(snapshot.grand_total * 10000) if snapshot is not None else 0
        daily[day][0] += 1
        daily[day][1] += e4
        for key, start in starts.items():
            if day >= start:
                figures = periods[key]
                figures["orders"] += 1
                figures["e4"] += e4
                figures["unconverted"] += snapshot is None
                for bucket, name in (("channel", channel), ("country", order.ship_country or "")):
                    figures[bucket][name][0] += 1
                    figures[bucket][name][1] += e4

    def bars(bucket: dict) -> list[tuple[str, int, Money]]:
        ordered = sorted(bucket.items(), key=lambda kv: (-kv[1][1], -kv[1][0], kv[0]))
        return [(key, n, Money(Decimal(e4).scaleb(-4), "EUR").rounded()) for key, (n, e4) in ordered]

    return {
        "periods": [(key, f["orders"], Money(Decimal(f["e4"]).scaleb(-4), "EUR").rounded(), f["unconverted"],
                     bars(f["channel"]), bars(f["country"])) for key, f in periods.items()],
        "daily": [(d.isoformat(), n, Money(Decimal(e4).scaleb(-4), "EUR").rounded()) for d, (n, e4) in daily.items()],
        "fx": sorted((oc, bc, src, n, lo, hi) for (oc, bc, src), (n, lo, hi) in fx.items()),
    }


def shown(sessions, account) -> dict:
    with scoped(sessions, account.actor) as session:
        got = reports.insights(session, account.actor)
    return {
        "periods": [(p.key, p.orders, p.revenue, p.unconverted, [(b.key, b.orders, b.revenue) for b in p.by_channel],
                     [(b.key, b.orders, b.revenue) for b in p.by_country]) for p in got.periods],
        "daily": [(b.key, b.orders, b.revenue) for b in got.daily],
        "fx": [(f.order_currency, f.base_currency, f.rate_source, f.orders, f.first_as_of, f.last_as_of)
               for f in got.fx_in_use],
    }


def refresh(sessions, seller_id: int, stamp: str = "bounded") -> None:
    """A full refresh of the summary; then its stamp kept ("bounded"), deleted ("none": a seller never refreshed),
    without its order bound ("unbounded": a stamp written before the bound existed), with a rollup of yesterday
    (the minute after midnight) or with none (a stamp written before rollups existed)."""
    with sessions.begin() as session:
        reports.refresh_sales(session, seller_id, full=True)
        row = session.get(SalesRefresh, seller_id)
        assert row.max_order_id is not None and row.rollup_day == utcnow().date() and row.rollup["sales"]
        if stamp == "none":
            session.delete(row)
        elif stamp == "unbounded":
            row.max_order_id = None
        elif stamp == "rollup of yesterday":
            row.rollup_day -= timedelta(days=1)
        elif stamp == "no rollup":
            row.rollup_day = row.rollup = None


@pytest.mark.parametrize("stamp", ["bounded", "none", "unbounded", "rollup of yesterday", "no rollup"])
def test_the_overview_adds_up_to_a_plain_count_of_the_orders(shops, sessions, alice, stamp):
    refresh(sessions, alice.seller_id, stamp)
    want = expected(sessions, alice.seller_id, utcnow().date())
    assert shown(sessions, alice) == want
    assert want["periods"][2][1] > 150 and want["periods"][0][1] > 0  # the data reach every part of the page
    assert any(p[3] for p in want["periods"]) and want["fx"]


def test_orders_added_after_a_refresh_show_at_once_even_placed_days_ago_and_none_counts_twice(
        shops, sessions, alice):
    refresh(sessions, alice.seller_id)
    add_orders(sessions, shops[alice.email], 60, seed=9, prefix="LATE")  # most placed on earlier days
    assert shown(sessions, alice) == expected(sessions, alice.seller_id, utcnow().date())
    refresh(sessions, alice.seller_id)
    assert shown(sessions, alice) == expected(sessions, alice.seller_id, utcnow().date())


def test_a_cancellation_of_a_summarised_order_shows_after_the_next_refresh(shops, sessions, alice):
    refresh(sessions, alice.seller_id)
    with sessions.begin() as session:
        order = session.scalars(sa.select(Order).where(  # one of today's, so every period shows it
            Order.seller_id == alice.seller_id, Order.status == OrderStatus.PAID,
            Order.placed_at >= utcnow() - timedelta(hours=1))).first()
        order.status = OrderStatus.CANCELLED
    assert shown(sessions, alice) != expected(sessions, alice.seller_id, utcnow().date())
    refresh(sessions, alice.seller_id)
    assert shown(sessions, alice) == expected(sessions, alice.seller_id, utcnow().date())
