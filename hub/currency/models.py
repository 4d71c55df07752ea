"""Exchange rates as stored, and the conversion snapshot every order keeps of itself."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, TenantOwned
from hub.timeutil import utcnow

# Rates carry more digits than money: 1 EUR = 160.2512 JPY, 1 JPY = 0.0062402... EUR.
Rate = sa.Numeric(28, 12, asdecimal=True)


class FxRate(Base):
    """One quote: 1 `base` = `rate` `quote` on `as_of`, from `source`. Platform data, not a seller's.

    Sources: "ecb" (the ECB reference rates, fetched or from the offline copy), "forex-python", "manual" (an
    admin's, which wins over fetched ones for its day)."""

    __tablename__ = "fx_rates"
    __table_args__ = (
        sa.UniqueConstraint("base", "quote", "as_of", "source"),
        sa.Index("ix_fx_rates_pair_as_of", "base", "quote", "as_of"),
        sa.CheckConstraint("rate > 0", name="rate_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    base: Mapped[str] = mapped_column(sa.String(3))
    quote: Mapped[str] = mapped_column(sa.String(3))
    rate: Mapped[Decimal] = mapped_column(Rate)
    as_of: Mapped[date] = mapped_column(sa.Date)
    source: Mapped[str] = mapped_column(sa.String(32))
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
    entered_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))


class OrderFx(TenantOwned, Base):
    """An order's amounts in its seller's base currency, at the rate of its day, with the rate's provenance.

    The order's own amounts are never touched. Converted amounts are rounded half-even to the base currency's
    minor units; `rounding_difference` = converted total - the sum of converted parts, kept so nothing is lost.
    """

    __tablename__ = "order_fx"

    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True)
    base_currency: Mapped[str] = mapped_column(sa.String(3))
    order_currency: Mapped[str] = mapped_column(sa.String(3))
    rate: Mapped[Decimal] = mapped_column(Rate)  # 1 order_currency = rate base_currency
    rate_source: Mapped[str] = mapped_column(sa.String(64))  # e.g. "ecb" or "ecb (via EUR)"
    rate_as_of: Mapped[date] = mapped_column(sa.Date)
    subtotal: Mapped[Decimal]
    discount_total: Mapped[Decimal]
    shipping_total: Mapped[Decimal]
    tax_total: Mapped[Decimal]
    grand_total: Mapped[Decimal]
    lines_total: Mapped[Decimal]  # the sum of the converted line totals
    rounding_difference: Mapped[Decimal]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
