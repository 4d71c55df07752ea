from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, TenantOwned
from hub.timeutil import utcnow

DIRECT = "direct"


class Channel(TenantOwned, Base):
    """Where orders come from: a marketplace account, or the seller's own `direct` channel."""

    __tablename__ = "channels"
    __table_args__ = (sa.UniqueConstraint("seller_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    name: Mapped[str] = mapped_column(sa.String(80))
    currency: Mapped[str] = mapped_column(sa.String(3))
    timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
