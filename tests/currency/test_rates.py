"""lookup(): the one way rates are read (manual first on its day, crossed through EUR, stale refused)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session, sessionmaker

from hub.accounts.actor import Actor
from hub.accounts.models import Role
from hub.currency.rates import RATE_DIGITS, Quote, RateUnavailable, lookup
from hub.currency.store import ensure_offline_history, set_manual_rate, store_quotes
from tests.currency import no_network  # noqa: F401 - autouse: the network is blocked here

FRI, MON = date(2026, 10, 30), date(2026, 11, 2)
ADMIN = Actor(user_id=None, seller_id=None, role=Role.ADMIN, label="tests")


def ecb(quote: str, rate: str, day: date = FRI) -> Quote:
    return Quote("EUR", quote, Decimal(rate), day, "ecb")


@pytest.fixture
def rates(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    with sessions.begin() as session:
        store_quotes(session, [ecb("USD", "1.1172"), ecb("JPY", "175.68"), ecb("GBP", "0.83380")])
    return sessions


def test_a_stored_pair_is_read_as_the_ecb_quoted_it(rates: sessionmaker[Session]) -> None:
    with rates() as session:
        q = lookup(session, "EUR", "USD", MON, max_age_days=5)
    assert (q.rate, q.as_of, q.source, q.stale) == (Decimal("1.1172"), FRI, "ecb", False)


def test_a_manual_rate_wins_over_the_ecb_on_its_day_only(rates: sessionmaker[Session]) -> None:
    with rates.begin() as session:
        set_manual_rate(session, ADMIN, "EUR", "USD", Decimal("1.2"), FRI)
        store_quotes(session, [ecb("USD", "1.1001", MON)])
    with rates() as session:
        on_friday = lookup(session, "EUR", "USD", FRI, max_age_days=5)
        on_monday = lookup(session, "EUR", "USD", MON, max_age_days=5)
    assert (on_friday.rate, on_friday.source) == (Decimal("1.2"), "manual")
    assert (on_monday.rate, on_monday.source) == (Decimal("1.1001"), "ecb")


def test_a_pair_without_eur_is_crossed_through_eur_to_twelve_digits(rates: sessionmaker[Session]) -> None:
    with rates() as session:
        q = lookup(session, "USD", "JPY", FRI, max_age_days=5)
    assert q.rate == (Decimal("175.68") / Decimal("1.1172")).quantize(RATE_DIGITS) == Decimal("157.250268528464")
    assert (q.source, q.as_of) == ("ecb via EUR", FRI)
    assert (Decimal(100) * q.rate).quantize(Decimal(1)) == Decimal(15725)  # USD 100.00 is JPY 15,725


def test_the_inverse_of_a_stored_pair_is_one_over_its_rate(rates: sessionmaker[Session]) -> None:
    with rates() as session:
        q = lookup(session, "USD", "EUR", FRI, max_age_days=5)
    assert q.rate == (Decimal(1) / Decimal("1.1172")).quantize(RATE_DIGITS) == Decimal("0.895094880057")


def test_a_stale_rate_is_refused_with_the_pair_and_its_last_date(rates: sessionmaker[Session]) -> None:
    with rates() as session, pytest.raises(RateUnavailable) as caught:
        lookup(session, "GBP", "JPY", date(2026, 11, 30), max_age_days=5)
    assert "GBP/JPY" in caught.value.message and "2026-10-30" in caught.value.message
    assert "31 days" in caught.value.message


def test_a_stale_rate_is_returned_flagged_when_the_seller_allows_it(rates: sessionmaker[Session]) -> None:
    with rates() as session:
        q = lookup(session, "EUR", "GBP", date(2026, 11, 30), max_age_days=5, allow_stale=True)
    assert (q.rate, q.as_of, q.stale) == (Decimal("0.83380"), FRI, True)


def test_a_pair_never_quoted_is_unavailable_naming_it(rates: sessionmaker[Session]) -> None:
    with rates() as session, pytest.raises(RateUnavailable, match="AED/USD"):
        lookup(session, "AED", "USD", FRI, max_age_days=5)


def test_rates_come_from_the_bundled_ecb_history_without_a_network(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        assert ensure_offline_history(session) > 20_000
    with sessions.begin() as session:
        assert ensure_offline_history(session) == 0  # loaded once
    with sessions() as session:
        usd = lookup(session, "EUR", "USD", date(2026, 10, 31), max_age_days=5)  # a Saturday: Friday's rate
        jpy = lookup(session, "EUR", "JPY", date(2026, 10, 31), max_age_days=5)
    assert (usd.rate, usd.as_of, usd.source) == (Decimal("1.1172"), FRI, "ecb")
    assert jpy.rate == Decimal("175.68")
