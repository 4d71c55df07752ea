"""Reading the precomputed lists: each an indexed range scan of at most `limit` rows joined to their products.

(seller_id, product_id, rank) and (seller_id, customer_id, rank) are the unique keys of the two tables, so a read
is one index range in rank order, whatever the size of the catalogue. A buyer the job has no list for (new since
the last run, or without a profile then) gets the seller's best sellers, marked as such.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.accounts.actor import Actor
from hub.catalog.models import Product
from hub.channels.models import Channel
from hub.customers.models import Customer
from hub.errors import NotFound
from hub.recommend.models import BoughtTogether, ForBuyer, ListingOpportunity, Popular

DEFAULT_LIMIT = 10


@dataclass(frozen=True)
class Suggestion:
    product_id: int
    sku: str
    title: str
    rank: int
    score: float


@dataclass(frozen=True)
class ForCustomer:
    source: str  # "personal", or "popular" when the job has no list for this buyer
    items: list[Suggestion]


@dataclass(frozen=True)
class Opportunity:
    rank: int
    product_id: int
    sku: str
    title: str
    channel: str | None
    country: str | None
    units_elsewhere: int
    orders_elsewhere: int
    evidence: dict[str, Any]


def _seller(actor: Actor) -> int:
    return actor.acting_seller("read recommendations")


def _suggestions(session: Session, model: Any, product_column: Any, where: list[Any], limit: int) -> list[Suggestion]:
    # Core rows on the session's connection: every query here names the seller itself, and skipping the ORM's
    # per-statement work is a good part of a millisecond per read.
    rows = session.connection().execute(
        sa.select(Product.id, Product.sku, Product.title, model.rank, model.score)
        .join(Product, Product.id == product_column)
        .where(*where, Product.deleted_at.is_(None))
        .order_by(model.rank).limit(limit)).all()
    return [Suggestion(product_id=r[0], sku=r[1], title=r[2], rank=r[3], score=r[4]) for r in rows]


def bought_together(session: Session, actor: Actor, product_id: int, limit: int = DEFAULT_LIMIT) -> list[Suggestion]:
    seller_id = _seller(actor)
    # The list first: rows exist only for the seller's own products, so one query answers the usual case, and only
    # an empty list needs a second look to tell "nothing bought with it" from "no such product".
    items = _suggestions(session, BoughtTogether, BoughtTogether.other_id,
                         [BoughtTogether.seller_id == seller_id, BoughtTogether.product_id == product_id], limit)
    if not items and session.connection().scalar(sa.select(Product.id).where(
            Product.id == product_id, Product.seller_id == seller_id, Product.deleted_at.is_(None))) is None:
        raise NotFound(f"no product {product_id}")
    return items


def popular(session: Session, seller_id: int, limit: int = DEFAULT_LIMIT) -> list[Suggestion]:
    return _suggestions(session, Popular, Popular.product_id, [Popular.seller_id == seller_id], limit)


def for_customer(session: Session, actor: Actor, customer_id: int, limit: int = DEFAULT_LIMIT) -> ForCustomer:
    seller_id = _seller(actor)
    items = _suggestions(session, ForBuyer, ForBuyer.product_id,
                         [ForBuyer.seller_id == seller_id, ForBuyer.customer_id == customer_id], limit)
    if items:  # the usual case, in one query: rows exist only for the seller's own customers
        return ForCustomer("personal", items)
    found = session.connection().execute(sa.select(Customer.id, Customer.merged_into_id).where(
        Customer.id == customer_id, Customer.seller_id == seller_id)).first()
    if found is None:
        raise NotFound(f"no customer {customer_id}")
    if found[1] is not None:  # merged since the last run: the survivor's list
        items = _suggestions(session, ForBuyer, ForBuyer.product_id,
                             [ForBuyer.seller_id == seller_id, ForBuyer.customer_id == found[1]], limit)
        if items:
            return ForCustomer("personal", items)
    return ForCustomer("popular", popular(session, seller_id, limit))


def listing_opportunities(session: Session, actor: Actor, *, after: int = 0, limit: int = 50) -> list[Opportunity]:
    """The seller's opportunities in rank order, a keyset page after rank `after`."""
    seller_id = _seller(actor)
    o = ListingOpportunity
    rows = session.connection().execute(
        sa.select(o.rank, o.product_id, Product.sku, Product.title, Channel.name, o.country, o.units_elsewhere,
                  o.orders_elsewhere, o.evidence)
        .join(Product, Product.id == o.product_id)
        .outerjoin(Channel, Channel.id == o.channel_id)
        .where(o.seller_id == seller_id, o.rank > after, Product.deleted_at.is_(None))
        .order_by(o.rank).limit(limit)).all()
    return [Opportunity(*row) for row in rows]
