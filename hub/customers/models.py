"""A customer is one buyer of one seller, recognised across channels (hub.customers.matching links orders).

`merged_into_id` keeps a merged profile instead of deleting it, so a merge can be undone; queries follow it to
the surviving profile."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, TenantOwned
from hub.timeutil import utcnow


class Customer(TenantOwned, Base):
    __tablename__ = "customers"
    __table_args__ = (
        # One profile per normalised email per seller: matching inserts ON CONFLICT against it, no read-first.
        sa.Index("uq_customers_seller_email", "seller_id", "email_key", unique=True,
                 sqlite_where=sa.text("email_key IS NOT NULL"), postgresql_where=sa.text("email_key IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    email_key: Mapped[str | None] = mapped_column(sa.String(254))  # normalised email, the strongest match key
    phone_key: Mapped[str | None] = mapped_column(sa.String(40), index=True)  # E.164-ish digits
    merged_into_id: Mapped[int | None] = mapped_column(sa.ForeignKey("customers.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
