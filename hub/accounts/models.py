from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.db import Base
from hub.timeutil import utcnow


class Role(enum.StrEnum):
    VIEWER = "viewer"
    STAFF = "staff"
    OWNER = "owner"
    ADMIN = "admin"  # platform admin: sees every seller

    @property
    def rank(self) -> int:
        return _RANK[self]

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


_RANK = {Role.VIEWER: 0, Role.STAFF: 1, Role.OWNER: 2, Role.ADMIN: 3}


class Seller(Base):
    __tablename__ = "sellers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    base_currency: Mapped[str] = mapped_column(sa.String(3))
    default_locale: Mapped[str] = mapped_column(sa.String(16))
    timezone: Mapped[str] = mapped_column(sa.String(64))
    prices_include_tax: Mapped[bool] = mapped_column(default=False)
    # Convert with a rate older than FX_MAX_AGE_DAYS instead of refusing (the order is flagged instead).
    allow_stale_rates: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Tax identifiers for customs declarations: IOSS (IM + 10 digits), EORI, VAT.
    ioss_number: Mapped[str | None] = mapped_column(sa.String(12))
    eori_number: Mapped[str | None] = mapped_column(sa.String(17))
    vat_number: Mapped[str | None] = mapped_column(sa.String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    """A person who logs in. Platform admins have no seller of their own."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    seller_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sellers.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(sa.Enum(Role, native_enum=False, length=16, create_constraint=True,
                                               name="role_valid", values_callable=lambda e: [m.value for m in e]))
    locale: Mapped[str | None] = mapped_column(sa.String(16))
    timezone: Mapped[str | None] = mapped_column(sa.String(64))
    is_active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    lock_count: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    # Bumped on password change so every other session and remember-cookie stops working.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    seller: Mapped[Seller | None] = relationship(lazy="joined")


class ApiToken(Base):
    """A bearer token for the JSON API. Only its SHA-256 is stored; the token is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    prefix: Mapped[str] = mapped_column(sa.String(16))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined")


class Invitation(Base):
    """An owner's invitation to join the seller's team. Only the SHA-256 of its link's token is stored: the link
    is shown once to the owner, who passes it on; it works once, until `expires_at`, unless revoked."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    seller_id: Mapped[int] = mapped_column(sa.ForeignKey("sellers.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    role: Mapped[Role] = mapped_column(sa.Enum(Role, native_enum=False, length=16, create_constraint=True,
                                               name="invitation_role_valid",
                                               values_callable=lambda e: [m.value for m in e]))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    invited_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    seller: Mapped[Seller] = relationship()

    def is_open(self, now: datetime) -> bool:
        return self.accepted_at is None and self.revoked_at is None and now < self.expires_at
