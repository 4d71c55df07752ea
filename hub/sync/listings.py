"""Listings: which of the seller's products a channel sells, under which SKU.

    listing_for(session, channel, sku)                  get or create, safe when two imports race
    link_all_products(session, channel)                 a listing (SKU = product SKU) for every product lacking one
    map_sku(session, actor, channel_id, sku, product)   a human links a channel SKU to a product
    relink_order_lines(session, channel, sku, product)  open orders' unmatched lines of that SKU get the product
                                                        and whatever stock is available (the rest: quantity_short)
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hub.accounts.actor import Actor
from hub.accounts.models import Role
from hub.catalog import stock
from hub.catalog.models import Product
from hub.channels.models import Channel, Listing
from hub.db import insert_ignoring_duplicates
from hub.errors import NotFound
from hub.orders.models import Order, OrderEvent, OrderLine
from hub.orders.status import OrderStatus
from hub.tenancy import owned
from hub.timeutil import utcnow

# Orders whose lines may still take stock: not yet shipped in full, not closed.
OPEN = (OrderStatus.PENDING, OrderStatus.PAID, OrderStatus.PARTIALLY_FULFILLED)


def listing_for(session: Session, channel: Channel, channel_sku: str) -> Listing:
    """The channel's listing of `channel_sku`, created (unlinked) if there is none.

    Insert-if-absent, then read: the unique key (channel_id, channel_sku) decides a race between two imports,
    where a read-then-insert would let both insert and one fail."""
    insert_ignoring_duplicates(session, Listing.__table__, {
        "seller_id": channel.seller_id, "channel_id": channel.id, "channel_sku": channel_sku, "is_active": True,
        "push_error": "", "created_at": utcnow(),
    })
    return session.scalars(sa.select(Listing).where(Listing.channel_id == channel.id,
                                                    Listing.channel_sku == channel_sku)).one()


def link_all_products(session: Session, channel: Channel) -> int:
    """Create a listing under the product's own SKU for every active product of the seller that has none on the
    channel; returns how many were created. One INSERT ... SELECT, however large the catalogue. A SKU already
    listed on the channel (e.g. unlinked, waiting for a human) is left as it is: linking it is map_sku's job,
    because it also moves orders and stock."""
    has_listing = sa.exists().where(Listing.channel_id == channel.id, Listing.product_id == Product.id)
    source = sa.select(
        sa.literal(channel.seller_id), sa.literal(channel.id), Product.sku, Product.id, sa.true(), sa.literal(""),
        sa.literal(utcnow(), Listing.__table__.c.created_at.type),
    ).where(Product.seller_id == channel.seller_id, Product.is_active.is_(True), Product.deleted_at.is_(None),
            ~has_listing)
    columns = ["seller_id", "channel_id", "channel_sku", "product_id", "is_active", "push_error", "created_at"]
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = Listing.__table__
    statement = dialect.insert(table).from_select(columns, source).on_conflict_do_nothing().returning(table.c.id)
    # Counted from RETURNING: psycopg reports no rowcount (-1) for an INSERT ... SELECT run this way.
    return len(session.execute(statement).all())


def map_sku(session: Session, actor: Actor, channel_id: int, channel_sku: str, product_id: int) -> Listing:
    """Link a channel SKU to one of the seller's products; unmatched lines of open orders follow it."""
    actor.require(Role.STAFF, "map channel SKUs")
    channel = owned(session, actor, Channel, channel_id, "channel")
    product = session.scalar(sa.select(Product).where(Product.id == product_id, Product.seller_id == channel.seller_id,
                                                      Product.deleted_at.is_(None)))
    if product is None:
        raise NotFound(f"no product {product_id}")
    listing = listing_for(session, channel, channel_sku)
    if listing.product_id != product.id:
        listing.product_id = product.id
        # Another product's stock now stands behind the SKU: the next push must send it whatever was sent before.
        listing.last_pushed_quantity = None
    session.flush()
    relink_order_lines(session, channel, channel_sku, product.id, actor=actor)
    return listing


def relink_order_lines(session: Session, channel: Channel, channel_sku: str, product_id: int,
                       actor: Actor | None = None) -> int:
    """Give the unmatched lines of the channel's open orders with this SKU the product, and reserve what stock
    there is for their open units (the rest is recorded as quantity_short). Returns how many lines were linked.

    Each line is claimed with a conditional UPDATE (product_id IS NULL), so two concurrent relinks (an import
    and a human mapping) never reserve the same line twice."""
    actor = actor or Actor.system(channel.seller_id, "sku mapping")
    lines = session.scalars(
        sa.select(OrderLine).join(Order, Order.id == OrderLine.order_id)
        .where(Order.channel_id == channel.id, Order.seller_id == channel.seller_id, Order.status.in_(OPEN),
               OrderLine.sku == channel_sku, OrderLine.product_id.is_(None))
        .order_by(Order.placed_at, OrderLine.id)).all()  # oldest orders get the stock first
    linked = 0
    for line in lines:
        claimed = session.execute(
            sa.update(OrderLine).where(OrderLine.id == line.id, OrderLine.product_id.is_(None))
            .values(product_id=product_id).execution_options(synchronize_session=False))
        if claimed.rowcount != 1:
            continue
        session.refresh(line)
        short = stock.reserve_available(session, actor, line, line.quantity_open) if line.quantity_open else 0
        line.quantity_short = short
        session.add(OrderEvent(seller_id=line.seller_id, order_id=line.order_id, kind="stock", user_id=actor.user_id,
                               actor=actor.label, message=f"line {line.line_no} ({channel_sku}) linked to product "
                               f"{product_id}; {line.quantity_open - short} reserved"
                               + (f", {short} short" if short else "")))
        linked += 1
    session.flush()
    return linked
