"""Behaviour events (append-only) and the recommendation tables that `hub.recommend.compute` rewrites.

Events are facts that happened on the seller's own site; they are never changed or removed by the hub (only a
product's or seller's deletion takes its events along). The other tables are derived: the job replaces a seller's
rows in one transaction, so a read sees either the old set or the new one.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import JSON, Base, TenantOwned
from hub.timeutil import utcnow


class EventKind(enum.StrEnum):
    VIEW = "view"
    ADD_TO_CART = "add_to_cart"
    CLICK = "click"
    PURCHASE = "purchase"


class RecommendationList(enum.StrEnum):
    """Which list a recommended product was shown in: carried by a click, for the accuracy R."""

    BOUGHT_TOGETHER = "bought_together"
    FOR_BUYER = "for_buyer"
    POPULAR = "popular"


class BehaviourEvent(TenantOwned, Base):
    __tablename__ = "behaviour_events"
    __table_args__ = (
        # The idempotency key: the site's own id for the event, once per seller (INSERT ... ON CONFLICT DO NOTHING).
        sa.UniqueConstraint("seller_id", "event_id", name="uq_behaviour_events_seller_event"),
        sa.CheckConstraint("kind IN ('view', 'add_to_cart', 'click', 'purchase')", name="kind_known"),
        sa.Index("ix_behaviour_events_seller_kind_occurred", "seller_id", "kind", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(sa.String(64))
    kind: Mapped[str] = mapped_column(sa.String(16))
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("customers.id", ondelete="SET NULL"))
    # The site's anonymous visitor or session key: ties a visitor's events together before they are a customer.
    visitor: Mapped[str] = mapped_column(sa.String(64), default="")
    # For clicks: the recommendation list the clicked product was shown in ("" when it was not a recommendation).
    context: Mapped[str] = mapped_column(sa.String(32), default="")
    occurred_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class AppendOnly(RuntimeError):
    """Code tried to change or delete a behaviour event: a programming error."""


@event.listens_for(BehaviourEvent, "before_update")
def _refuse_update(_mapper: Any, _conn: Any, target: BehaviourEvent) -> None:
    raise AppendOnly(f"behaviour event {target.event_id!r} is append-only")


@event.listens_for(BehaviourEvent, "before_delete")
def _refuse_delete(_mapper: Any, _conn: Any, target: BehaviourEvent) -> None:
    raise AppendOnly(f"behaviour event {target.event_id!r} is append-only")


class BoughtTogether(TenantOwned, Base):
    """Per product, the products most often in the same basket (any channel), best first."""

    __tablename__ = "recommend_bought_together"
    __table_args__ = (sa.UniqueConstraint("seller_id", "product_id", "rank", name="uq_recommend_bought_together_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id", ondelete="CASCADE"))
    other_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id", ondelete="CASCADE"), index=True)
    rank: Mapped[int]
    score: Mapped[float] = mapped_column(sa.Float)  # cosine of the two products' basket vectors, 0..1
    baskets: Mapped[int]  # baskets holding both: the support


class ForBuyer(TenantOwned, Base):
    """Per customer, the products to suggest next, best first."""

    __tablename__ = "recommend_for_buyer"
    __table_args__ = (sa.UniqueConstraint("seller_id", "customer_id", "rank", name="uq_recommend_for_buyer_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id", ondelete="CASCADE"), index=True)
    rank: Mapped[int]
    score: Mapped[float] = mapped_column(sa.Float)


class Popular(TenantOwned, Base):
    """The seller's best sellers: the fallback for a buyer without a list of their own."""

    __tablename__ = "recommend_popular"
    __table_args__ = (sa.UniqueConstraint("seller_id", "rank", name="uq_recommend_popular_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id", ondelete="CASCADE"), index=True)
    rank: Mapped[int]
    score: Mapped[float] = mapped_column(sa.Float)  # distinct buyers


class ListingOpportunity(TenantOwned, Base):
    """A product that sells on other channels (or in other countries) but not on this channel (in this country)."""

    __tablename__ = "recommend_listing_opportunities"
    __table_args__ = (
        sa.UniqueConstraint("seller_id", "rank", name="uq_recommend_listing_opportunities_key"),
        sa.CheckConstraint("(channel_id IS NULL) <> (country IS NULL)", name="channel_or_country"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id", ondelete="CASCADE"), index=True)
    channel_id: Mapped[int | None] = mapped_column(sa.ForeignKey("channels.id", ondelete="CASCADE"), index=True)
    country: Mapped[str | None] = mapped_column(sa.String(2))
    rank: Mapped[int]
    units_elsewhere: Mapped[int]
    orders_elsewhere: Mapped[int]
    # The evidence: where it sells, {"channels": {name: units}} or {"countries": {code: units}}.
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)


class RecommendRun(TenantOwned, Base):
    """One recompute of one seller's lists: when, how long, how much went in and came out."""

    __tablename__ = "recommend_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime]
    duration_ms: Mapped[int]
    orders: Mapped[int]
    events: Mapped[int]
    bought_together: Mapped[int]
    for_buyer: Mapped[int]
    opportunities: Mapped[int]
