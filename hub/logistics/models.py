"""Carrier accounts, shipments with their labels, and tracking events (tables of hub.logistics)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.db import JSON, Base, TenantOwned
from hub.timeutil import utcnow

CARRIER_KINDS = ("easypost", "dhl")
# A shipment's own life (the parcel's is in `tracking_status`).
SHIPMENT_STATES = ("buying", "purchased", "cancelled", "failed")


class CarrierAccount(TenantOwned, Base):
    """One seller's account with one carrier API."""

    __tablename__ = "carrier_accounts"
    __table_args__ = (sa.UniqueConstraint("seller_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(32))  # CARRIER_KINDS
    name: Mapped[str] = mapped_column(sa.String(120))
    base_url: Mapped[str] = mapped_column(sa.String(500))
    # Sealed with hub.channels.secrets.CredentialBox: EasyPost {"api_key"}; DHL {"username", "password",
    # "account_number"}. Plaintext only ever in memory.
    credentials: Mapped[str] = mapped_column(sa.Text, default="")
    webhook_secret: Mapped[str] = mapped_column(sa.Text, default="")  # sealed too
    # Where parcels leave from: {name, company, line1, line2, city, postal_code, state, country, phone, email}.
    origin: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Shipment(TenantOwned, Base):
    """One parcel sent for an order through a carrier account, from the idempotency key on."""

    __tablename__ = "shipments"
    __table_args__ = (
        sa.UniqueConstraint("idempotency_key"),
        sa.Index("ix_shipments_tracking_poll", "state", "tracking_status"),
        sa.Index("ix_shipments_account_tracking", "account_id", "tracking_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("carrier_accounts.id", ondelete="RESTRICT"), index=True)
    # Written and committed before the carrier is called, and sent with every attempt (EasyPost: the
    # shipment's `reference`; DHL: the Message-Reference header), so a retry never buys a second label.
    idempotency_key: Mapped[str] = mapped_column(sa.String(64))
    state: Mapped[str] = mapped_column(sa.String(16), default="buying")  # SHIPMENT_STATES
    carrier: Mapped[str] = mapped_column(sa.String(64), default="")  # the carrier behind the service
    service: Mapped[str] = mapped_column(sa.String(64), default="")
    carrier_shipment_id: Mapped[str] = mapped_column(sa.String(64), default="")
    tracking_code: Mapped[str] = mapped_column(sa.String(64), default="")
    tracker_id: Mapped[str] = mapped_column(sa.String(64), default="")
    rate_amount: Mapped[Decimal | None]
    rate_currency: Mapped[str | None] = mapped_column(sa.String(3))
    label_pdf: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    # The order lines and quantities in the parcel: [{"line_id", "quantity"}]; None: everything still open.
    lines: Mapped[list[dict[str, int]] | None] = mapped_column(JSON)
    customs: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the declaration sent, None for domestic
    tracking_status: Mapped[str | None] = mapped_column(sa.String(24))  # hub.logistics.tracking.STATUSES
    error: Mapped[str] = mapped_column(sa.Text, default="")
    fulfillment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("fulfillments.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    purchased_at: Mapped[datetime | None]
    tracked_at: Mapped[datetime | None]  # the last poll

    account: Mapped[CarrierAccount] = relationship(lazy="joined")
    events: Mapped[list[TrackingEvent]] = relationship(
        back_populates="shipment", cascade="all, delete-orphan", order_by="TrackingEvent.occurred_at")


class TrackingEvent(TenantOwned, Base):
    __tablename__ = "tracking_events"
    # The dedup key: the same scan reported by a poll and a webhook, or a webhook delivered twice, is one row.
    __table_args__ = (sa.UniqueConstraint("shipment_id", "occurred_at", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(sa.ForeignKey("shipments.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(sa.String(24))
    carrier_status: Mapped[str] = mapped_column(sa.String(64), default="")
    description: Mapped[str] = mapped_column(sa.Text, default="")
    location: Mapped[str] = mapped_column(sa.String(200), default="")
    occurred_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

    shipment: Mapped[Shipment] = relationship(back_populates="events")
