"""convert(): exact products, one half-even rounding to ISO minor units, and a difference that reconciles."""

from __future__ import annotations

from decimal import Decimal

import iso4217
from hypothesis import given
from hypothesis import strategies as st

from hub.currency.convert import Amounts, convert, convert_amount
from hub.money import is_currency, minor_units

CURRENCIES = sorted(c.code for c in iso4217.Currency if is_currency(c.code))
# Amounts as stored: Numeric(19, 4); rates as stored: Numeric(28, 12), positive.
amounts = st.decimals(min_value=Decimal("-1e8"), max_value=Decimal("1e8"), places=4)
non_negative = st.decimals(min_value=Decimal(0), max_value=Decimal("1e8"), places=4)
rates = st.decimals(min_value=Decimal("1e-12"), max_value=Decimal("1e5"), places=12).filter(lambda r: r > 0)


@st.composite
def orders(draw: st.DrawFn) -> Amounts:
    lines = tuple(draw(st.lists(non_negative, min_size=1, max_size=12)))
    shipping, tax, discount = draw(non_negative), draw(non_negative), draw(non_negative)
    subtotal = sum(lines, Decimal(0))
    grand = draw(st.one_of(st.just(subtotal + shipping + tax - discount), non_negative))
    return Amounts(subtotal=subtotal, discount_total=discount, shipping_total=shipping, tax_total=tax,
                   grand_total=grand, lines=lines)


def test_the_list_covers_every_trading_currency_of_the_iso_table() -> None:
    assert len(CURRENCIES) > 150 and {"EUR", "JPY", "KWD", "BHD", "CLF", "USD"} <= set(CURRENCIES)


@given(st.sampled_from(CURRENCIES), amounts, rates)
def test_a_converted_amount_has_exactly_the_minor_units_of_the_base_currency(
        currency: str, amount: Decimal, rate: Decimal) -> None:
    result = convert_amount(amount, rate, currency)
    assert result.as_tuple().exponent == -minor_units(currency)
    # Half-even to the nearest quantum: never more than half a minor unit away from the exact product.
    assert abs(result - amount * rate) <= Decimal(1).scaleb(-minor_units(currency)) / 2


def test_rounding_is_half_even_to_each_currencys_own_places() -> None:
    assert convert_amount(Decimal("2.5"), Decimal(1), "JPY") == Decimal(2)
    assert convert_amount(Decimal("3.5"), Decimal(1), "JPY") == Decimal(4)
    assert convert_amount(Decimal("0.0125"), Decimal(1), "EUR") == Decimal("0.01")
    assert convert_amount(Decimal("1000"), Decimal("0.002012345678"), "KWD") == Decimal("2.012")
    assert convert_amount(Decimal("0.0005"), Decimal(1), "BHD") == Decimal("0.000")


@given(orders(), st.sampled_from(CURRENCIES), st.sampled_from(CURRENCIES), rates)
def test_converted_lines_and_parts_reconcile_with_the_converted_total_within_the_recorded_difference(
        order: Amounts, order_currency: str, base: str, rate: Decimal) -> None:
    c = convert(order, order_currency, base, rate)
    assert c.grand_total == c.lines_total + c.shipping_total + c.other + c.rounding_difference
    assert c.lines_total == sum(c.lines, Decimal(0))
    # The difference is rounding only: at most half a minor unit per converted part (lines, shipping, other,
    # total).
    quantum = Decimal(1).scaleb(-minor_units(base))
    assert abs(c.rounding_difference) <= (len(order.lines) + 3) * quantum / 2


@given(orders(), st.sampled_from(CURRENCIES), rates)
def test_converting_again_at_the_stored_rate_gives_the_same_result_to_the_last_digit(
        order: Amounts, base: str, rate: Decimal) -> None:
    first, again = convert(order, "USD", base, rate), convert(order, "USD", base, rate)
    assert first == again
    assert [str(v) for v in first.lines] == [str(v) for v in again.lines]


def test_an_order_in_the_base_currency_converts_to_itself() -> None:
    order = Amounts(Decimal("20.00"), Decimal("1.00"), Decimal("4.90"), Decimal("3.80"), Decimal("27.70"),
                    (Decimal("9.50"), Decimal("9.50")))
    c = convert(order, "EUR", "EUR", Decimal(1))
    assert (c.grand_total, c.lines_total, c.rounding_difference) == (Decimal("27.70"), Decimal("19.00"), 0)
    assert c.other == Decimal("3.80")
