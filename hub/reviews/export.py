"""Exporting products' ratings to a channel that accepts them: `push_ratings(env, channel_id)`.

What each channel accepts (checked against their docs):

- Shopify: yes, as the standard product metafields `reviews.rating` (type `rating`, JSON {value, scale_min,
  scale_max}) and `reviews.rating_count` (number_integer), set with metafieldsSet; themes and search engines read
  them (hub.channels.shopify.connector.push_ratings).
- WooCommerce: no. A product's `average_rating` and `rating_count` are read-only, computed by WooCommerce from
  its own product reviews (https://woocommerce.github.io/woocommerce-rest-api-docs/#product-properties); the only
  way in is to create reviews (POST /products/reviews), which would copy other channels' buyers' words.
- Shopee: no. Ratings come only from buyers of the shop's orders (v2.product.get_comment reads them; the seller can
  only reply, v2.product.reply_comment).

The rating exported is the product's overall one: every published review from every channel and the hub. Products
are the ones listed on the channel (Listing, by the channel's SKU), each with at least one review.
"""

from __future__ import annotations

import sqlalchemy as sa

from hub.accounts.actor import Actor
from hub.channels.models import Channel, Listing
from hub.channels.port import PushResult, RatingSink, RatingUpdate
from hub.errors import NotFound, ValidationError
from hub.outbound.audit_store import DbAudit
from hub.reviews.services import product_ratings
from hub.sync.connect import open_connector
from hub.sync.env import SyncEnv


def accepts_ratings(env: SyncEnv, kind: str) -> bool:
    """Whether channels of this kind have a connector that implements RatingSink."""
    spec = env.registry.specs.get(kind)
    return spec is not None and callable(getattr(spec.connector, "push_ratings", None))


def rating_updates(env: SyncEnv, channel: Channel) -> list[RatingUpdate]:
    with env.sessions() as session:
        listed = session.execute(sa.select(Listing.channel_sku, Listing.product_id).where(
            Listing.seller_id == channel.seller_id, Listing.channel_id == channel.id, Listing.is_active.is_(True),
            Listing.product_id.is_not(None)).order_by(Listing.channel_sku)).all()
        ratings = product_ratings(session, Actor.system(channel.seller_id, "ratings export"),
                                  [product_id for _, product_id in listed])
    first_sku: dict[int, str] = {}
    for sku, product_id in listed:  # one rating a product: two listings of it must not count its reviews twice
        first_sku.setdefault(product_id, sku)
    return [RatingUpdate(sku, ratings[pid].overall.average, ratings[pid].overall.count)
            for pid, sku in first_sku.items()
            if ratings[pid].overall.count and ratings[pid].overall.average is not None]


def push_ratings(env: SyncEnv, channel_id: int) -> list[PushResult]:
    """Sets the overall rating of every listed, reviewed product on the channel. ValidationError for a channel
    whose connector cannot take ratings (see the module docstring for which can)."""
    with env.sessions() as session:
        channel = session.get(Channel, channel_id)
        if channel is None:
            raise NotFound(f"no channel {channel_id}")
        session.expunge(channel)
    connector = open_connector(env, channel, DbAudit(env.sessions, seller_id=channel.seller_id,
                                                     channel_id=channel.id))
    if not isinstance(connector, RatingSink):
        raise ValidationError(f"{channel.kind} channels do not accept product ratings", code="no_ratings")
    updates = rating_updates(env, channel)
    return connector.push_ratings(updates) if updates else []
