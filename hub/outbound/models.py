from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base


class ExternalCall(Base):
    """One attempt of one call to the outside world, as `hub.outbound.audit.CallRecord` describes it.

    Not tenant-owned in the strict sense: platform-level calls (FX sources) have no seller.
    """

    __tablename__ = "external_calls"
    __table_args__ = (sa.Index("ix_external_calls_seller_at", "seller_id", "at"),)

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    seller_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sellers.id", ondelete="CASCADE"))
    channel_id: Mapped[int | None] = mapped_column(sa.ForeignKey("channels.id", ondelete="SET NULL"))
    service: Mapped[str] = mapped_column(sa.String(40))
    method: Mapped[str] = mapped_column(sa.String(10))
    url: Mapped[str] = mapped_column(sa.Text)  # redacted before it gets here
    status: Mapped[int | None]
    duration_ms: Mapped[int]
    attempt: Mapped[int]
    error: Mapped[str] = mapped_column(sa.String(200), default="")
    run_id: Mapped[int | None] = mapped_column(sa.BigInteger().with_variant(sa.Integer(), "sqlite"), index=True)
    throttled: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
