"""Order totals for orders created in the hub: pure arithmetic on Money, no database.

Lines are rounded one by one (half-up, as shops print receipts) and the order's totals are the
sums of the rounded lines, so the lines always add up to the order exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from hub.errors import ValidationError
from hub.money import Money, minor_units, sum_money

HUNDRED = Decimal(100)
# No order of goods comes near this; it keeps every amount well inside its Numeric(19, 4) column on
# every backend, so an absurd input is refused as input instead of failing in the database.
MAX_ORDER_AMOUNT = Decimal(10) ** 12


@dataclass(frozen=True)
class LinePrice:
    quantity: int
    unit_price: Money
    discount: Money
    tax_rate: Decimal  # percent


@dataclass(frozen=True)
class LineTotals:
    gross: Money  # quantity times unit price
    discount: Money
    tax: Money
    total: Money  # what the buyer pays for the line


@dataclass(frozen=True)
class OrderTotals:
    lines: tuple[LineTotals, ...]
    subtotal: Money
    discount: Money
    shipping: Money
    tax: Money
    grand_total: Money


def exact(amount: Decimal, currency: str, field: str) -> Money:
    """Money from an input amount that must already fit the currency's minor units."""
    money = Money(amount, currency)
    if not money.is_rounded:
        digits = minor_units(currency)
        raise ValidationError(f"{currency} amounts have {digits} decimal places; {amount} has more",
                              fields={field: f"at most {digits} decimal places for {currency}"})
    return money.rounded()


def line_totals(line: LinePrice, prices_include_tax: bool) -> LineTotals:
    gross = (line.unit_price * line.quantity).rounded(ROUND_HALF_UP)
    net_of_discount = gross - line.discount
    rate = line.tax_rate / HUNDRED
    if prices_include_tax:
        tax = (net_of_discount - Money(net_of_discount.amount / (1 + rate), gross.currency)).rounded(ROUND_HALF_UP)
        total = net_of_discount
    else:
        tax = (net_of_discount * rate).rounded(ROUND_HALF_UP)
        total = net_of_discount + tax
    return LineTotals(gross=gross, discount=line.discount, tax=tax, total=total)


def order_totals(lines: list[LinePrice], shipping: Money, prices_include_tax: bool) -> OrderTotals:
    currency = shipping.currency
    computed = tuple(line_totals(line, prices_include_tax) for line in lines)
    for i, (line, totals) in enumerate(zip(lines, computed, strict=True)):
        if line.discount > totals.gross:
            raise ValidationError(f"line {i + 1}: discount {line.discount} exceeds the line's {totals.gross}",
                                  fields={f"lines[{i}].discount": "larger than the line"})
    subtotal = sum_money([t.gross for t in computed], currency)
    discount = sum_money([t.discount for t in computed], currency)
    tax = sum_money([t.tax for t in computed], currency)
    grand = sum_money([t.total for t in computed], currency) + shipping
    if max(subtotal.amount, grand.amount) > MAX_ORDER_AMOUNT:
        raise ValidationError(f"the order comes to {max(subtotal, grand)}, more than the {MAX_ORDER_AMOUNT:,} "
                              "an order may total: check the prices and quantities", code="amount_too_large",
                              fields={"lines": "total too large"})
    return OrderTotals(lines=computed, subtotal=subtotal, discount=discount, shipping=shipping, tax=tax,
                       grand_total=grand)
