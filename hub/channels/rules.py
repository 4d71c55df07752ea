"""Mapping rules every connector shares (the table in docs/channel-mapping.md has one row each).

- Status precedence: cancellation wins over refund, refund over fulfilment, fulfilment over payment.
- For imported orders the marketplace's total is authoritative: a difference from the sum of its
  parts larger than the currency's minor unit is flagged, never "corrected" or rejected.
"""

from __future__ import annotations

from decimal import Decimal
from enum import Enum

from hub.money import minor_units
from hub.orders.status import OrderStatus

S = OrderStatus


class Level(Enum):
    NONE = "none"
    PARTIAL = "partial"
    FULL = "full"


def canonical_status(*, cancelled: bool, refunded: Level, fulfilled: Level, delivered: bool, paid: bool) -> OrderStatus:
    if cancelled:
        return S.CANCELLED
    if refunded is Level.FULL:
        return S.REFUNDED
    if refunded is Level.PARTIAL:
        return S.PARTIALLY_REFUNDED
    if delivered:
        return S.DELIVERED
    if fulfilled is Level.FULL:
        return S.FULFILLED
    if fulfilled is Level.PARTIAL:
        return S.PARTIALLY_FULFILLED
    return S.PAID if paid else S.PENDING


def total_mismatch(currency: str, total: Decimal | None, *, subtotal: Decimal | None, discount: Decimal | None,
                   shipping: Decimal | None, tax: Decimal | None, tax_included: bool) -> str | None:
    """A flag when the parts do not add up to the total by more than one minor unit, else None."""
    if total is None or subtotal is None:
        return None
    parts = subtotal - (discount or 0) + (shipping or 0) + (0 if tax_included else (tax or 0))
    difference = total - parts
    if abs(difference) > Decimal(1).scaleb(-minor_units(currency)):
        return (f"total {total} {currency} differs from its parts ({parts}) by {difference}; "
                "the marketplace's total is kept")
    return None
