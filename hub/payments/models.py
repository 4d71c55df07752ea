"""Payment rows: a seller's provider accounts, payments, each provider call as an attempt, and notifications.

A PaymentAttempt is written and committed *before* its provider call, carrying the idempotency key the call
sends; a retry of the same logical operation (tenacity inside the HTTP client, a user clicking again after a
timeout, the reconcile job after a crash) finds the open attempt and sends the same key, so the provider
never performs it twice.

A PaymentNotification is deduplicated by the database: (provider, event_id) is unique and the insert is an
ON CONFLICT DO NOTHING, so two deliveries racing each other store one row.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.db import JSON, Base, TenantOwned
from hub.money import Money
from hub.payments.port import PaymentStatus
from hub.timeutil import utcnow


def _enum(enum_cls: type[enum.Enum], name: str) -> sa.Enum:
    return sa.Enum(enum_cls, name=name, native_enum=False, create_constraint=True, length=24,
                   values_callable=lambda e: [m.value for m in e])


class Operation(enum.StrEnum):
    CREATE = "create"
    CAPTURE = "capture"
    REFUND = "refund"
    VOID = "void"


class AttemptStatus(enum.StrEnum):
    STARTED = "started"        # key committed, call not answered yet (or the process died during it)
    UNKNOWN = "unknown"        # the call failed in transport after its retries: the provider may have done it
    SUCCEEDED = "succeeded"
    FAILED = "failed"          # the provider refused: a new attempt needs a new key


OPEN_ATTEMPTS = (AttemptStatus.STARTED, AttemptStatus.UNKNOWN)


class PaymentAccount(TenantOwned, Base):
    """One seller's account at one provider. Credentials are sealed with hub.channels.secrets.CredentialBox."""

    __tablename__ = "payment_accounts"
    __table_args__ = (sa.UniqueConstraint("seller_id", "provider", "name", name="uq_payment_accounts_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(sa.String(32))
    name: Mapped[str] = mapped_column(sa.String(100), default="")
    base_url: Mapped[str] = mapped_column(sa.String(500))
    credentials_encrypted: Mapped[str | None] = mapped_column(sa.Text)  # includes the webhook secret
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Payment(TenantOwned, Base):
    __tablename__ = "payments"
    __table_args__ = (
        sa.UniqueConstraint("provider", "provider_id", name="uq_payments_provider_id"),
        sa.Index("ix_payments_status_updated", "status", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id", ondelete="RESTRICT"), index=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("payment_accounts.id", ondelete="RESTRICT"), index=True)
    provider: Mapped[str] = mapped_column(sa.String(32))
    provider_id: Mapped[str | None] = mapped_column(sa.String(128))  # unknown until the create call answers
    # Our own id for the payment, sent to the provider (metadata, invoice_id, out_trade_no).
    reference: Mapped[str] = mapped_column(sa.String(64), unique=True)
    status: Mapped[PaymentStatus] = mapped_column(_enum(PaymentStatus, "status_valid"), default=PaymentStatus.PENDING)
    currency: Mapped[str] = mapped_column(sa.String(3))
    amount: Mapped[Decimal]
    captured: Mapped[Decimal] = mapped_column(default=Decimal(0))
    refunded: Mapped[Decimal] = mapped_column(default=Decimal(0))
    capture_requested: Mapped[bool] = mapped_column(default=True)  # False: authorize only
    payment_method: Mapped[str | None] = mapped_column(sa.String(128))
    action_url: Mapped[str | None] = mapped_column(sa.String(1000))
    # Kept so that a re-sent create carries exactly the first one's parameters (Stripe refuses a key reused
    # with other parameters).
    return_url: Mapped[str | None] = mapped_column(sa.String(1000))
    notify_url: Mapped[str | None] = mapped_column(sa.String(1000))
    failure_reason: Mapped[str] = mapped_column(sa.String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    account: Mapped[PaymentAccount] = relationship()  # not joined: the payment row is read FOR UPDATE
    attempts: Mapped[list[PaymentAttempt]] = relationship(back_populates="payment", order_by="PaymentAttempt.id",
                                                          cascade="all, delete-orphan")

    def money(self, amount: Decimal) -> Money:
        return Money(amount, self.currency)


class PaymentAttempt(TenantOwned, Base):
    """One logical provider operation; its key is reused by every try of that operation."""

    __tablename__ = "payment_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(sa.ForeignKey("payments.id", ondelete="CASCADE"), index=True)
    operation: Mapped[Operation] = mapped_column(_enum(Operation, "operation_valid"))
    idempotency_key: Mapped[str] = mapped_column(sa.String(255), unique=True)
    amount: Mapped[Decimal | None]  # None: the whole remaining amount
    status: Mapped[AttemptStatus] = mapped_column(_enum(AttemptStatus, "status_valid"), default=AttemptStatus.STARTED)
    tries: Mapped[int] = mapped_column(default=0)  # how many times the operation was sent (not HTTP retries)
    provider_ref: Mapped[str | None] = mapped_column(sa.String(128))  # a refund's id
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # a summary, never card data
    error: Mapped[str] = mapped_column(sa.String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    payment: Mapped[Payment] = relationship(back_populates="attempts")


class PaymentNotification(TenantOwned, Base):
    """A verified webhook or notify, stored before it is applied (by hub.payments.services, in a job)."""

    __tablename__ = "payment_notifications"
    __table_args__ = (
        sa.UniqueConstraint("provider", "event_id", name="uq_payment_notifications_event"),
        sa.Index("ix_payment_notifications_pending", "applied_at", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("payment_accounts.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(sa.String(32))
    event_id: Mapped[str] = mapped_column(sa.String(128))
    provider_id: Mapped[str] = mapped_column(sa.String(128))
    reference: Mapped[str | None] = mapped_column(sa.String(64))
    event_status: Mapped[PaymentStatus] = mapped_column(_enum(PaymentStatus, "event_status_valid"))
    amount: Mapped[Decimal | None]
    currency: Mapped[str | None] = mapped_column(sa.String(3))
    occurred_at: Mapped[datetime]
    body: Mapped[str] = mapped_column(sa.Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    applied_at: Mapped[datetime | None]
    error: Mapped[str] = mapped_column(sa.String(500), default="")
