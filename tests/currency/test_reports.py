"""Revenue in the base currency: summed from the stored snapshots, never at today's rate, per seller only."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from hub.money import Money
from hub.orders.status import OrderStatus
from hub.reports import revenue_in_base
from tests.currency.test_snapshots import add_rates, imported, shop_channel, usd_order
from tests.sync.fakes import T0, channel_order

START, END = T0 - timedelta(days=1), T0 + timedelta(days=7)


@pytest.fixture
def orders(sessions, alice, bob):
    add_rates(sessions, date(2026, 10, 30), USD="1.1172")
    channel = shop_channel(sessions, alice.seller_id)
    imported(sessions, channel, usd_order("U1"))  # 31.32 EUR, DE
    imported(sessions, channel, replace(channel_order("E1"), ship_to_country="FR",
                                        placed_at=T0 + timedelta(days=1)))  # 10.00 EUR
    imported(sessions, channel, replace(channel_order("C1", status=OrderStatus.CANCELLED)))  # not revenue
    imported(sessions, shop_channel(sessions, bob.seller_id), channel_order("B1"))  # another seller's
    return sessions


def test_revenue_is_grouped_by_channel_country_and_day_in_the_base_currency(orders, alice):
    with orders() as session:
        by_channel = revenue_in_base(session, alice.actor, START, END, "channel")
        by_country = revenue_in_base(session, alice.actor, START, END, "country")
        by_day = revenue_in_base(session, alice.actor, START, END, "day")

    eur = lambda amount: Money(Decimal(amount), "EUR")  # noqa: E731
    assert [(r.key, r.orders, r.revenue) for r in by_channel.rows] == [("woo shop", 2, eur("41.32"))]
    assert [(r.key, r.orders, r.revenue) for r in by_country.rows] == [("DE", 1, eur("31.32")),
                                                                        ("FR", 1, eur("10.00"))]
    assert [(r.key, r.revenue) for r in by_day.rows] == [("2026-11-01", eur("31.32")), ("2026-11-02", eur("10.00"))]
    assert by_channel.unconverted == 0


def test_a_newer_rate_does_not_move_a_past_periods_revenue(orders, alice):
    add_rates(orders, date(2026, 11, 1), USD="2.0")
    with orders() as session:
        report = revenue_in_base(session, alice.actor, START, END, "channel")
    assert report.rows[0].revenue == Money(Decimal("41.32"), "EUR")


def test_orders_still_without_a_rate_are_counted_as_unconverted_not_summed(sessions, alice):
    imported(sessions, shop_channel(sessions, alice.seller_id), usd_order("U1"))
    with sessions() as session:
        report = revenue_in_base(session, alice.actor, START, END, "day")
    assert (report.rows, report.unconverted) == ([], 1)


def test_the_overview_shows_revenue_by_channel_in_the_base_currency(app, sessions, alice):
    from hub.timeutil import utcnow
    from tests.web.support import browser, text

    placed = utcnow() - timedelta(days=2)
    channel = shop_channel(sessions, alice.seller_id)
    add_rates(sessions, placed.date() - timedelta(days=1), USD="1.2500")
    _, snapshot = imported(sessions, channel, usd_order("W-OVERVIEW", placed_at=placed, updated_at=placed))
    assert snapshot is not None

    page = text(browser(app, alice).get("/overview"))

    card = page.partition("Revenue in the base currency, last 30 days")[2].partition("</section>")[0]
    assert "woo shop" in card and "€" in card and "wait for an exchange rate" not in card
