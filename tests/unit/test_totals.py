from decimal import Decimal

import pytest

from hub.errors import ValidationError
from hub.money import Money
from hub.orders.totals import LinePrice, exact, order_totals


def line(qty, price, currency="EUR", discount="0", rate="19"):
    return LinePrice(qty, Money.of(price, currency), Money.of(discount, currency), Decimal(rate))


def test_tax_is_added_to_exclusive_prices_line_by_line():
    totals = order_totals([line(3, "9.99"), line(1, "0.05")], Money.of("4.90", "EUR"), prices_include_tax=False)
    assert totals.subtotal == Money.of("30.02", "EUR")
    assert [t.tax for t in totals.lines] == [Money.of("5.69", "EUR"), Money.of("0.01", "EUR")]
    assert totals.grand_total == Money.of("40.62", "EUR")


def test_inclusive_prices_extract_the_tax_and_keep_the_total():
    totals = order_totals([line(1, "119.00")], Money.of("0", "EUR"), prices_include_tax=True)
    assert totals.tax == Money.of("19.00", "EUR")
    assert totals.grand_total == Money.of("119.00", "EUR")


def test_lines_always_add_up_to_the_order():
    lines = [line(q, p, discount=d) for q, p, d in [(7, "3.33", "1.11"), (2, "0.99", "0"), (13, "1.07", "0.50")]]
    totals = order_totals(lines, Money.of("5", "EUR"), prices_include_tax=False)
    assert sum((t.total.amount for t in totals.lines), Decimal(0)) + Decimal(5) == totals.grand_total.amount


def test_yen_orders_have_no_minor_units():
    totals = order_totals([line(3, "333", "JPY", rate="10")], Money.of("0", "JPY"), prices_include_tax=False)
    assert totals.grand_total == Money.of("1099", "JPY")
    with pytest.raises(ValidationError, match="JPY amounts have 0 decimal places"):
        exact(Decimal("1.5"), "JPY", "unit_price")


def test_a_discount_larger_than_its_line_is_refused():
    with pytest.raises(ValidationError, match="exceeds"):
        order_totals([line(1, "5.00", discount="6.00")], Money.of("0", "EUR"), prices_include_tax=False)


def test_an_absurd_order_total_is_refused_as_input():
    with pytest.raises(ValidationError, match="more than the 1,000,000,000,000 an order may total"):
        order_totals([line(100_000, "99999999999.99")], Money.of("0", "EUR"), prices_include_tax=False)
