"""Every order's FX snapshot: its amounts in the seller's base currency, at the rate of the day it was placed.

    take_snapshot(session, order) -> OrderFx | None
    backfill_snapshots(session, seller_id) -> int

The rate is order currency -> base currency from `rates.lookup` on the order's `placed_at` UTC date, at most
FX_MAX_AGE_DAYS old unless the seller allows stale rates (then `rate_source` ends in " (stale)"). An order in
the base currency gets rate 1, source "identity". The rate is stored with the snapshot, so the snapshot is a
pure function of stored inputs (hub.currency.convert); the order's own amounts are never touched. One snapshot
per order: taking it again replaces it, and each line's `base_line_total` follows.

No rate (or one too old) never loses an order: it is kept without a snapshot, any earlier snapshot of
different amounts is dropped (it would be wrong), and the order is flagged "no exchange rate: <why>". Such orders
are converted later by `backfill_snapshots`, which the rates refresh job calls per seller after storing new
rates; a successful snapshot clears the flag.
"""

from __future__ import annotations

from datetime import UTC, date
from functools import cache

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from hub.accounts.models import Seller
from hub.config import load_settings
from hub.currency.convert import Amounts, ConversionOverflow, Converted, convert
from hub.currency.models import OrderFx
from hub.currency.rates import RateUnavailable, lookup
from hub.orders.models import Order
from hub.timeutil import utcnow

FLAG_PREFIX = "no exchange rate: "
STALE_SUFFIX = " (stale)"


@cache
def _default_max_age_days() -> int:
    # The import path runs without a Flask app (worker, CLI), so the setting is read the way the app reads it.
    return int(load_settings()["FX_MAX_AGE_DAYS"])


def placed_on(order: Order) -> date:
    return order.placed_at.astimezone(UTC).date()


def amounts_of(order: Order) -> Amounts:
    return Amounts(subtotal=order.subtotal, discount_total=order.discount_total,
                   shipping_total=order.shipping_total, tax_total=order.tax_total, grand_total=order.grand_total,
                   lines=tuple(line.line_total for line in order.lines))


def fx_inputs(order: Order) -> tuple[object, ...]:
    """What a snapshot depends on: a change of any of these calls for a new one."""
    return (order.currency, placed_on(order), amounts_of(order))


def converted_of(order: Order, snapshot: OrderFx) -> Converted:
    """The snapshot recomputed from the order's amounts and the snapshot's stored rate."""
    return convert(amounts_of(order), order.currency, snapshot.base_currency, snapshot.rate)


def take_snapshot(session: Session, order: Order, *, max_age_days: int | None = None) -> OrderFx | None:
    """Convert `order` into its seller's base currency and store (or replace) its snapshot; None, with the order
    flagged, when no usable rate is stored."""
    seller = session.get(Seller, order.seller_id)
    assert seller is not None
    try:
        quote = lookup(session, order.currency, seller.base_currency, placed_on(order),
                       max_age_days=_default_max_age_days() if max_age_days is None else max_age_days,
                       allow_stale=seller.allow_stale_rates)
        converted = convert(amounts_of(order), order.currency, seller.base_currency, quote.rate)
    except (RateUnavailable, ConversionOverflow) as exc:
        _drop(session, order)
        _set_flag(order, FLAG_PREFIX + str(exc))
        return None
    snapshot = session.get(OrderFx, order.id) or OrderFx(order_id=order.id, seller_id=order.seller_id)
    snapshot.base_currency, snapshot.order_currency = seller.base_currency, order.currency
    snapshot.rate, snapshot.rate_as_of = quote.rate, quote.as_of
    snapshot.rate_source = (quote.source + (STALE_SUFFIX if quote.stale else ""))[:64]
    snapshot.subtotal, snapshot.discount_total = converted.subtotal, converted.discount_total
    snapshot.shipping_total, snapshot.tax_total = converted.shipping_total, converted.tax_total
    snapshot.grand_total, snapshot.lines_total = converted.grand_total, converted.lines_total
    snapshot.rounding_difference = converted.rounding_difference
    snapshot.created_at = utcnow()
    session.add(snapshot)
    for line, base in zip(order.lines, converted.lines, strict=True):
        line.base_line_total = base
    _set_flag(order, None)
    return snapshot


def _drop(session: Session, order: Order) -> None:
    existing = session.get(OrderFx, order.id)
    if existing is not None:
        session.delete(existing)
    for line in order.lines:
        line.base_line_total = None


def _set_flag(order: Order, flag: str | None) -> None:
    """Replace any earlier exchange-rate flag (a rate may have arrived, or the reason changed)."""
    kept = [f for f in order.flags if not f.startswith(FLAG_PREFIX)]
    wanted = [*kept, flag] if flag else kept
    if wanted != list(order.flags):
        order.flags = wanted


def backfill_snapshots(session: Session, seller_id: int, *, max_age_days: int | None = None,
                       limit: int | None = None) -> int:
    """Snapshot the seller's orders that have none (their rate was missing or stale when they came in).
    Returns how many got one; the rest stay flagged for the next refresh."""
    missing = (sa.select(Order).where(Order.seller_id == seller_id,
                                      ~sa.exists().where(OrderFx.order_id == Order.id))
               .order_by(Order.id).options(selectinload(Order.lines)))
    if limit is not None:
        missing = missing.limit(limit)
    done = 0
    for order in session.scalars(missing).all():
        if take_snapshot(session, order, max_age_days=max_age_days) is not None:
            done += 1
    return done
