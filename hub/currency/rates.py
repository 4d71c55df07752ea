"""The stored exchange rates and the one way to read them.

    lookup(session, "USD", "JPY", on=date) -> Quote(rate, as_of, source)

Rates are stored as the sources quote them, mostly 1 EUR = x; any other pair is crossed through EUR
(USD->JPY = EUR->JPY / EUR->USD), at the same day for both legs. For a day, a manual rate wins over fetched
ones; otherwise the newest quote on or before the day is used, and refused when older than `max_age_days`
unless the seller allows stale rates. Reading is pure: fetching lives in the providers, storing in `store`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.currency.models import FxRate
from hub.errors import ValidationError

PIVOT = "EUR"
MANUAL = "manual"
# Digits a crossed rate keeps: far below any amount's minor unit, and within the column (Numeric(28, 12)).
RATE_DIGITS = Decimal("1e-12")


class RateUnavailable(ValidationError):
    code = "rate_unavailable"


@dataclass(frozen=True)
class Quote:
    base: str
    quote: str
    rate: Decimal  # 1 base = rate quote
    as_of: date
    source: str  # "ecb", "manual", "forex-python"; "ecb via EUR" for a crossed pair
    stale: bool = False


def _leg(session: Session, base: str, quote: str, on: date) -> Quote | None:
    """The newest stored quote of base->quote (or its inverse) on or before `on`; a manual one wins on its day."""
    if base == quote:
        return Quote(base, quote, Decimal(1), on, "identity")
    rows = session.execute(
        sa.select(FxRate.base, FxRate.quote, FxRate.rate, FxRate.as_of, FxRate.source)
        .where(sa.or_(sa.and_(FxRate.base == base, FxRate.quote == quote),
                      sa.and_(FxRate.base == quote, FxRate.quote == base)), FxRate.as_of <= on)
        .order_by(FxRate.as_of.desc(), (FxRate.source == MANUAL).desc(), FxRate.source)
        .limit(1)).first()
    if rows is None:
        return None
    row_base, _, rate, as_of, source = rows
    value = rate if row_base == base else (Decimal(1) / rate).quantize(RATE_DIGITS)
    return Quote(base, quote, value, as_of, source)


def lookup(session: Session, base: str, quote: str, on: date, *, max_age_days: int,
           allow_stale: bool = False) -> Quote:
    """1 `base` = ? `quote` on `on`. Raises RateUnavailable naming the pair and its last date."""
    direct = _leg(session, base, quote, on)
    if direct is None and PIVOT not in (base, quote):
        first, second = _leg(session, PIVOT, base, on), _leg(session, PIVOT, quote, on)
        if first is not None and second is not None:
            # Both legs as of the older of their days: a cross never mixes two days silently.
            as_of = min(first.as_of, second.as_of)
            rate = (second.rate / first.rate).quantize(RATE_DIGITS)
            sources = first.source if first.source == second.source else f"{first.source}+{second.source}"
            direct = Quote(base, quote, rate, as_of, f"{sources} via {PIVOT}")
    if direct is None:
        raise RateUnavailable(f"no exchange rate {base}/{quote} on or before {on:%Y-%m-%d}",
                              fields={"currency": f"no rate for {base}/{quote}"})
    age = (on - direct.as_of).days
    if age > max_age_days:
        if not allow_stale:
            raise RateUnavailable(
                f"the newest {base}/{quote} rate is from {direct.as_of:%Y-%m-%d}, {age} days before "
                f"{on:%Y-%m-%d} (at most {max_age_days} allowed; a seller may allow stale rates)",
                fields={"currency": f"{base}/{quote} rate is {age} days old"})
        return Quote(direct.base, direct.quote, direct.rate, direct.as_of, direct.source, stale=True)
    return direct
