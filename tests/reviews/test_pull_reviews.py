"""Pulling reviews from the WooCommerce and Shopee sandboxes over real HTTP: repeated pulls never double a review,
a changed review is updated in place, reviews of products the hub does not know are kept unmatched, listings map
channel SKUs, and the ratings add up per channel and overall."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
import requests
import sqlalchemy as sa

from hub.channels.models import Listing
from hub.errors import ValidationError
from hub.reviews import services
from hub.reviews.models import Review
from hub.reviews.pull import LONG_AGO, pull_reviews
from hub.reviews.schemas import ReviewIn
from hub.sandbox import shopee as shopee_sandbox
from hub.sandbox.woocommerce import CONSUMER_KEY, CONSUMER_SECRET
from hub.sandbox.woocommerce import create_app as woo_app
from tests.reviews.support import buy, customer, products

WOO_CREDENTIALS = {"consumer_key": CONSUMER_KEY, "consumer_secret": CONSUMER_SECRET}


@pytest.fixture
def woo(woo_front, make_channel, alice):
    mount, base_url = woo_front
    app = woo_app(seed=11, orders=3)
    mount.app = app
    channel = make_channel(alice.seller_id, "woocommerce", base_url, WOO_CREDENTIALS, name="Woo")
    return app.extensions["sandbox"], channel, base_url


@pytest.fixture
def shopee(shopee_front, make_channel, alice):
    mount, base_url = shopee_front
    app = shopee_sandbox.create_app(seed=11, orders=3)
    mount.app = app
    state = app.extensions["sandbox"]
    channel = make_channel(alice.seller_id, "shopee", base_url, state.credentials, name="Shopee", currency="SGD")
    return state, channel, base_url


def held(env, channel_id: int) -> list[Review]:
    with env.sessions() as session:
        return list(session.scalars(sa.select(Review).where(Review.channel_id == channel_id).order_by(Review.id)))


def average(ratings: list[int]) -> Decimal:
    return (Decimal(sum(ratings)) / len(ratings)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def test_pulling_woocommerce_reviews_twice_holds_each_once_matched_or_kept_unmatched(env, sessions, alice, woo):
    state, channel, _ = woo
    ids = products(sessions, alice.actor, "MUG-BLUE", "TEA-SENCHA")

    first = pull_reviews(env, channel.id)
    second = pull_reviews(env, channel.id, since=LONG_AGO)

    rows = held(env, channel.id)
    assert first.pulled == second.pulled == len(state.reviews) == len(rows)
    assert sorted(r.external_id for r in rows) == sorted(str(i) for i in state.reviews)
    sku_of = {p["id"]: p["sku"] for p in state.products.values()}
    for row in rows:
        raw = state.reviews[int(row.external_id)]
        assert row.rating == raw["rating"] and row.channel_sku == sku_of[raw["product_id"]]
        assert row.product_id == ids.get(row.channel_sku)  # None: a product the hub does not sell
        assert row.status == ("published" if raw["status"] == "approved" else "hidden")
        assert row.body and "<p>" not in row.body
        assert row.created_at == datetime.fromisoformat(raw["date_created_gmt"]).replace(tzinfo=UTC)
        assert row.flagged_for_follow_up == (row.rating <= 2)
    assert first.unmatched == sum(1 for r in rows if r.product_id is None) > 0


def test_a_new_and_a_changed_woocommerce_review_arrive_with_the_next_pull_without_doubling(env, sessions, alice, woo):
    state, channel, base_url = woo
    products(sessions, alice.actor, "MUG-BLUE")
    pull_reviews(env, channel.id)
    before = len(held(env, channel.id))

    added = requests.post(f"{base_url}/_sandbox/reviews", timeout=5, json={
        "product_id": 10, "rating": 1, "review": "Chipped on arrival", "reviewer": "Jo Lee"}).json()
    changed = min(state.reviews)
    state.reviews[changed]["rating"] = 1
    pull_reviews(env, channel.id, since=LONG_AGO)

    rows = {r.external_id: r for r in held(env, channel.id)}
    assert len(rows) == before + 1
    assert rows[str(added["id"])].body == "Chipped on arrival" and rows[str(added["id"])].flagged_for_follow_up
    assert rows[str(changed)].rating == 1


@pytest.mark.parametrize("kind", ["woocommerce", "shopee"])
def test_small_pages_read_every_review_once(env, sessions, alice, make_channel, woo, shopee, kind):
    if kind == "woocommerce":
        state, _, base_url = woo
        expected = {str(i) for i in state.reviews}
        options = {"per_page": 4}
        credentials = WOO_CREDENTIALS
    else:
        state, _, base_url = shopee
        expected = {str(c["comment_id"]) for c in state.comments}
        options = {"comment_page_size": 4}
        credentials = state.credentials
    paged = make_channel(alice.seller_id, kind, base_url, credentials, name=f"{kind} paged", options=options)
    assert len(expected) > 8  # several pages
    result = pull_reviews(env, paged.id)
    assert result.pulled == len(expected) and {r.external_id for r in held(env, paged.id)} == expected


def test_a_listing_maps_a_channel_sku_to_the_sellers_product(env, sessions, alice, woo):
    _, channel, _ = woo
    ids = products(sessions, alice.actor, "HOUSE-BAG")
    with sessions.begin() as session:
        session.add(Listing(seller_id=alice.seller_id, channel_id=channel.id, channel_sku="BAG-LINEN",
                            product_id=ids["HOUSE-BAG"]))
    pull_reviews(env, channel.id)
    bag = [r for r in held(env, channel.id) if r.channel_sku == "BAG-LINEN"]
    assert bag and all(r.product_id == ids["HOUSE-BAG"] for r in bag)


def test_pulling_shopee_comments_twice_holds_each_once_with_variant_skus_photos_and_hidden_ones(
        env, sessions, alice, shopee):
    state, channel, _ = shopee
    ids = products(sessions, alice.actor, "MUG-BLUE", "SCARF")

    pull_reviews(env, channel.id)
    pull_reviews(env, channel.id, since=LONG_AGO)

    rows = {r.external_id: r for r in held(env, channel.id)}
    assert len(rows) == len(state.comments)
    for comment in state.comments:
        row = rows[str(comment["comment_id"])]
        assert row.rating == comment["rating_star"] and row.photos == comment["media"]["image_url_list"]
        assert row.status == ("hidden" if comment["hidden"] else "published")
        assert row.channel_product_ref == str(comment["item_id"])
        assert row.product_id == ids.get(row.channel_sku)
    mugs = [c for c in state.comments if c["item_id"] == 800001]
    assert {rows[str(c["comment_id"])].channel_sku for c in mugs} <= {"MUG-BLUE", "MUG-RED"}
    assert any(r.product_id is None for r in rows.values())  # baskets, candles...: kept, unmatched


def test_ratings_add_up_per_channel_and_overall_for_reviews_from_two_channels_and_the_hub(
        env, sessions, alice, woo, shopee):
    woo_state, woo_channel, _ = woo
    shopee_state, shopee_channel, _ = shopee
    mug = products(sessions, alice.actor, "MUG-BLUE")["MUG-BLUE"]
    shopee_sandbox.add_comment(shopee_state, 800001, 2, "Handle loose", model_id=900011)
    buyer = customer(sessions, alice.seller_id)
    bought = buy(sessions, alice.actor, buyer, ["MUG-BLUE"])
    with sessions.begin() as session:
        services.write_review(session, alice.seller_id, buyer, bought.line_ids[0], ReviewIn(rating=3))
    pull_reviews(env, woo_channel.id)
    pull_reviews(env, shopee_channel.id)

    woo_ratings = [r["rating"] for r in woo_state.reviews.values() if r["product_id"] == 10
                   and r["status"] == "approved"]
    shopee_ratings = [c["rating_star"] for c in shopee_state.comments
                      if c["item_id"] == 800001 and c["model_id"] == 900011 and not c["hidden"]]
    with sessions() as session:
        ratings = services.product_ratings(session, alice.actor, [mug])[mug]
    by_channel = {c.channel_id: c.rating for c in ratings.channels}
    assert by_channel[woo_channel.id] == services.Rating(len(woo_ratings), average(woo_ratings))
    assert by_channel[shopee_channel.id] == services.Rating(len(shopee_ratings), average(shopee_ratings))
    assert by_channel[bought.channel_id] == services.Rating(1, Decimal("3.00"))
    everything = woo_ratings + shopee_ratings + [3]
    assert ratings.overall == services.Rating(len(everything), average(everything))
    assert Counter(c.channel_kind for c in ratings.channels)["woocommerce"] == 1


def test_a_channel_that_exposes_no_reviews_is_refused_with_a_clear_message(env, make_channel, alice, tmp_path):
    channel = make_channel(alice.seller_id, "csv", "", {}, name="CSV drop",
                           options={"inbox": str(tmp_path / "in"), "outbox": str(tmp_path / "out")})
    with pytest.raises(ValidationError) as refused:
        pull_reviews(env, channel.id)
    assert refused.value.code == "no_reviews" and "csv channels do not expose reviews" in refused.value.message


def test_the_scheduled_pass_pulls_every_channel_that_has_reviews_and_a_failing_one_stops_no_other(
        env, sessions, alice, make_channel, woo, shopee, tmp_path):
    from hub.reviews.jobs import run_reviews

    _, woo_channel, _ = woo
    _, shopee_channel, _ = shopee
    csv = make_channel(alice.seller_id, "csv", "", {}, name="CSV drop",
                       options={"inbox": str(tmp_path / "in"), "outbox": str(tmp_path / "out")})
    broken = make_channel(alice.seller_id, "woocommerce", "http://127.0.0.1:9", WOO_CREDENTIALS, name="Gone")

    done = run_reviews(env)

    assert done.pulled[woo_channel.id] == len(held(env, woo_channel.id)) > 0
    assert done.pulled[shopee_channel.id] == len(held(env, shopee_channel.id)) > 0
    assert csv.id not in done.pulled and csv.id not in done.failed  # no reviews to read: not an error
    assert set(done.failed) == {broken.id}
    again = run_reviews(env)  # the second pass holds each review once
    assert len(held(env, woo_channel.id)) == done.pulled[woo_channel.id]
    assert set(again.failed) == {broken.id}
