"""Buyer accounts of a seller's own site, their bearer tokens, address book and the orders they placed.

A buyer belongs to exactly one seller (the same email may sign up at two sellers' sites: two unrelated accounts),
so every row here is tenant-owned and every lookup is by (seller, buyer)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.db import Base, TenantOwned
from hub.timeutil import utcnow


class BuyerAccount(TenantOwned, Base):
    __tablename__ = "buyer_accounts"
    __table_args__ = (sa.UniqueConstraint("seller_id", "email", name="uq_buyer_accounts_seller_email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254))  # stored lower-cased
    name: Mapped[str] = mapped_column(sa.String(200))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    # The seller's cross-channel profile of this person (hub.customers): the buyer's orders are linked to it.
    customer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("customers.id", ondelete="SET NULL"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    lock_count: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BuyerToken(TenantOwned, Base):
    """A buyer's bearer token. Only its SHA-256 is stored (256 random bits: a fast hash suffices and allows lookup)."""

    __tablename__ = "buyer_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_id: Mapped[int] = mapped_column(sa.ForeignKey("buyer_accounts.id", ondelete="CASCADE"), index=True)
    prefix: Mapped[str] = mapped_column(sa.String(16))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    buyer: Mapped[BuyerAccount] = relationship(lazy="joined")


class BuyerAddress(TenantOwned, Base):
    __tablename__ = "buyer_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_id: Mapped[int] = mapped_column(sa.ForeignKey("buyer_accounts.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(sa.String(60), default="")
    name: Mapped[str] = mapped_column(sa.String(200))
    line1: Mapped[str] = mapped_column(sa.String(200))
    line2: Mapped[str] = mapped_column(sa.String(200), default="")
    city: Mapped[str] = mapped_column(sa.String(100))
    postal_code: Mapped[str] = mapped_column(sa.String(20), default="")
    region: Mapped[str] = mapped_column(sa.String(100), default="")
    country: Mapped[str] = mapped_column(sa.String(2))  # ISO 3166-1 alpha-2, checked by the schema
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    is_default: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BuyerOrder(TenantOwned, Base):
    """Which buyer placed which order. The buyer API reads orders through this link only, never through the
    customer profile: a seller merging profiles, or matching a marketplace order to the same person, must not show
    a buyer orders they did not place on the site."""

    __tablename__ = "buyer_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_id: Mapped[int] = mapped_column(sa.ForeignKey("buyer_accounts.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
