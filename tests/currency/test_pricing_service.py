"""channel_prices() and push_prices with the price rule: real rows, rates inserted as the ECB quotes them."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from hub.accounts.models import Seller
from hub.catalog.models import Product
from hub.channels.models import Channel, Listing
from hub.currency.models import FxRate
from hub.currency.pricing import COMPUTED, FIXED, channel_prices
from hub.sync.jobs import run_job
from hub.sync.models import Job
from hub.timeutil import utcnow
from tests.currency import no_network  # noqa: F401 - autouse: the network is blocked here
from tests.sync import conftest as sync_fixtures
from tests.sync import push_support
from tests.sync.push_support import listings

# The sync engine's fixtures (a SyncEnv on the test database, the hand-written FakeMarket and its channels).
clock, env, make_channel = sync_fixtures.clock, sync_fixtures.env, sync_fixtures.make_channel
fake_channel, market = push_support.fake_channel, push_support.market

TODAY = utcnow().date()


def fx(sessions: sessionmaker[Session], quote: str, rate: str, as_of: date = TODAY, base: str = "EUR") -> None:
    with sessions.begin() as session:
        session.add(FxRate(base=base, quote=quote, rate=Decimal(rate), as_of=as_of, source="ecb"))


def goods(sessions: sessionmaker[Session], seller_id: int, channel_id: int,
          items: list[tuple[str, str, str | None]]) -> None:
    """(sku, base price in EUR, fixed price on the channel or None) -> a product and its listing each."""
    with sessions.begin() as session:
        for sku, base, fixed in items:
            product = Product(seller_id=seller_id, sku=sku, title=f"Tea {sku}", base_price=Decimal(base),
                              currency="EUR")
            session.add(product)
            session.flush()
            session.add(Listing(seller_id=seller_id, channel_id=channel_id, channel_sku=sku, product_id=product.id,
                                price=None if fixed is None else Decimal(fixed)))


def channel_row(sessions: sessionmaker[Session], channel_id: int) -> Channel:
    with sessions() as session:
        channel = session.get(Channel, channel_id)
        session.expunge(channel)
        return channel


def prices(sessions: sessionmaker[Session], channel_id: int, **kw):
    with sessions() as session:
        session.info["seller_id"] = channel_row(sessions, channel_id).seller_id
        return {row.sku: row for row in channel_prices(session, channel_row(sessions, channel_id), **kw)}


def test_a_fixed_price_wins_and_the_others_are_converted_marked_up_and_rounded(sessions, alice, fake_channel):
    channel = fake_channel(alice.seller_id, currency="JPY", price_markup=Decimal("0.15"), price_rounding="99")
    goods(sessions, alice.seller_id, channel.id, [("TEA-1", "10.00", None), ("TEA-2", "10.00", "1500")])
    fx(sessions, "JPY", "175.68", TODAY - timedelta(days=1))

    rows = prices(sessions, channel.id, max_age_days=5)

    computed, fixed = rows["TEA-1"], rows["TEA-2"]
    assert (computed.kind, computed.price, computed.currency) == (COMPUTED, Decimal(2099), "JPY")  # 2020.32 -> 2099
    assert (computed.rate, computed.source, computed.as_of, computed.error) == (
        Decimal("175.68"), "ecb", TODAY - timedelta(days=1), "")
    assert (fixed.kind, fixed.price, fixed.rate) == (FIXED, Decimal(1500), None)


def test_a_pair_without_eur_is_crossed_through_the_ecb_rates(sessions, alice, fake_channel):
    channel = fake_channel(alice.seller_id, currency="JPY")
    with sessions.begin() as session:
        session.add(Product(seller_id=alice.seller_id, sku="USD-1", title="Kettle", base_price=Decimal("20"),
                            currency="USD"))
        session.flush()
        product_id = session.scalar(sa.select(Product.id).where(Product.sku == "USD-1"))
        session.add(Listing(seller_id=alice.seller_id, channel_id=channel.id, channel_sku="USD-1",
                            product_id=product_id))
    fx(sessions, "JPY", "160"), fx(sessions, "USD", "1.25")

    row = prices(sessions, channel.id, max_age_days=5)["USD-1"]

    assert (row.price, row.rate, row.source) == (Decimal(2560), Decimal(128), "ecb via EUR")


def test_a_missing_or_too_old_rate_names_the_reason_instead_of_a_price(sessions, alice, fake_channel):
    channel = fake_channel(alice.seller_id, currency="GBP")
    goods(sessions, alice.seller_id, channel.id, [("TEA-1", "10.00", None)])
    assert "no exchange rate EUR/GBP" in prices(sessions, channel.id, max_age_days=5)["TEA-1"].error

    fx(sessions, "GBP", "0.8", TODAY - timedelta(days=9))
    old = prices(sessions, channel.id, max_age_days=5)["TEA-1"]
    assert old.price is None and "9 days before" in old.error


def test_a_seller_who_allows_stale_rates_gets_a_price_marked_stale(sessions, alice, fake_channel):
    channel = fake_channel(alice.seller_id, currency="GBP")
    goods(sessions, alice.seller_id, channel.id, [("TEA-1", "10.00", None)])
    fx(sessions, "GBP", "0.8", TODAY - timedelta(days=9))
    with sessions.begin() as session:
        session.get(Seller, alice.seller_id).allow_stale_rates = True

    row = prices(sessions, channel.id, max_age_days=5)["TEA-1"]

    assert (row.price, row.stale, row.error) == (Decimal("8.00"), True, "")


def test_inactive_listings_and_deleted_products_without_a_fixed_price_are_not_priced(sessions, alice, fake_channel):
    channel = fake_channel(alice.seller_id)
    goods(sessions, alice.seller_id, channel.id, [("TEA-1", "1", None), ("TEA-2", "1", None), ("TEA-3", "1", "5")])
    with sessions.begin() as session:
        session.scalars(sa.select(Listing).where(Listing.channel_sku == "TEA-1")).one().is_active = False
        for sku in ("TEA-2", "TEA-3"):
            session.scalars(sa.select(Product).where(Product.sku == sku)).one().deleted_at = utcnow()

    assert {sku: row.price for sku, row in prices(sessions, channel.id).items()} == {"TEA-3": Decimal(5)}


def test_another_sellers_listings_never_appear(sessions, alice, bob, fake_channel):
    mine, theirs = fake_channel(alice.seller_id), fake_channel(bob.seller_id)
    goods(sessions, alice.seller_id, mine.id, [("TEA-1", "1", None)])
    goods(sessions, bob.seller_id, theirs.id, [("TEA-9", "1", None)])
    assert list(prices(sessions, mine.id)) == ["TEA-1"]


def test_push_prices_sends_computed_prices_and_refuses_those_without_a_rate(env, sessions, alice, fake_channel,
                                                                             market):
    env.extra["FX_MAX_AGE_DAYS"] = 5
    channel = fake_channel(alice.seller_id, currency="USD", price_markup=Decimal("0.1"), price_rounding="95")
    goods(sessions, alice.seller_id, channel.id, [("TEA-1", "10.00", None), ("TEA-2", "7.00", "9.50")])
    market.refuse = set()

    no_rate = run_job(env, channel.id, Job.PUSH_PRICES)

    assert [(u.sku, u.price) for u in market.price_calls[0]] == [("TEA-2", Decimal("9.50"))]
    assert (no_rate.counts["pushed"], no_rate.counts["push_failed"]) == (1, 1)
    row = listings(sessions, channel)["TEA-1"]
    assert row.push_error.startswith("price: no exchange rate EUR/USD") and row.last_pushed_price is None

    fx(sessions, "USD", "1.1172")
    market.price_calls.clear()
    priced = run_job(env, channel.id, Job.PUSH_PRICES)

    assert [(u.sku, u.price, u.currency) for u in market.price_calls[0]] == [("TEA-1", Decimal("12.95"), "USD")]
    assert (priced.counts["pushed"], priced.counts["push_failed"]) == (1, 0)
    row = listings(sessions, channel)["TEA-1"]
    assert (row.push_error, row.last_pushed_price) == ("", Decimal("12.95"))

    market.price_calls.clear()
    assert run_job(env, channel.id, Job.PUSH_PRICES).counts["pushed"] == 0 and market.price_calls == []


def test_a_new_markup_changes_the_computed_prices_and_they_are_pushed_again(env, sessions, alice, fake_channel,
                                                                            market):
    channel = fake_channel(alice.seller_id, currency="EUR")
    goods(sessions, alice.seller_id, channel.id, [("TEA-1", "10.00", None)])
    market.refuse = set()
    run_job(env, channel.id, Job.PUSH_PRICES)
    assert [(u.sku, u.price) for u in market.price_calls[-1]] == [("TEA-1", Decimal("10.00"))]

    with sessions.begin() as session:
        session.get(Channel, channel.id).price_markup = Decimal("0.2")
    run_job(env, channel.id, Job.PUSH_PRICES)

    assert [(u.sku, u.price) for u in market.price_calls[-1]] == [("TEA-1", Decimal("12.00"))]


def test_a_full_push_sends_unchanged_computed_prices_again(env, sessions, alice, fake_channel, market):
    channel = fake_channel(alice.seller_id, currency="EUR", price_rounding="whole")
    goods(sessions, alice.seller_id, channel.id, [("TEA-1", "10.40", None)])
    market.refuse = set()
    run_job(env, channel.id, Job.PUSH_PRICES)
    run_job(env, channel.id, Job.PUSH_PRICES, full=True)
    assert [[(u.sku, u.price) for u in call] for call in market.price_calls] == [[("TEA-1", Decimal(10))]] * 2
