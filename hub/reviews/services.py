"""Review use cases: a buyer writes and edits reviews of delivered lines; staff read ratings and follow up.

Rules and where they live:

- only a delivered line may be reviewed: its order is delivered (or was, and is now partly refunded while the
  line itself was shipped in full); checked here, with the order row read under the caller's transaction;
- once per line: the unique key on `reviews.order_line_id` decides (INSERT in a savepoint, the violation
  becomes Conflict), so two racing requests cannot both write one; nothing is read first to decide it;
- an edit keeps what it replaced as a ReviewRevision;
- a rating at or below the follow-up threshold (FOLLOW_UP_AT, 2 stars, or the caller's) flags the review.

`write_review` / `edit_review` take the signed-in buyer's customer id (the buyer API calls them); the staff
side takes an Actor, as every other service does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.accounts.actor import Actor
from hub.accounts.models import Role
from hub.catalog.models import Product
from hub.channels.models import Channel
from hub.customers.models import Customer
from hub.db import unique_or_raise
from hub.errors import Conflict, NotFound
from hub.orders.models import Order, OrderEvent, OrderLine
from hub.orders.status import OrderStatus
from hub.reviews.models import Review, ReviewOrigin, ReviewRevision, ReviewStatus
from hub.reviews.schemas import ReviewFilters, ReviewIn
from hub.timeutil import utcnow

FOLLOW_UP_AT = 2  # ratings at or below this are flagged for a human to follow up
NEWEST_LIMIT = 20
MAX_LIMIT = 200


def needs_follow_up(rating: int, follow_up_at: int = FOLLOW_UP_AT) -> bool:
    return rating <= follow_up_at


# --- the buyer's side -----------------------------------------------------------------------------------------
def _buyer_line(session: Session, seller_id: int, customer_id: int, order_line_id: int) -> tuple[OrderLine, Order]:
    """The line if it is on an order of this buyer at this seller; the same NotFound otherwise, so a buyer cannot
    probe other buyers' lines."""
    row = session.execute(
        sa.select(OrderLine, Order).join(Order, Order.id == OrderLine.order_id)
        .where(OrderLine.id == order_line_id, OrderLine.seller_id == seller_id, Order.seller_id == seller_id,
               Order.customer_id == customer_id)).first()
    if row is None:
        raise NotFound(f"no order line {order_line_id}")
    return row[0], row[1]


def _delivered(session: Session, order: Order, line: OrderLine) -> bool:
    if order.status is OrderStatus.DELIVERED:
        return True
    # A delivered order later partly refunded is still delivered for the lines shipped in full.
    if order.status is OrderStatus.PARTIALLY_REFUNDED and line.quantity_fulfilled >= line.quantity:
        return session.scalar(sa.select(sa.literal(True)).where(
            OrderEvent.order_id == order.id, OrderEvent.to_status == OrderStatus.DELIVERED).limit(1)) is not None
    return False


def write_review(session: Session, seller_id: int, customer_id: int, order_line_id: int, data: ReviewIn, *,
                 follow_up_at: int = FOLLOW_UP_AT) -> Review:
    """The buyer's review of one line of one of their delivered orders. NotFound for a line that is not theirs,
    Conflict (`not_delivered`) before delivery, Conflict (`already_reviewed`) for a second review of the line."""
    line, order = _buyer_line(session, seller_id, customer_id, order_line_id)
    if not _delivered(session, order, line):
        raise Conflict(f"order {order.external_id} is {order.status}: a line can be reviewed once it is delivered",
                       code="not_delivered", fields={"order_line_id": "not delivered yet"})
    customer = session.get(Customer, customer_id)
    now = utcnow()
    review = Review(
        seller_id=seller_id, product_id=line.product_id, channel_id=order.channel_id, order_line_id=line.id,
        customer_id=customer_id, source=ReviewOrigin.HUB.value, external_id=None, channel_sku=line.sku,
        rating=data.rating, title=data.title, body=data.body, photos=list(data.photos),
        reviewer_name=(customer.name if customer and customer.name else order.buyer_name)[:200],
        status=ReviewStatus.PUBLISHED.value, flagged_for_follow_up=needs_follow_up(data.rating, follow_up_at),
        created_at=now, updated_at=now)
    with unique_or_raise(session, lambda: Conflict(f"order line {order_line_id} has a review already: edit it",
                                                   code="already_reviewed",
                                                   fields={"order_line_id": "already reviewed"})):
        session.add(review)
    return review


def buyer_review(session: Session, seller_id: int, customer_id: int, review_id: int, *,
                 for_update: bool = False) -> Review:
    query = sa.select(Review).where(Review.id == review_id, Review.seller_id == seller_id,
                                    Review.customer_id == customer_id, Review.source == ReviewOrigin.HUB.value)
    if for_update:
        query = query.with_for_update()
    review = session.scalar(query)
    if review is None:
        raise NotFound(f"no review {review_id}")
    return review


