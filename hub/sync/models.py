"""What the sync engine remembers: cursors, runs, quarantine, webhook deliveries, circuits and leases."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import JSON, Base, TenantOwned
from hub.timeutil import utcnow

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class Job(enum.StrEnum):
    PULL = "pull"
    PUSH_INVENTORY = "push-inventory"
    PUSH_PRICES = "push-prices"
    PUSH_FULFILMENTS = "push-fulfilments"
    CHECK_DRIFT = "check-drift"


def _enum(cls: type[enum.Enum], name: str) -> sa.Enum:
    return sa.Enum(cls, native_enum=False, length=24, create_constraint=True, name=name,
                   values_callable=lambda e: [m.value for m in e])


class SyncCursor(TenantOwned, Base):
    """Where the order pull of one channel stands; written in the same transaction as each page's orders.

    `watermark`: the newest marketplace updated-at fully pulled; the next pass asks from it minus the
    overlap. A pass in progress keeps its `pass_since` (cursors belong to the query that made them), the
    cursor of the next page and the newest updated-at seen so far, so a crash resumes where it stopped.
    """

    __tablename__ = "sync_cursors"

    channel_id: Mapped[int] = mapped_column(sa.ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True)
    watermark: Mapped[datetime | None]
    pass_since: Mapped[datetime | None]
    page_cursor: Mapped[str | None] = mapped_column(sa.Text)
    pass_high: Mapped[datetime | None]
    pages: Mapped[int] = mapped_column(default=0)  # pages of the pass in progress
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Outcome(enum.StrEnum):
    RUNNING = "running"
    OK = "ok"
    PARTIAL = "partial"  # done, but some items failed (quarantined orders, refused SKUs)
    FAILED = "failed"
    SKIPPED = "skipped"  # circuit open, channel disabled, another run holds the job


class SyncRun(TenantOwned, Base):
    __tablename__ = "sync_runs"
    __table_args__ = (sa.Index("ix_sync_runs_channel_started", "channel_id", "started_at"),
                      # Sync health: the newest run of a channel (of a job: the channel's runs read back from it).
                      sa.Index("ix_sync_runs_channel_id", "channel_id", "id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel_id: Mapped[int] = mapped_column(sa.ForeignKey("channels.id", ondelete="CASCADE"))
    job: Mapped[Job] = mapped_column(_enum(Job, "job_valid"))
    trigger: Mapped[str] = mapped_column(sa.String(16))  # schedule, manual, cli, webhook
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    outcome: Mapped[Outcome] = mapped_column(_enum(Outcome, "outcome_valid"), default=Outcome.RUNNING)
    pages: Mapped[int] = mapped_column(default=0)
    fetched: Mapped[int] = mapped_column(default=0)
    created: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    quarantined: Mapped[int] = mapped_column(default=0)
    pushed: Mapped[int] = mapped_column(default=0)
    push_failed: Mapped[int] = mapped_column(default=0)
    api_calls: Mapped[int] = mapped_column(default=0)
    retries: Mapped[int] = mapped_column(default=0)
    throttled: Mapped[int] = mapped_column(default=0)
    message: Mapped[str] = mapped_column(sa.Text, default="")
    # What the job found that a count cannot say, e.g. a drift check's differences per SKU.
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class QuarantineStatus(enum.StrEnum):
    OPEN = "open"
    REPLAYED = "replayed"
    DISCARDED = "discarded"


class QuarantinedOrder(TenantOwned, Base):
    """An order that could not be imported, kept with why, as received, and where it came from.

    The same payload arriving again (the next overlapping pull) is one row, seen more often."""

    __tablename__ = "quarantined_orders"
    __table_args__ = (
        sa.UniqueConstraint("channel_id", "payload_sha256"),
        sa.Index("ix_quarantined_orders_seller_status", "seller_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(sa.ForeignKey("channels.id", ondelete="CASCADE"))
    run_id: Mapped[int | None] = mapped_column(BigId)
    source: Mapped[str] = mapped_column(sa.String(16))  # pull, webhook
    external_id: Mapped[str] = mapped_column(sa.String(128), default="")
    reason: Mapped[str] = mapped_column(sa.Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    payload_sha256: Mapped[str] = mapped_column(sa.String(64))
    page_cursor: Mapped[str | None] = mapped_column(sa.Text)  # the cursor that fetched its page (None: first)
    status: Mapped[QuarantineStatus] = mapped_column(_enum(QuarantineStatus, "status_valid"),
                                                     default=QuarantineStatus.OPEN)
    seen: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str] = mapped_column(sa.String(120), default="")
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("orders.id", ondelete="SET NULL"))


class WebhookDelivery(TenantOwned, Base):
    """A webhook as received. The unique keys drop a redelivery (same id) and a replayed body (same hash)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("channel_id", "delivery_id"),
        sa.UniqueConstraint("channel_id", "body_sha256"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel_id: Mapped[int] = mapped_column(sa.ForeignKey("channels.id", ondelete="CASCADE"))
    delivery_id: Mapped[str | None] = mapped_column(sa.String(128))
    topic: Mapped[str] = mapped_column(sa.String(64), default="")
    body_sha256: Mapped[str] = mapped_column(sa.String(64))
    body: Mapped[str] = mapped_column(sa.Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(sa.String(16), default="received")  # applied, quarantined, failed
    message: Mapped[str] = mapped_column(sa.Text, default="")


class CircuitState(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class ChannelCircuit(TenantOwned, Base):
    """Failure isolation per channel: after sustained failures its jobs stop until a probe succeeds."""

    __tablename__ = "channel_circuits"

    channel_id: Mapped[int] = mapped_column(sa.ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True)
    state: Mapped[CircuitState] = mapped_column(_enum(CircuitState, "state_valid"), default=CircuitState.CLOSED)
    failures: Mapped[int] = mapped_column(default=0)  # failed runs in a row
    opened_at: Mapped[datetime | None]
    retry_at: Mapped[datetime | None]  # when an open circuit lets one probe through
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Lease(Base):
    """A named lock held by one process (the scheduler's leadership, one (channel, job) run), where the
    database has no advisory locks (SQLite). `holder` names host, pid and a nonce; a lease whose holder
    is dead (same host) or whose time ran out may be taken over."""

    __tablename__ = "sync_leases"

    name: Mapped[str] = mapped_column(sa.String(120), primary_key=True)
    holder: Mapped[str] = mapped_column(sa.String(200))
    expires_at: Mapped[datetime]
