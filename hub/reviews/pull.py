"""Pulling a channel's product reviews into the hub: `pull_reviews(env, channel_id)`.

Each page the connector yields is written in its own transaction as one INSERT ... ON CONFLICT (channel_id,
external_id) DO UPDATE, so a repeated or overlapping pull updates the rows it already has and never doubles one,
also when two pulls race. The channel's product is matched to the seller's by SKU: the channel's listing of that
SKU first (hub.channels.models.Listing, which may map it to another product), else the seller's live product
with that SKU. A review of a product the hub does not know is kept with product_id NULL and the channel's SKU
(or its product id when the channel gave no SKU), and shown as unmatched.

Without `since`, a pull starts OVERLAP before the newest review held from this channel (the first one reads
everything). Not a sync Job yet: the lead schedules it (worker); every call is on the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.catalog.models import Product
from hub.channels.models import Channel, Listing
from hub.channels.port import ChannelReview, ReviewSource
from hub.db import dialect_insert
from hub.errors import NotFound, ValidationError
from hub.outbound.audit_store import DbAudit
from hub.reviews.models import Review, ReviewOrigin, ReviewStatus
from hub.reviews.services import FOLLOW_UP_AT, needs_follow_up
from hub.sync.connect import open_connector
from hub.sync.env import SyncEnv
from hub.timeutil import utcnow

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)
OVERLAP = timedelta(days=2)  # reviews appear late (moderation): re-read the last two days every time


@dataclass
class PullResult:
    pulled: int = 0  # reviews written (new or updated)
    unmatched: int = 0  # of those, with no hub product
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (review id, why) the mapping refused


def reads_reviews(env: SyncEnv, kind: str) -> bool:
    """Whether channels of this kind have a connector that implements ReviewSource."""
    spec = env.registry.specs.get(kind)
    return spec is not None and callable(getattr(spec.connector, "fetch_reviews", None))


def _since(session: Session, channel_id: int) -> datetime:
    newest = session.scalar(sa.select(sa.func.max(Review.created_at)).where(
        Review.channel_id == channel_id, Review.source == ReviewOrigin.CHANNEL.value))
    return newest - OVERLAP if newest is not None else LONG_AGO


def match_products(session: Session, seller_id: int, channel_id: int, skus: set[str]) -> dict[str, int]:
    """SKU -> the seller's product id, through the channel's listings first, then the live product's own SKU."""
    skus.discard("")
    if not skus:
        return {}
    found = dict(session.execute(sa.select(Listing.channel_sku, Listing.product_id).where(
        Listing.seller_id == seller_id, Listing.channel_id == channel_id, Listing.channel_sku.in_(skus),
        Listing.product_id.is_not(None))).all())
    rest = skus - set(found)
    if rest:
        found.update(session.execute(sa.select(Product.sku, Product.id).where(
            Product.seller_id == seller_id, Product.sku.in_(rest), Product.deleted_at.is_(None))).all())
    return found


def upsert_reviews(session: Session, channel: Channel, reviews: list[ChannelReview], *,
                   follow_up_at: int = FOLLOW_UP_AT) -> int:
    """Writes one page; returns how many of its reviews have no hub product."""
    if not reviews:
        return 0
    products = match_products(session, channel.seller_id, channel.id, {r.sku for r in reviews})
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for r in {r.external_id: r for r in reviews}.values():  # a review twice on one page: the last one
        rows.append({
            "seller_id": channel.seller_id, "channel_id": channel.id, "source": ReviewOrigin.CHANNEL.value,
            "external_id": r.external_id, "product_id": products.get(r.sku), "order_line_id": None,
            "customer_id": None, "channel_sku": (r.sku or "")[:64], "channel_product_ref": r.product_ref[:64],
            "rating": r.rating, "title": r.title[:200], "body": r.body, "photos": list(r.photos),
            "reviewer_name": r.reviewer_name[:200],
            "status": (ReviewStatus.PUBLISHED if r.published else ReviewStatus.HIDDEN).value,
            "flagged_for_follow_up": needs_follow_up(r.rating, follow_up_at), "follow_up_done_at": None,
            "created_at": r.created_at, "updated_at": now,
        })
    table = Review.__table__
    insert = dialect_insert(session)(table).values(rows)
    changed = {name: insert.excluded[name] for name in (
        "product_id", "channel_sku", "channel_product_ref", "rating", "title", "body", "photos", "reviewer_name",
        "status", "flagged_for_follow_up", "updated_at")}
    # A product matched once stays matched should a later page not tell the SKU any more.
    changed["product_id"] = sa.func.coalesce(insert.excluded.product_id, table.c.product_id)
    session.execute(insert.on_conflict_do_update(index_elements=[table.c.channel_id, table.c.external_id],
                                                 set_=changed))
    return sum(1 for row in rows if row["product_id"] is None)


def pull_reviews(env: SyncEnv, channel_id: int, *, since: datetime | None = None,
                 follow_up_at: int = FOLLOW_UP_AT) -> PullResult:
    """Reads the channel's reviews since `since` (default: see the module docstring) and upserts them, page by
    page. ValidationError for a channel whose connector cannot read reviews."""
    with env.sessions() as session:
        channel = session.get(Channel, channel_id)
        if channel is None:
            raise NotFound(f"no channel {channel_id}")
        session.expunge(channel)
        start = since or _since(session, channel_id)
    audit = DbAudit(env.sessions, seller_id=channel.seller_id, channel_id=channel.id)
    connector = open_connector(env, channel, audit)
    if not isinstance(connector, ReviewSource):
        raise ValidationError(f"{channel.kind} channels do not expose reviews", code="no_reviews")
    result = PullResult()
    for page in connector.fetch_reviews(start):
        with env.sessions.begin() as session:
            result.unmatched += upsert_reviews(session, channel, list(page.reviews), follow_up_at=follow_up_at)
        result.pulled += len({r.external_id for r in page.reviews})
        result.rejected.extend(page.rejected)
    return result
