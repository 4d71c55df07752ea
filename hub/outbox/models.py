"""Outbox rows. One row per event, written by `hub.outbox.emit` inside the transaction of the change; the
dispatcher (`hub.outbox.dispatch`) delivers each at least once to the broker and the seller's endpoints."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import JSON, Base, TenantOwned
from hub.timeutil import utcnow

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class EventKind(enum.StrEnum):
    ORDER_IMPORTED = "order.imported"
    ORDER_PAID = "order.paid"
    ORDER_SHIPPED = "order.shipped"
    ORDER_DELIVERED = "order.delivered"
    ORDER_REFUNDED = "order.refunded"
    PAYMENT_FAILED = "payment.failed"
    STOCK_LOW = "stock.low"


class OutboxEvent(TenantOwned, Base):
    """`event_id` is a UUID that travels with the message, so consumers can deduplicate what at-least-once
    delivery sends twice."""

    __tablename__ = "outbox_events"
    __table_args__ = (sa.Index("ix_outbox_events_pending", "published_at", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[str] = mapped_column(sa.String(36), unique=True, default=lambda: str(uuid.uuid4()))
    kind: Mapped[str] = mapped_column(sa.String(40))
    subject: Mapped[str] = mapped_column(sa.String(80))  # "order:123", "product:7"
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]  # set once every destination has it (or dead-lettered it)