def edit_review(session: Session, seller_id: int, customer_id: int, review_id: int, data: ReviewIn, *,
                follow_up_at: int = FOLLOW_UP_AT) -> Review:
    """Replaces the buyer's review's rating, title, text and photos, keeping the old ones as a revision. An edit
    that changes nothing keeps no revision. A follow-up already done stays done; a new low rating flags again."""
    review = buyer_review(session, seller_id, customer_id, review_id, for_update=True)
    before = (review.rating, review.title, review.body, list(review.photos or []))
    after = (data.rating, data.title, data.body, list(data.photos))
    if before == after:
        return review
    now = utcnow()
    session.add(ReviewRevision(seller_id=seller_id, review_id=review.id, rating=before[0], title=before[1],
                               body=before[2], photos=before[3], edited_at=now))
    flagged = needs_follow_up(data.rating, follow_up_at)
    if flagged and data.rating < review.rating:
        review.follow_up_done_at = None  # worse than what was followed up: look again
    review.rating, review.title, review.body, review.photos = after
    review.flagged_for_follow_up = flagged
    review.updated_at = now
    session.flush()
    session.expire(review, ["revisions"])
    return review


# --- the seller's side ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rating:
    count: int
    average: Decimal | None  # None without reviews; else to two decimals

    @classmethod
    def of(cls, count: int, total: int) -> Rating:
        if not count:
            return cls(0, None)
        return cls(count, (Decimal(total) / Decimal(count)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class ChannelRating:
    channel_id: int
    channel_name: str
    channel_kind: str
    rating: Rating


@dataclass
class ProductRatings:
    channels: list[ChannelRating] = field(default_factory=list)
    overall: Rating = Rating(0, None)


def product_ratings(session: Session, actor: Actor, product_ids: Iterable[int]) -> dict[int, ProductRatings]:
    """product id -> its published reviews' count and average per channel and overall: one GROUP BY query for all
    the products asked. A product without reviews has an empty entry."""
    ids = sorted(set(product_ids))
    result = {pid: ProductRatings() for pid in ids}
    if not ids:
        return result
    rows = session.execute(
        sa.select(Review.product_id, Review.channel_id, Channel.name, Channel.kind, sa.func.count(Review.id),
                  sa.func.sum(Review.rating))
        .join(Channel, Channel.id == Review.channel_id)
        .where(Review.product_id.in_(ids), Review.status == ReviewStatus.PUBLISHED.value,
               actor.sees(Review.seller_id))
        .group_by(Review.product_id, Review.channel_id, Channel.name, Channel.kind)
        .order_by(Review.product_id, Channel.name)).all()
    totals: dict[int, tuple[int, int]] = {}
    for product_id, channel_id, name, kind, count, total in rows:
        result[product_id].channels.append(ChannelRating(channel_id, name, kind, Rating.of(count, int(total))))
        seen = totals.get(product_id, (0, 0))
        totals[product_id] = (seen[0] + count, seen[1] + int(total))
    for product_id, (count, total) in totals.items():
        result[product_id].overall = Rating.of(count, total)
    return result


@dataclass(frozen=True)
class ReviewRow:
    review: Review
    channel_name: str
    channel_kind: str
    product_sku: str | None  # None: the channel's product is not matched to one of the seller's
    product_title: str | None


def newest(session: Session, actor: Actor, limit: int = NEWEST_LIMIT,
           filters: ReviewFilters | None = None) -> list[ReviewRow]:
    """The newest reviews first (hidden ones too: staff see everything), filtered by channel, product, rating,
    and `flagged`: flagged for follow-up and not followed up yet."""
    filters = filters or ReviewFilters()
    query = (sa.select(Review, Channel.name, Channel.kind, Product.sku, Product.title)
             .join(Channel, Channel.id == Review.channel_id)
             .outerjoin(Product, Product.id == Review.product_id)
             .where(actor.sees(Review.seller_id)))
    if filters.channel_id is not None:
        query = query.where(Review.channel_id == filters.channel_id)
    if filters.product_id is not None:
        query = query.where(Review.product_id == filters.product_id)
    if filters.rating is not None:
        query = query.where(Review.rating == filters.rating)
    if filters.flagged:
        query = query.where(Review.flagged_for_follow_up.is_(True), Review.follow_up_done_at.is_(None))
    query = query.order_by(Review.created_at.desc(), Review.id.desc()).limit(max(1, min(limit, MAX_LIMIT)))
    return [ReviewRow(*row) for row in session.execute(query).all()]


def flagged(session: Session, actor: Actor, limit: int = MAX_LIMIT) -> list[ReviewRow]:
    return newest(session, actor, limit, ReviewFilters(flagged=True))


def get_review(session: Session, actor: Actor, review_id: int, *, for_update: bool = False) -> Review:
    query = sa.select(Review).where(Review.id == review_id, actor.sees(Review.seller_id))
    if for_update:
        query = query.with_for_update()
    review = session.scalar(query)
    if review is None:
        raise NotFound(f"no review {review_id}")
    return review


def mark_followed_up(session: Session, actor: Actor, review_id: int) -> Review:
    """Staff and above: the low rating has been looked after. Marking twice keeps the first time."""
    actor.require(Role.STAFF, "mark reviews as followed up")
    review = get_review(session, actor, review_id, for_update=True)
    if not review.flagged_for_follow_up:
        raise Conflict(f"review {review_id} is not flagged for follow-up", code="not_flagged")
    if review.follow_up_done_at is None:
        review.follow_up_done_at = utcnow()
    return review
