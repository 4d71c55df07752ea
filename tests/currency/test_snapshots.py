"""FX snapshots on the record: taken on import and on create, replaced when amounts change, never losing an order."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from hub.accounts.models import Seller
from hub.channels.models import Channel
from hub.channels.port import ChannelLine
from hub.currency.models import FxRate, OrderFx
from hub.currency.snapshots import FLAG_PREFIX, backfill_snapshots, converted_of
from hub.orders.models import Order
from hub.sync.apply import Applied, apply_order
from tests.conftest import login
from tests.integration.helpers import place_order, stocked_product
from tests.sync.fakes import T0, channel_order

PLACED = T0.date()  # 2026-11-01, a Sunday: the ECB's last rate is Friday's


def add_rates(sessions: sessionmaker[Session], day: date, **quotes: str) -> None:
    """ECB-style rows: 1 EUR = x QUOTE."""
    with sessions.begin() as session:
        session.add_all(FxRate(base="EUR", quote=code, rate=Decimal(rate), as_of=day, source="ecb")
                        for code, rate in quotes.items())


def shop_channel(sessions: sessionmaker[Session], seller_id: int) -> Channel:
    with sessions.begin() as session:
        channel = Channel(seller_id=seller_id, kind="woocommerce", name="woo shop", currency="EUR",
                          base_url="http://unused", options={}, schedule={})
        session.add(channel)
        session.flush()
        session.expunge(channel)
    return channel


def imported(sessions: sessionmaker[Session], channel: Channel, order) -> tuple[Order, OrderFx | None]:
    with sessions.begin() as session:
        _, order_id = apply_order(session, channel, order)
    with sessions() as session:
        row = session.get(Order, order_id)
        _ = row.lines
        return row, session.get(OrderFx, order_id)


def usd_order(external_id: str, **changes: object):
    order = channel_order(external_id, currency="USD", lines=(("TEA-1", 2), ("TEA-2", 1)))
    return replace(order, shipping=Decimal("4.99"), total=order.total + Decimal("4.99"), **changes)


def test_an_imported_usd_order_of_a_euro_seller_is_converted_at_the_inverted_ecb_rate(sessions, alice):
    add_rates(sessions, date(2026, 10, 30), USD="1.1172")
    channel = shop_channel(sessions, alice.seller_id)

    order, fx = imported(sessions, channel, usd_order("U1"))

    rate = (Decimal(1) / Decimal("1.1172")).quantize(Decimal("1e-12"))
    assert (fx.order_currency, fx.base_currency, fx.rate, fx.rate_source, fx.rate_as_of) == (
        "USD", "EUR", rate, "ecb", date(2026, 10, 30))
    # 20.00 USD and 10.00 USD lines, 4.99 shipping, 34.99 total; the order keeps its own amounts.
    assert [line.base_line_total for line in order.lines] == [Decimal("17.90"), Decimal("8.95")]
    assert (fx.lines_total, fx.shipping_total, fx.grand_total) == (
        Decimal("26.85"), Decimal("4.47"), Decimal("31.32"))
    assert fx.rounding_difference == Decimal("0.00")
    assert (order.currency, order.grand_total) == ("USD", Decimal("34.99"))
    assert order.flags == []


def test_a_stored_snapshot_reproduces_exactly_from_its_stored_rate(sessions, alice):
    add_rates(sessions, date(2026, 10, 30), USD="1.1172")
    order, fx = imported(sessions, shop_channel(sessions, alice.seller_id), usd_order("U1"))

    again = converted_of(order, fx)

    assert (again.grand_total, again.lines_total, again.shipping_total, again.rounding_difference) == (
        fx.grand_total, fx.lines_total, fx.shipping_total, fx.rounding_difference)
    assert list(again.lines) == [line.base_line_total for line in order.lines]


def test_a_jpy_order_of_a_kuwaiti_seller_rounds_to_three_places(sessions, make_account):
    kwd = make_account(currency="KWD")
    add_rates(sessions, date(2026, 10, 30), JPY="175.68", KWD="0.3541")
    order = replace(channel_order("J1", currency="JPY"), lines=(
        ChannelLine(sku="TEA-1", title="tea", quantity=3, unit_price=Decimal(1333), line_total=Decimal(3999)),),
        total=Decimal(3999), subtotal=Decimal(3999))

    row, fx = imported(sessions, shop_channel(sessions, kwd.seller_id), order)

    assert fx.rate_source == "ecb via EUR"
    assert fx.rate == (Decimal("0.3541") / Decimal("175.68")).quantize(Decimal("1e-12"))
    # 3999 JPY at 0.002015596539 is 8.0604..., kept as 8.060: three places, not the column's four.
    assert fx.grand_total == Decimal("8.060")
    assert row.lines[0].base_line_total == Decimal("8.060")


def test_a_stale_rate_flags_the_order_and_the_order_still_exists(sessions, alice):
    add_rates(sessions, date(2026, 10, 1), USD="1.1172")

    status, fx = None, None
    with sessions.begin() as session:
        status, order_id = apply_order(session, shop_channel(sessions, alice.seller_id), usd_order("U1"))
    with sessions() as session:
        order, fx = session.get(Order, order_id), session.get(OrderFx, order_id)
        assert status is Applied.CREATED and order.grand_total == Decimal("34.99")
        assert fx is None and all(line.base_line_total is None for line in order.lines)
        [flag] = order.flags
        assert flag.startswith(FLAG_PREFIX) and "2026-10-01, 31 days before 2026-11-01" in flag


def test_an_order_with_no_rate_at_all_is_still_imported_and_flagged(sessions, alice):
    order, fx = imported(sessions, shop_channel(sessions, alice.seller_id), usd_order("U1"))
    assert fx is None and order.flags == [f"{FLAG_PREFIX}no exchange rate USD/EUR on or before 2026-11-01"]


def test_a_seller_allowing_stale_rates_gets_a_snapshot_that_says_stale(sessions, alice):
    add_rates(sessions, date(2026, 10, 1), USD="1.1172")
    with sessions.begin() as session:
        session.get(Seller, alice.seller_id).allow_stale_rates = True

    order, fx = imported(sessions, shop_channel(sessions, alice.seller_id), usd_order("U1"))

    assert fx.rate_source == "ecb (stale)" and fx.rate_as_of == date(2026, 10, 1)
    assert order.flags == []


def test_an_order_in_the_base_currency_gets_rate_one_from_identity_without_any_rate_stored(sessions, alice):
    order, fx = imported(sessions, shop_channel(sessions, alice.seller_id), channel_order("E1"))
    assert (fx.rate, fx.rate_source, fx.rate_as_of, fx.grand_total) == (
        Decimal(1), "identity", PLACED, order.grand_total)
    assert order.flags == []


def test_an_update_that_changes_the_amounts_replaces_the_snapshot_and_a_status_change_alone_keeps_it(
        sessions, alice):
    add_rates(sessions, date(2026, 10, 30), USD="1.1172")
    channel = shop_channel(sessions, alice.seller_id)
    _, first = imported(sessions, channel, usd_order("U1"))

    _, same = imported(sessions, channel, usd_order("U1", updated_at=T0 + timedelta(minutes=5),
                                                    raw={"v": 2}))
    bigger = usd_order("U1", updated_at=T0 + timedelta(minutes=9), raw={"v": 3})
    bigger = replace(bigger, total=bigger.total + Decimal(10), shipping=Decimal("14.99"))
    _, replaced = imported(sessions, channel, bigger)

    assert same.created_at == first.created_at
    assert replaced.grand_total == Decimal("40.27") and replaced.shipping_total == Decimal("13.42")
    with sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(OrderFx)) == 1


def test_backfill_converts_the_orders_left_without_a_snapshot_once_a_rate_arrives(sessions, alice):
    channel = shop_channel(sessions, alice.seller_id)
    imported(sessions, channel, usd_order("U1"))
    imported(sessions, channel, usd_order("U2"))
    with sessions.begin() as session:
        assert backfill_snapshots(session, alice.seller_id) == 0

    add_rates(sessions, date(2026, 10, 30), USD="1.1172")
    with sessions.begin() as session:
        assert backfill_snapshots(session, alice.seller_id) == 2
    with sessions() as session:
        orders = session.scalars(sa.select(Order).order_by(Order.id)).all()
        assert [o.flags for o in orders] == [[], []]
        assert session.scalars(sa.select(OrderFx.grand_total)).all() == [Decimal("31.32")] * 2
        assert all(line.base_line_total is not None for o in orders for line in o.lines)


def test_an_order_created_in_the_hub_in_a_foreign_currency_gets_its_snapshot(sessions, alice):
    add_rates(sessions, date(2026, 10, 30), USD="1.1172")
    stocked_product(sessions, alice.actor)
    with sessions.begin() as session:
        session.info["seller_id"] = alice.seller_id
        order = place_order(session, alice.actor, [("TEA-1", 2)], currency="USD", placed_at=T0.isoformat())
        order_id = order.id
    with sessions() as session:
        fx = session.get(OrderFx, order_id)
        assert (fx.grand_total, fx.rate_source) == (Decimal("17.90"), "ecb")


@pytest.mark.parametrize("with_rate", [True, False])
def test_the_order_page_shows_the_original_and_base_amounts_with_the_rate_and_its_source(
        app, sessions, alice, client, with_rate):
    if with_rate:
        add_rates(sessions, date(2026, 10, 30), USD="1.1172")
    order, _ = imported(sessions, shop_channel(sessions, alice.seller_id), usd_order("U1"))
    login(client, alice.email)

    page = html.unescape(client.get(f"/orders/{order.id}").get_data(as_text=True))

    assert re.search(r'id="grand-total">US\$34.99<', page)
    if with_rate:
        assert "1 USD = 0.895094880057 EUR · ecb · as of 2026-10-30" in page
        assert re.search(r'id="fx-grand-total">€31.32<', page)
        assert re.search(r'id="fx-rounding">€0.00<', page)
    else:
        assert 'id="fx-missing"' in page and "no exchange rate USD/EUR" in page


def test_the_rates_refresh_converts_orders_that_came_in_without_a_rate(sessions, alice):
    from hub.sync.worker import convert_waiting_orders

    channel = shop_channel(sessions, alice.seller_id)
    order, snapshot = imported(sessions, channel, usd_order("W-WAIT"))
    assert snapshot is None and any(flag.startswith(FLAG_PREFIX) for flag in order.flags)

    add_rates(sessions, PLACED - timedelta(days=2), USD="1.1000")
    assert convert_waiting_orders(sessions) == 1
    assert convert_waiting_orders(sessions) == 0

    with sessions() as session:
        converted = session.get(Order, order.id)
        assert session.get(OrderFx, order.id) is not None
        assert not any(flag.startswith(FLAG_PREFIX) for flag in converted.flags)
