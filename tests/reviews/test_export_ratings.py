"""Ratings exported with the product where the channel accepts them: Shopify's standard review metafields, set
over real HTTP on the Shopify sandbox; WooCommerce (read-only average_rating) is refused with a reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import requests

from hub.channels.models import Listing
from hub.errors import ValidationError
from hub.outbound.audit import MemoryAudit
from hub.reviews.export import push_ratings
from hub.reviews.models import Review
from hub.sandbox.shopify import create_app as shopify_app
from hub.sandbox.woocommerce import CONSUMER_KEY, CONSUMER_SECRET
from hub.sync.connect import open_connector
from tests.reviews.support import products

WRITTEN = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture
def shopify(woo_front, make_channel, alice):  # any mount serves: one sandbox at a time per test
    mount, base_url = woo_front
    app = shopify_app(seed=7, orders=3)
    mount.app = app
    shop = app.extensions["sandbox"]
    channel = make_channel(alice.seller_id, "shopify", base_url, {"access_token": shop.access_token,
                                                                  "api_secret": shop.api_secret}, name="Shopify")
    return shop, channel, base_url


def review(seller_id: int, channel_id: int, product_id: int, external_id: str, rating: int) -> Review:
    return Review(seller_id=seller_id, channel_id=channel_id, product_id=product_id, source="channel",
                  external_id=external_id, rating=rating, created_at=WRITTEN, updated_at=WRITTEN)


def test_overall_ratings_of_listed_products_are_set_as_shopifys_review_metafields(env, sessions, alice, shopify):
    _, channel, base_url = shopify
    ids = products(sessions, alice.actor, "TEA-1", "MUG-1", "BAG-1")
    with sessions.begin() as session:
        for sku, product in (("SKU-0001", "TEA-1"), ("SKU-0002", "TEA-1"), ("SKU-0004", "MUG-1"),
                             ("SKU-0007", "BAG-1")):
            session.add(Listing(seller_id=alice.seller_id, channel_id=channel.id, channel_sku=sku,
                                product_id=ids[product]))
        for n, (product, rating) in enumerate((("TEA-1", 5), ("TEA-1", 4), ("TEA-1", 4), ("MUG-1", 1))):
            session.add(review(alice.seller_id, channel.id, ids[product], f"r{n}", rating))

    results = push_ratings(env, channel.id)

    assert [(r.sku, r.ok) for r in results] == [("SKU-0001", True), ("SKU-0004", True)]  # BAG-1 has no reviews
    stored = requests.get(f"{base_url}/_sandbox/metafields", timeout=5).json()
    tea, mug = "gid://shopify/Product/8000000000000", "gid://shopify/Product/8000000000001"
    assert set(stored) == {tea, mug}
    assert json.loads(stored[tea]["reviews.rating"]["value"]) == {"value": "4.33", "scale_min": "1.0",
                                                                 "scale_max": "5.0"}
    assert stored[tea]["reviews.rating"]["type"] == "rating"
    assert stored[tea]["reviews.rating_count"] == {"type": "number_integer", "value": "3"}
    assert json.loads(stored[mug]["reviews.rating"]["value"])["value"] == "1.00"


def test_shopify_refuses_a_rating_off_its_scale_and_saves_nothing_of_that_call(env, alice, shopify):
    _, channel, base_url = shopify
    body = open_connector(env, channel, MemoryAudit()).client.set_metafields([
        {"ownerId": "gid://shopify/Product/8000000000000", "namespace": "reviews", "key": "rating_count",
         "type": "number_integer", "value": "3"},
        {"ownerId": "gid://shopify/Product/8000000000000", "namespace": "reviews", "key": "rating",
         "type": "rating", "value": json.dumps({"value": "6.0", "scale_min": "1.0", "scale_max": "5.0"})}])
    errors = body["data"]["metafieldsSet"]["userErrors"]
    assert [e["field"] for e in errors] == [["metafields", "1", "value"]]
    assert requests.get(f"{base_url}/_sandbox/metafields", timeout=5).json() == {}


def test_woocommerce_does_not_accept_ratings_and_says_so(env, make_channel, alice, woo_front):
    _, base_url = woo_front
    channel = make_channel(alice.seller_id, "woocommerce", base_url,
                           {"consumer_key": CONSUMER_KEY, "consumer_secret": CONSUMER_SECRET}, name="Woo")
    with pytest.raises(ValidationError) as refused:
        push_ratings(env, channel.id)
    assert refused.value.code == "no_ratings"
