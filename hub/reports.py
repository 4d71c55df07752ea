"""Read-only summaries for the overview page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.accounts.actor import Actor
from hub.catalog.models import Product, StockLevel, Warehouse
from hub.channels.models import Channel
from hub.currency.models import OrderFx
from hub.money import Money
from hub.orders.models import Order
from hub.orders.status import OrderStatus
from hub.timeutil import utcnow

LOW_STOCK_THRESHOLD = 5
_NOT_REVENUE = (OrderStatus.CANCELLED, OrderStatus.REFUNDED)


@dataclass(frozen=True)
class Overview:
    orders_by_status: dict[str, int]
    revenue_30d: list[Money]  # one per order currency, as sold; revenue_in_base converts through the snapshots
    product_count: int
    low_stock: list[tuple[str, str, int]]  # sku, warehouse, available
    recent_orders: list[Order]


def overview(session: Session, actor: Actor) -> Overview:
    sid = actor.seller_id
    by_status = dict(session.execute(
        sa.select(Order.status, sa.func.count()).where(Order.seller_id == sid).group_by(Order.status)).all())
    since = utcnow() - timedelta(days=30)
    revenue = session.execute(
        sa.select(Order.currency, sa.func.sum(Order.grand_total - Order.refunded_total))
        .where(Order.seller_id == sid, Order.placed_at >= since, Order.status.not_in(_NOT_REVENUE))
        .group_by(Order.currency).order_by(Order.currency)).all()
    low = session.execute(
        sa.select(Product.sku, Warehouse.code, StockLevel.on_hand - StockLevel.reserved)
        .join(Product, StockLevel.product_id == Product.id).join(Warehouse, StockLevel.warehouse_id == Warehouse.id)
        .where(StockLevel.seller_id == sid, Product.deleted_at.is_(None), Product.is_active.is_(True),
               StockLevel.on_hand - StockLevel.reserved <= LOW_STOCK_THRESHOLD)
        .order_by(StockLevel.on_hand - StockLevel.reserved, Product.sku).limit(20)).all()
    return Overview(
        orders_by_status={str(k): v for k, v in by_status.items()},
        revenue_30d=[Money(Decimal(total), cur).rounded() for cur, total in revenue],
        product_count=session.scalar(sa.select(sa.func.count()).select_from(Product).where(
            Product.seller_id == sid, Product.deleted_at.is_(None))) or 0,
        low_stock=[tuple(row) for row in low],
        recent_orders=list(session.scalars(sa.select(Order).where(Order.seller_id == sid)
                                           .order_by(Order.id.desc()).limit(10))),
    )


# --- revenue in the base currency, from the FX snapshots -----------------------------------------------------
GROUPINGS = ("channel", "country", "day")
# Converted amounts are Numeric(19, 4): summed as integers of 1/10000 so SQLite (which keeps NUMERIC as a
# float) adds them exactly too, as PostgreSQL's numeric does.
_SCALE = 10_000


@dataclass(frozen=True)
class BaseRevenue:
    key: str  # the channel's name, the ship-to country ("" when unknown) or the UTC day (YYYY-MM-DD)
    orders: int
    revenue: Money  # converted grand totals, each at the rate of its own order's day


@dataclass(frozen=True)
class BaseRevenueReport:
    rows: list[BaseRevenue]
    unconverted: int  # orders in the period still without a snapshot (no rate yet): not in `rows`


def _day(session: Session) -> sa.ColumnElement[object]:
    # placed_at is timestamptz on PostgreSQL (the day is taken in UTC, not the session's zone) and naive UTC
    # text on SQLite.
    if session.get_bind().dialect.name == "postgresql":
        return sa.func.to_char(sa.func.timezone("UTC", Order.placed_at), "YYYY-MM-DD")
    return sa.func.strftime("%Y-%m-%d", Order.placed_at)


def revenue_in_base(session: Session, actor: Actor, start: datetime, end: datetime, by: str) -> BaseRevenueReport:
    """Revenue of orders placed in [start, end) in the seller's base currency, grouped `by` channel, ship-to
    country or UTC day. Only stored snapshots are summed, never today's rate, so a report of a past period
    does not move with the rates. Cancelled and refunded orders are left out, as on the overview."""
    if by not in GROUPINGS:
        raise ValueError(f"group by one of {', '.join(GROUPINGS)}, not {by!r}")
    sid = actor.seller_id
    key = {"channel": Channel.name, "country": sa.func.coalesce(Order.ship_country, ""), "day": _day(session)}[by]
    in_period = (Order.seller_id == sid, Order.placed_at >= start, Order.placed_at < end,
                 Order.status.not_in(_NOT_REVENUE))
    scaled = sa.cast(sa.func.round(OrderFx.grand_total * _SCALE), sa.BigInteger)
    query = (sa.select(key, OrderFx.base_currency, sa.func.count(), sa.func.sum(scaled))
             .select_from(OrderFx).join(Order, Order.id == OrderFx.order_id)
             .where(OrderFx.seller_id == sid, *in_period))
    if by == "channel":
        query = query.join(Channel, Channel.id == Order.channel_id)
    rows = session.execute(query.group_by(key, OrderFx.base_currency).order_by(key, OrderFx.base_currency)).all()
    unconverted = session.scalar(sa.select(sa.func.count()).select_from(Order).where(
        *in_period, ~sa.exists().where(OrderFx.order_id == Order.id))) or 0
    return BaseRevenueReport(
        rows=[BaseRevenue(key=str(k.isoformat() if isinstance(k, date) else k), orders=n,
                          revenue=Money(Decimal(int(total)).scaleb(-4), cur).rounded())
              for k, cur, n, total in rows],
        unconverted=unconverted)

