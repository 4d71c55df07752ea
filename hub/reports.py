"""Read-only summaries for the overview page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.accounts.actor import Actor
from hub.catalog.models import Product, StockLevel, Warehouse
from hub.money import Money
from hub.orders.models import Order
from hub.orders.status import OrderStatus
from hub.timeutil import utcnow

LOW_STOCK_THRESHOLD = 5
_NOT_REVENUE = (OrderStatus.CANCELLED, OrderStatus.REFUNDED)


@dataclass(frozen=True)
class Overview:
    orders_by_status: dict[str, int]
    revenue_30d: list[Money]  # one per order currency; conversion to base comes with FX snapshots
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
