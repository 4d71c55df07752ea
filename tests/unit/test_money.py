from decimal import Decimal

import pytest

from hub.money import CurrencyError, Money, is_currency, minor_units, sum_money


@pytest.mark.parametrize(("code", "digits"), [("EUR", 2), ("JPY", 0), ("KWD", 3), ("BHD", 3), ("CLF", 4),
                                              ("IQD", 3), ("RSD", 2), ("KRW", 0)])
def test_minor_units_follow_the_iso_4217_table_not_cldr(code, digits):
    assert minor_units(code) == digits


def test_unknown_and_non_trading_codes_are_refused():
    for code in ("ABC", "XAU", "XXX", "eur", "EURO"):
        assert not is_currency(code)
    with pytest.raises(CurrencyError, match="ABC"):
        Money(Decimal(1), "ABC")


def test_floats_are_never_money():
    with pytest.raises(TypeError):
        Money(0.1, "EUR")  # type: ignore[arg-type]


def test_rounding_is_to_the_currencys_minor_units():
    assert Money.of("1.005", "EUR").amount == Decimal("1.01")  # half-up for prices
    assert Money(Decimal("1.005"), "EUR").rounded().amount == Decimal("1.00")  # half-even for books
    assert Money.of("1234.5", "JPY").amount == Decimal("1235")
    assert Money.of("1.2345", "KWD").amount == Decimal("1.235")


def test_arithmetic_stays_within_one_currency():
    assert Money.of("1.10", "EUR") + Money.of("2.20", "EUR") == Money.of("3.30", "EUR")
    with pytest.raises(CurrencyError, match="EUR with USD"):
        Money.of("1", "EUR") + Money.of("1", "USD")
    with pytest.raises(TypeError):
        Money.of("1", "EUR") * 1.5  # type: ignore[operator]


def test_decimal_sums_are_exact_where_floats_are_not():
    tenths = [Money.of("0.10", "EUR")] * 3
    assert sum_money(tenths, "EUR") == Money.of("0.30", "EUR")


def test_is_rounded_tells_whether_an_amount_fits_the_minor_units():
    assert Money(Decimal("1.50"), "EUR").is_rounded
    assert not Money(Decimal("1.5"), "JPY").is_rounded
