"""A customer is one buyer of one seller, recognised across channels (hub.customers.matching links orders).

`merged_into_id` keeps a merged profile instead of deleting it, so a merge can be undone; queries follow it to
the surviving profile. Every link of an order (with the keys it was matched on and why) and every merge (with the
orders it moved) is a row of its own, so an un-merge restores exactly what the merge changed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import JSON, Base, TenantOwned
from hub.timeutil import utcnow


class Customer(TenantOwned, Base):
    __tablename__ = "customers"
    __table_args__ = (
        # One profile per normalised email per seller: matching inserts ON CONFLICT against it, no read-first.
        sa.Index("uq_customers_seller_email", "seller_id", "email_key", unique=True,
                 sqlite_where=sa.text("email_key IS NOT NULL"), postgresql_where=sa.text("email_key IS NOT NULL")),
        # The same for profiles without an email: a masked buyer's channel id, or phone + name + address.
        sa.Index("uq_customers_seller_match", "seller_id", "match_key", unique=True,
                 sqlite_where=sa.text("match_key IS NOT NULL"), postgresql_where=sa.text("match_key IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    email_key: Mapped[str | None] = mapped_column(sa.String(254))  # normalised email, the strongest match key
    phone_key: Mapped[str | None] = mapped_column(sa.String(40), index=True)  # E.164-ish digits
    # "masked:<channel id>:<buyer id>" or "phone:<phone>|<name>|<postal>|<country>" (hub.customers.matching).
    match_key: Mapped[str | None] = mapped_column(sa.String(160))
    merged_into_id: Mapped[int | None] = mapped_column(sa.ForeignKey("customers.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CustomerLink(TenantOwned, Base):
    """Why an order belongs to a customer: the profile matching chose for it (kept when a merge moves the order
    on, so an un-merge knows where it came from), the keys it compared and the reason. One per order."""

    __tablename__ = "customer_links"
    __table_args__ = (
        sa.UniqueConstraint("order_id"),
        # Email-less orders look for an earlier order with the same phone, name and address.
        sa.Index("ix_customer_links_contact", "seller_id", "phone_key", "name_key", "address_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id", ondelete="CASCADE"))
    # None: a masked buyer without a channel id, or an order with neither email nor phone: linked to no one.
    customer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(sa.String(64))
    detail: Mapped[str] = mapped_column(sa.Text, default="")
    created_profile: Mapped[bool] = mapped_column(default=False)
    email_key: Mapped[str | None] = mapped_column(sa.String(254))
    phone_key: Mapped[str | None] = mapped_column(sa.String(40))
    name_key: Mapped[str] = mapped_column(sa.String(200), default="")
    address_key: Mapped[str] = mapped_column(sa.String(40), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CustomerMerge(TenantOwned, Base):
    """One merge of `other` into `into` by a person, and its undoing. `order_ids` are the orders it moved."""

    __tablename__ = "customer_merges"

    id: Mapped[int] = mapped_column(primary_key=True)
    into_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    other_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    order_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    merged_by: Mapped[str] = mapped_column(sa.String(120))
    merged_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set by the un-merge, with the orders it moved back (the merge's and those linked to `other` since).
    unmerged_by: Mapped[str | None] = mapped_column(sa.String(120))
    unmerged_at: Mapped[datetime | None]
    restored_order_ids: Mapped[list[Any] | None] = mapped_column(JSON)
