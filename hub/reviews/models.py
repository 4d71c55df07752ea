"""Reviews of products: written in the hub by a buyer about one delivered order line, or pulled from a channel.

The database holds the rules that must survive races: one hub review per order line (a unique key on
`order_line_id`; pulled reviews leave it NULL, and NULLs never clash), one row per channel review
(`(channel_id, external_id)` unique, so a pull repeated or overlapping upserts instead of doubling), a rating
of 1 to 5. Every edit of a hub review keeps what it replaced as a ReviewRevision.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.db import JSON, Base, TenantOwned
from hub.timeutil import utcnow


class ReviewOrigin(enum.StrEnum):
    HUB = "hub"  # written by the seller's buyer through the hub
    CHANNEL = "channel"  # pulled from a marketplace or shop


class ReviewStatus(enum.StrEnum):
    PUBLISHED = "published"
    HIDDEN = "hidden"  # the channel holds it back (pending, spam) or the seller hid it


class Review(TenantOwned, Base):
    __tablename__ = "reviews"
    __table_args__ = (
        sa.UniqueConstraint("channel_id", "external_id"),  # NULL external ids (hub reviews) never clash
        sa.UniqueConstraint("order_line_id"),  # once per line; NULL for pulled reviews
        sa.CheckConstraint("rating >= 1 AND rating <= 5", name="rating_range"),
        sa.CheckConstraint("source IN ('hub', 'channel')", name="source_valid"),
        sa.CheckConstraint("status IN ('published', 'hidden')", name="status_valid"),
        # Ratings per product and channel (GROUP BY product_id, channel_id) and the newest first.
        sa.Index("ix_reviews_seller_product_channel", "seller_id", "product_id", "channel_id"),
        sa.Index("ix_reviews_seller_created", "seller_id", "created_at", "id"),
        sa.Index("ix_reviews_seller_flagged", "seller_id", "flagged_for_follow_up", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int | None] = mapped_column(sa.ForeignKey("products.id", ondelete="SET NULL"))
    channel_id: Mapped[int] = mapped_column(sa.ForeignKey("channels.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int | None] = mapped_column(sa.ForeignKey("order_lines.id", ondelete="SET NULL"))
    customer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("customers.id", ondelete="SET NULL"), index=True)
    source: Mapped[str] = mapped_column(sa.String(8))
    external_id: Mapped[str | None] = mapped_column(sa.String(128))  # the channel's review id
    channel_sku: Mapped[str] = mapped_column(sa.String(64), default="")  # kept to show an unmatched product
    channel_product_ref: Mapped[str] = mapped_column(sa.String(64), default="")  # the channel's product id
    rating: Mapped[int] = mapped_column(sa.SmallInteger)
    title: Mapped[str] = mapped_column(sa.String(200), default="")
    body: Mapped[str] = mapped_column(sa.Text, default="")
    photos: Mapped[list[str]] = mapped_column(JSON, default=list)
    reviewer_name: Mapped[str] = mapped_column(sa.String(200), default="")
    status: Mapped[str] = mapped_column(sa.String(16), default=ReviewStatus.PUBLISHED.value)
    flagged_for_follow_up: Mapped[bool] = mapped_column(default=False)
    follow_up_done_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)  # written (for pulled ones: on the channel)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    revisions: Mapped[list[ReviewRevision]] = relationship(
        back_populates="review", order_by="ReviewRevision.id", cascade="all, delete-orphan", lazy="selectin")


class ReviewRevision(TenantOwned, Base):
    """What a review said before one edit."""

    __tablename__ = "review_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(sa.ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    rating: Mapped[int] = mapped_column(sa.SmallInteger)
    title: Mapped[str] = mapped_column(sa.String(200), default="")
    body: Mapped[str] = mapped_column(sa.Text, default="")
    photos: Mapped[list[str]] = mapped_column(JSON, default=list)
    edited_at: Mapped[datetime] = mapped_column(default=utcnow)

    review: Mapped[Review] = relationship(back_populates="revisions")
