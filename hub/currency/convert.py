"""Converting an order's amounts into a base currency at a given rate: pure arithmetic, no database.

    convert(amounts, order_currency, base_currency, rate) -> Converted

Every amount is multiplied by the rate exactly (a wide local Decimal context, so no digit is lost before
rounding) and rounded once, half-even, to the base currency's ISO 4217 minor units. The result depends only on
its inputs, so a snapshot recomputed from its stored rate reproduces to the last digit.

Reconciliation. In the order currency the total splits exactly into
    grand_total = sum(line totals) + shipping_total + other
where `other` = grand_total - sum(line totals) - shipping_total is whatever the lines and shipping do not
carry (tax charged on top when line totals exclude it, order-level discounts, fees, a marketplace's own
rounding). What a line total includes differs between channels, so `other` is derived rather than assumed. After
converting each part on its own:
    rounding_difference = conv(grand_total) - (sum(conv(line)) + conv(shipping_total) + conv(other))
which is purely the rounding of the parts (at most (lines + 3) / 2 minor units either way), so
    conv(grand_total) == lines_total + conv(shipping_total) + conv(other) + rounding_difference
holds exactly and nothing is lost. `Converted.other` carries conv(other); it is not a column, since the order's
own amounts and the stored rate give it back.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

from hub.money import minor_units

# Amounts are Numeric(19, 4) and rates Numeric(28, 12): their product has at most 47 digits, so 64 keeps every
# product exact and the single half-even rounding is the only one.
_PRECISION = 64
# Converted amounts must fit the same Numeric(19, 4) columns as the originals.
_LIMIT = Decimal(10) ** 15


class ConversionOverflow(ValueError):
    """A converted amount would not fit the amount columns (an absurd rate or amount)."""


@dataclass(frozen=True)
class Amounts:
    """An order's amounts in its own currency, as stored."""

    subtotal: Decimal
    discount_total: Decimal
    shipping_total: Decimal
    tax_total: Decimal
    grand_total: Decimal
    lines: tuple[Decimal, ...]

    @property
    def other(self) -> Decimal:
        return self.grand_total - sum(self.lines, Decimal(0)) - self.shipping_total


@dataclass(frozen=True)
class Converted:
    order_currency: str
    base_currency: str
    rate: Decimal  # 1 order_currency = rate base_currency
    subtotal: Decimal
    discount_total: Decimal
    shipping_total: Decimal
    tax_total: Decimal
    grand_total: Decimal
    lines: tuple[Decimal, ...]
    lines_total: Decimal
    other: Decimal
    rounding_difference: Decimal


def convert_amount(amount: Decimal, rate: Decimal, currency: str) -> Decimal:
    """`amount` times `rate`, rounded half-even to `currency`'s minor units."""
    quantum = Decimal(1).scaleb(-minor_units(currency))
    with localcontext(prec=_PRECISION):
        result = (amount * rate).quantize(quantum, rounding=ROUND_HALF_EVEN)
    if abs(result) >= _LIMIT:
        raise ConversionOverflow(f"{amount} at {rate} is {result} {currency}, beyond what an amount can hold")
    return result


def convert(amounts: Amounts, order_currency: str, base_currency: str, rate: Decimal) -> Converted:
    def conv(value: Decimal) -> Decimal:
        return convert_amount(value, rate, base_currency)

    lines = tuple(conv(line) for line in amounts.lines)
    lines_total = sum(lines, Decimal(0))
    shipping, other, grand = conv(amounts.shipping_total), conv(amounts.other), conv(amounts.grand_total)
    return Converted(
        order_currency=order_currency, base_currency=base_currency, rate=rate,
        subtotal=conv(amounts.subtotal), discount_total=conv(amounts.discount_total), shipping_total=shipping,
        tax_total=conv(amounts.tax_total), grand_total=grand, lines=lines, lines_total=lines_total, other=other,
        rounding_difference=grand - (lines_total + shipping + other),
    )
