"""price_for(): base price x rate x (1 + markup), rounded by the channel's style, in the channel currency."""

from __future__ import annotations

from decimal import Decimal

import iso4217
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.currency.pricing import ROUNDINGS, price_for
from hub.money import CurrencyError, minor_units

TRADING = sorted(c.code for c in iso4217.Currency if c.exponent is not None
                 and c.code not in {"XAU", "XAG", "XPT", "XPD", "XTS", "XXX", "XBA", "XBB", "XBC", "XBD", "XDR",
                                    "XSU", "XUA"})
currencies = st.sampled_from(TRADING)
amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=4)
rates = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("2000"), places=6)
markups = st.decimals(min_value=Decimal("-0.9"), max_value=Decimal("10"), places=4)


def converted(base: Decimal, rate: Decimal, markup: Decimal) -> Decimal:
    return base * rate * (1 + markup)


@pytest.mark.parametrize(("rounding", "currency", "value", "expected"), [
    ("minor", "EUR", "12.345", "12.35"),  # half-up, as prices are quoted
    ("minor", "JPY", "1234.5", "1235"),
    ("minor", "KWD", "1.2345", "1.235"),
    ("whole", "EUR", "12.49", "12.00"),
    ("whole", "JPY", "1234.5", "1235"),
    ("99", "EUR", "12.01", "12.99"),
    ("99", "EUR", "12.99", "12.99"),
    ("99", "EUR", "12.995", "13.99"),
    ("95", "EUR", "12.96", "13.95"),
    ("95", "EUR", "0.10", "0.95"),
    ("99", "KWD", "12.001", "12.990"),
    ("99", "JPY", "1234", "1299"),
    ("95", "JPY", "1200", "1295"),
    ("99", "JPY", "1299", "1299"),
    ("95", "KRW", "12999", "13095"),
    ("99", "JPY", "5", "99"),
])
def test_each_rounding_style_gives_the_documented_price(rounding, currency, value, expected):
    result = price_for(Decimal(value), Decimal(1), Decimal(0), rounding, currency)
    assert result == Decimal(expected) and str(result) == expected


def test_the_rate_and_the_markup_multiply_the_base_price():
    # 10 EUR at 1 EUR = 175.68 JPY, +15 %: 2020.32 -> 2020 JPY, or 2099 ending in 99
    assert price_for(Decimal(10), Decimal("175.68"), Decimal("0.15"), "minor", "JPY") == Decimal(2020)
    assert price_for(Decimal(10), Decimal("175.68"), Decimal("0.15"), "99", "JPY") == Decimal(2099)
    assert price_for(Decimal("19.90"), Decimal("1.1172"), Decimal(0), "minor", "USD") == Decimal("22.23")


def test_a_free_product_stays_free_whatever_the_rounding():
    for rounding in ROUNDINGS:
        assert price_for(Decimal(0), Decimal("1.1"), Decimal("0.2"), rounding, "EUR") == 0


def test_an_unknown_rounding_or_currency_is_refused():
    with pytest.raises(ValueError, match="unknown price rounding"):
        price_for(Decimal(1), Decimal(1), Decimal(0), "10", "EUR")
    with pytest.raises(CurrencyError):
        price_for(Decimal(1), Decimal(1), Decimal(0), "minor", "XAU")


@given(amounts, rates, markups, st.sampled_from(["99", "95"]), currencies)
def test_a_price_ending_in_99_or_95_is_never_below_the_converted_value_nor_a_step_above(
        base, rate, markup, rounding, currency):
    value = converted(base, rate, markup)
    price = price_for(base, rate, markup, rounding, currency)
    step = Decimal(1) if minor_units(currency) >= 2 else Decimal(100).scaleb(-minor_units(currency))
    assert value <= price < value + step


@given(amounts, rates, markups, st.sampled_from(["99", "95"]), currencies)
def test_a_99_or_95_price_ends_in_its_digits_in_the_currencys_minor_units(base, rate, markup, rounding, currency):
    price = price_for(base, rate, markup, rounding, currency)
    exponent = minor_units(currency)
    if exponent >= 2:  # the cents end in .99 / .95 (KWD 0.990, CLF 0.9900)
        assert price - int(price) == Decimal(rounding).scaleb(-2)
    else:  # no cents: the whole units end in 99 / 95
        assert int(price.scaleb(exponent)) % 100 == int(rounding)


@given(amounts, rates, markups, st.sampled_from(ROUNDINGS), currencies)
def test_every_price_has_exactly_the_currencys_minor_units(base, rate, markup, rounding, currency):
    price = price_for(base, rate, markup, rounding, currency)
    assert price.as_tuple().exponent == -minor_units(currency)


@given(amounts, rates, markups, currencies)
def test_minor_rounding_is_half_up_and_whole_rounding_gives_whole_units(base, rate, markup, currency):
    value = converted(base, rate, markup)
    minor = price_for(base, rate, markup, "minor", currency)
    half = Decimal(1).scaleb(-minor_units(currency)) / 2
    assert value - half <= minor < value + half
    whole = price_for(base, rate, markup, "whole", currency)
    assert whole == int(whole) and value - Decimal("0.5") <= whole < value + Decimal("0.5")
