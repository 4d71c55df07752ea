"""The overview's summary tables (see hub.reports for the design), and the partial index its oversell-risk list
reads order lines through."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, TenantOwned
from hub.orders.models import OrderLine


class SalesDaily(TenantOwned, Base):
    """Per seller, UTC day, channel, ship-to country ("" unknown) and base currency: the orders that count as
    revenue (not cancelled or refunded) and their converted grand totals, in 1/10000 of the base currency.
    Orders still without an FX snapshot are counted under base_currency "" with no revenue."""

    __tablename__ = "sales_daily"
    __table_args__ = (
        sa.UniqueConstraint("seller_id", "day", "channel_id", "ship_country", "base_currency",
                            name="uq_sales_daily_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date)
    channel_id: Mapped[int] = mapped_column(sa.ForeignKey("channels.id", ondelete="CASCADE"), index=True)
    ship_country: Mapped[str] = mapped_column(sa.String(2))
    base_currency: Mapped[str] = mapped_column(sa.String(3))
    orders: Mapped[int]
    revenue_e4: Mapped[int] = mapped_column(sa.BigInteger)


class FxUsageDaily(TenantOwned, Base):
    """Per seller and UTC day: the conversions its orders' FX snapshots used, with the rates' as-of range."""

    __tablename__ = "fx_usage_daily"
    __table_args__ = (
        sa.UniqueConstraint("seller_id", "day", "order_currency", "base_currency", "rate_source",
                            name="uq_fx_usage_daily_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date)
    order_currency: Mapped[str] = mapped_column(sa.String(3))
    base_currency: Mapped[str] = mapped_column(sa.String(3))
    rate_source: Mapped[str] = mapped_column(sa.String(64))
    orders: Mapped[int]
    first_as_of: Mapped[date] = mapped_column(sa.Date)
    last_as_of: Mapped[date] = mapped_column(sa.Date)


# Oversold lines are rare: a partial index holds only them, so the overview never scans order_lines.
ix_order_lines_short = sa.Index(
    "ix_order_lines_seller_short", OrderLine.seller_id, OrderLine.order_id,
    postgresql_where=OrderLine.quantity_short > 0, sqlite_where=OrderLine.quantity_short > 0)


class SalesRefresh(TenantOwned, Base):
    """When a seller's summary rows were last recomputed, and the newest order id they cover: the overview reads
    the orders after it live. NULL (a stamp older than the column): everything is read live until a refresh."""

    __tablename__ = "sales_refreshes"

    seller_id: Mapped[int] = mapped_column(sa.ForeignKey("sellers.id", ondelete="CASCADE"), primary_key=True)
    refreshed_at: Mapped[datetime]
    max_order_id: Mapped[int | None]
    # The summary's 30 days already summed for the overview (hub.reports._rollup: {"sales": rows of _summary_sales,
    # "fx": rows of _summary_fx}): what the overview would otherwise sum from a few thousand summary rows on every
    # view. Counted back from `rollup_day`, so the overview uses it only on that UTC day (and sums the rows itself
    # in the minute after midnight before the next refresh).
    rollup_day: Mapped[date | None] = mapped_column(sa.Date)
    rollup: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
