from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.channels.models import Channel
from hub.db import JSON, Base, TenantOwned
from hub.money import Money
from hub.orders.status import OrderStatus
from hub.timeutil import utcnow


def _status(name: str) -> sa.Enum:
    return sa.Enum(OrderStatus, native_enum=False, length=24, create_constraint=True, name=name,
                   values_callable=lambda e: [m.value for m in e])


class Order(TenantOwned, Base):
    __tablename__ = "orders"
    __table_args__ = (
        # The idempotency key for every import and API create: one row per order per channel.
        sa.UniqueConstraint("channel_id", "external_id"),
        # The Orders list and export (hub.orders.services.page_orders): each sort is a keyset on (key, id) within
        # a seller, so each has an index that yields its rows in order and starts at the cursor.
        sa.Index("ix_orders_seller_placed", "seller_id", "placed_at", "id"),
        sa.Index("ix_orders_seller_total", "seller_id", "grand_total", "id"),
        # The selective filters, still in placed order: status, ship-to country, channel (implies the seller).
        sa.Index("ix_orders_seller_status", "seller_id", "status", "placed_at"),
        sa.Index("ix_orders_seller_country_placed", "seller_id", "ship_country", "placed_at", "id"),
        sa.Index("ix_orders_channel_placed", "channel_id", "placed_at", "id"),
        # The search box (hub.orders.services._search): one indexed lookup per kind of term. Two more, on the
        # expressions lower(buyer_email) per seller and a pg_trgm GIN on lower(buyer_name) for a part of a name, exist
        # only in the migration, on PostgreSQL (hub.migrate.EXPRESSION_INDEXES).
        sa.Index("ix_orders_seller_external", "seller_id", "external_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(sa.ForeignKey("channels.id", ondelete="RESTRICT"))
    external_id: Mapped[str] = mapped_column(sa.String(128))
    status: Mapped[OrderStatus] = mapped_column(_status("status_valid"), default=OrderStatus.PENDING)
    currency: Mapped[str] = mapped_column(sa.String(3))
    subtotal: Mapped[Decimal]
    discount_total: Mapped[Decimal]
    shipping_total: Mapped[Decimal]
    tax_total: Mapped[Decimal]
    grand_total: Mapped[Decimal]
    refunded_total: Mapped[Decimal] = mapped_column(default=Decimal(0))
    prices_include_tax: Mapped[bool] = mapped_column(default=False)
    buyer_name: Mapped[str] = mapped_column(sa.String(200), default="")
    buyer_email: Mapped[str | None] = mapped_column(sa.String(254))
    buyer_phone: Mapped[str | None] = mapped_column(sa.String(40))
    shipping_address: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    billing_address: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    ship_country: Mapped[str | None] = mapped_column(sa.String(2))
    placed_at: Mapped[datetime]
    # The channel's own last-modified time; later imports never overwrite a newer version with an older.
    updated_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    raw_payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The buyer's cross-channel profile (hub.customers), with why this order was linked to it.
    customer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("customers.id", ondelete="SET NULL"), index=True)
    customer_match: Mapped[str] = mapped_column(sa.String(64), default="", server_default=sa.text("''"))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    # Facts from the import worth a human look (total mismatch, stock short): the order still stands.
    flags: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")

    channel: Mapped[Channel] = relationship(lazy="joined")
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.line_no"
    )
    events: Mapped[list[OrderEvent]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderEvent.id"
    )
    fulfillments: Mapped[list[Fulfillment]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="Fulfillment.id"
    )

    def money(self, amount: Decimal) -> Money:
        return Money(amount, self.currency).rounded()


class OrderLine(TenantOwned, Base):
    __tablename__ = "order_lines"
    __table_args__ = (
        sa.UniqueConstraint("order_id", "line_no"),
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("quantity_fulfilled >= 0 AND quantity_fulfilled <= quantity", name="fulfilled_in_range"),
        sa.Index("ix_order_lines_seller_sku", "seller_id", "sku"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id", ondelete="CASCADE"))
    line_no: Mapped[int]
    sku: Mapped[str] = mapped_column(sa.String(64))
    # None while the SKU matches no product of the seller: the line is kept and flagged.
    product_id: Mapped[int | None] = mapped_column(sa.ForeignKey("products.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(sa.String(255))
    quantity: Mapped[int]
    unit_price: Mapped[Decimal]
    discount: Mapped[Decimal] = mapped_column(default=Decimal(0))
    tax: Mapped[Decimal] = mapped_column(default=Decimal(0))
    line_total: Mapped[Decimal]
    quantity_fulfilled: Mapped[int] = mapped_column(default=0)
    # Units of a marketplace order that no stock could be reserved for when it came in (oversold).
    quantity_short: Mapped[int] = mapped_column(default=0, server_default="0")
    # The line total in the seller's base currency, from the order's FX snapshot (hub.currency.models.OrderFx).
    base_line_total: Mapped[Decimal | None]
    external_line_id: Mapped[str] = mapped_column(sa.String(64), default="", server_default=sa.text("''"))

    order: Mapped[Order] = relationship(back_populates="lines")

    @property
    def is_matched(self) -> bool:
        return self.product_id is not None

    @property
    def quantity_open(self) -> int:
        return self.quantity - self.quantity_fulfilled


class OrderEvent(TenantOwned, Base):
    """One entry on an order's timeline."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    from_status: Mapped[OrderStatus | None] = mapped_column(_status("from_status_valid"))
    to_status: Mapped[OrderStatus | None] = mapped_column(_status("to_status_valid"))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(sa.String(120))
    message: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    order: Mapped[Order] = relationship(back_populates="events")


class Fulfillment(TenantOwned, Base):
    """A shipment of some of an order's units."""

    __tablename__ = "fulfillments"
    __table_args__ = (sa.Index("ix_fulfillments_channel_status", "channel_status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    carrier: Mapped[str] = mapped_column(sa.String(64), default="")
    tracking_number: Mapped[str] = mapped_column(sa.String(64), default="")
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Telling the order's channel (the marketplace's own fulfilment call): done once, when pushed_at is set.
    # `channel_status`: "pending", "pushed", "failed" (gave up: a permanent refusal), "not_needed".
    channel_status: Mapped[str] = mapped_column(sa.String(16), default="pending", server_default="not_needed")
    channel_pushed_at: Mapped[datetime | None]
    channel_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    channel_error: Mapped[str] = mapped_column(sa.Text, default="", server_default=sa.text("''"))

    order: Mapped[Order] = relationship(back_populates="fulfillments")
    lines: Mapped[list[FulfillmentLine]] = relationship(cascade="all, delete-orphan")


class FulfillmentLine(TenantOwned, Base):
    __tablename__ = "fulfillment_lines"
    __table_args__ = (sa.CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    fulfillment_id: Mapped[int] = mapped_column(sa.ForeignKey("fulfillments.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int] = mapped_column(sa.ForeignKey("order_lines.id", ondelete="CASCADE"))
    quantity: Mapped[int]
