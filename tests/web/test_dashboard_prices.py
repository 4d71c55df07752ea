"""The channel price preview (everyone reads) and the price rule in the channel settings (owners set it)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa

from hub.accounts.models import Role
from hub.channels.models import Channel, Listing
from hub.currency.models import FxRate
from hub.timeutil import utcnow
from tests.web.support import add_user, browser, field_error, make_shop, text


def _jpy_channel(sessions, seller_id: int, **columns) -> int:
    with sessions.begin() as session:
        channel = Channel(seller_id=seller_id, kind="woocommerce", name="Woo JP", currency="JPY",
                          base_url="https://jp.example.com", **columns)
        session.add(channel)
        session.flush()
        return channel.id


def _listed(sessions, seller_id: int, channel_id: int, product_id: int, sku: str, price: str | None = None) -> None:
    with sessions.begin() as session:
        session.add(Listing(seller_id=seller_id, channel_id=channel_id, channel_sku=sku, product_id=product_id,
                            price=None if price is None else Decimal(price)))


def _rate(sessions, quote: str, rate: str, days_ago: int = 0) -> None:
    with sessions.begin() as session:
        session.add(FxRate(base="EUR", quote=quote, rate=Decimal(rate), as_of=utcnow().date() - timedelta(days_ago),
                           source="ecb"))


def _row(page: str, sku: str) -> str:
    start = page.index(f'data-sku="{sku}"')
    return page[start:page.index("</tr>", start)]


def test_a_viewer_sees_each_listings_computed_or_fixed_price_before_anything_is_pushed(
        app, sessions, security, alice):
    shop = make_shop(sessions, alice.actor)  # TEA-1 at 12.90 EUR
    channel_id = _jpy_channel(sessions, alice.seller_id, price_markup=Decimal("0.1"), price_rounding="99")
    _listed(sessions, alice.seller_id, channel_id, shop.product_id, "JP-TEA-1")
    _listed(sessions, alice.seller_id, channel_id, shop.product_id, "JP-TEA-1-GIFT", price="2500")
    _rate(sessions, "JPY", "175.68", days_ago=1)
    add_user(sessions, security, alice, Role.VIEWER, "viewer@teas.example.com")

    page = text(browser(app, "viewer@teas.example.com").get(f"/channels/{channel_id}/prices"))

    computed = _row(page, "JP-TEA-1")  # 12.90 x 175.68 x 1.1 = 2492.90 -> 2499
    assert "2499 JPY" in computed and "175.68" in computed and "ecb" in computed and 'data-kind="computed"' in computed
    assert "2500 JPY" in _row(page, "JP-TEA-1-GIFT")
    with sessions() as session:  # a preview pushes nothing
        assert session.scalars(sa.select(Listing.last_pushed_price)).all() == [None, None]


def test_a_listing_without_a_usable_rate_shows_why_it_cannot_be_priced(app, sessions, alice):
    shop = make_shop(sessions, alice.actor)
    channel_id = _jpy_channel(sessions, alice.seller_id)
    _listed(sessions, alice.seller_id, channel_id, shop.product_id, "JP-TEA-1")
    _rate(sessions, "JPY", "175.68", days_ago=30)

    row = _row(text(browser(app, alice).get(f"/channels/{channel_id}/prices")), "JP-TEA-1")

    assert "EUR/JPY rate is from" in row and "30 days before" in row


def test_another_sellers_channel_prices_are_not_found(app, sessions, alice, bob):
    channel_id = _jpy_channel(sessions, alice.seller_id)
    assert browser(app, bob).get(f"/channels/{channel_id}/prices").status_code == 404


def test_an_owner_sets_the_markup_and_rounding_in_the_channel_settings(app, sessions, alice):
    channel_id = _jpy_channel(sessions, alice.seller_id)
    owner = browser(app, alice)
    assert 'name="price_rounding"' in text(owner.get(f"/channels/{channel_id}"))

    saved = owner.post(f"/channels/{channel_id}/settings", {
        "base_url": "https://jp.example.com", "timezone": "Asia/Tokyo", "stock_percent": "100",
        "price_markup": "0.15", "price_rounding": "95"})

    assert saved.status_code == 302
    with sessions() as session:
        channel = session.get(Channel, channel_id)
        assert (channel.price_markup, channel.price_rounding) == (Decimal("0.15"), "95")
    page = text(owner.get(f"/channels/{channel_id}"))
    assert 'value="0.15"' in page and '<option value="95" selected>' in page


def test_an_unknown_rounding_or_an_absurd_markup_is_refused_next_to_its_field(app, sessions, alice):
    channel_id = _jpy_channel(sessions, alice.seller_id)
    refused = browser(app, alice).post(f"/channels/{channel_id}/settings", {
        "base_url": "https://jp.example.com", "timezone": "UTC", "price_markup": "-2", "price_rounding": "97"})

    assert refused.status_code == 422
    page = text(refused)
    assert field_error(page, "price_markup") and field_error(page, "price_rounding")
    with sessions() as session:
        assert session.get(Channel, channel_id).price_rounding == "minor"


def test_a_viewer_cannot_change_the_price_rule(app, sessions, security, alice):
    channel_id = _jpy_channel(sessions, alice.seller_id)
    add_user(sessions, security, alice, Role.VIEWER, "viewer@teas.example.com")
    viewer = browser(app, "viewer@teas.example.com")

    assert 'name="price_rounding"' not in text(viewer.get(f"/channels/{channel_id}"))
    refused = viewer.post(f"/channels/{channel_id}/settings", {"base_url": "https://jp.example.com",
                                                                 "timezone": "UTC", "price_rounding": "99"})
    assert refused.status_code == 403
    with sessions() as session:
        assert session.get(Channel, channel_id).price_rounding == "minor"
