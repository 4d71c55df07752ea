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
    __table_args__ = (sa.Index("ix_outbox_events_pending", "published_at", "id"),
                      sa.Index("ix_outbox_events_fan_out", "fanned_out_at", "id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[str] = mapped_column(sa.String(36), unique=True, default=lambda: str(uuid.uuid4()))
    kind: Mapped[str] = mapped_column(sa.String(40))
    subject: Mapped[str] = mapped_column(sa.String(80))  # "order:123", "product:7"
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]  # set once every destination has it (or dead-lettered it)
    # Set when the dispatcher has made the event's delivery rows: the broker's and each subscribed endpoint's.
    fanned_out_at: Mapped[datetime | None]


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"  # gave up after OUTBOX_MAX_ATTEMPTS; `hub outbox requeue` or endpoints.requeue revives it


BROKER = "broker"  # the destination of the message-broker delivery; an endpoint's is "webhook:<id>"


class OutboxDelivery(TenantOwned, Base):
    """One event to one destination, retried on its own schedule: a seller's failing endpoint never holds back
    the broker or another endpoint. `claimed_by`/`claimed_until` are the lease of the dispatcher working on it;
    a dispatcher that dies leaves the lease to run out and the delivery is made again (at least once)."""

    __tablename__ = "outbox_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("event_id", "destination"),
        sa.Index("ix_outbox_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[str] = mapped_column(sa.ForeignKey("outbox_events.event_id", ondelete="CASCADE"))
    destination: Mapped[str] = mapped_column(sa.String(40))
    endpoint_id: Mapped[int | None] = mapped_column(sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"),
                                                    index=True)
    status: Mapped[str] = mapped_column(sa.String(16), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str] = mapped_column(sa.String(500), default="")
    delivered_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(sa.String(36))
    claimed_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookEndpoint(TenantOwned, Base):
    """A seller's URL that receives its events, signed with the endpoint's secret (sealed with the
    CredentialBox, shown to the seller once). `kinds` empty means every kind."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(sa.String(500))
    secret_sealed: Mapped[str] = mapped_column(sa.Text)
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(default=True)
    description: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[datetime | None]
