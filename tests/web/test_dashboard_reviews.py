"""The dashboard's reviews: the product page shows a product's ratings from two channels (pulled from the WooCommerce
and Shopee sandboxes over real HTTP through the Reviews page) and overall; the Reviews page lists the newest,
filters them, and staff mark low ratings as followed up."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from hub.accounts.models import Role
from hub.channels.models import Channel, Listing
from hub.reviews import services
from hub.reviews.models import Review
from hub.reviews.schemas import ReviewIn
from hub.sandbox import shopee as shopee_sandbox
from hub.sandbox.server import running
from hub.sandbox.shopify import create_app as shopify_app
from hub.sandbox.woocommerce import CONSUMER_KEY, CONSUMER_SECRET
from hub.sandbox.woocommerce import create_app as woo_app
from hub.sync.env import SyncEnv
from tests.reviews.support import buy, customer, products
from tests.web.support import add_user, browser, text


@pytest.fixture
def sandboxes() -> Iterator[dict[str, tuple[object, str]]]:
    woo, shopee = woo_app(seed=3, orders=2), shopee_sandbox.create_app(seed=3, orders=2)
    with running(woo) as woo_url, running(shopee) as shopee_url:
        yield {"woocommerce": (woo.extensions["sandbox"], woo_url),
               "shopee": (shopee.extensions["sandbox"], shopee_url)}


def connect(app, seller_id: int, kind: str, name: str, base_url: str, credentials: dict[str, str]) -> int:
    hub = app.extensions["hub"]
    box = SyncEnv.build(hub.engine, hub.sessions, app.config).box  # the key the app's own sync env uses
    with hub.sessions.begin() as session:
        channel = Channel(seller_id=seller_id, kind=kind, name=name, currency="EUR", base_url=base_url,
                          credentials_encrypted=box.seal(credentials), options={}, schedule={})
        session.add(channel)
        session.flush()
        return channel.id


def hub_review(sessions, account, rating: int, body: str = "Fine") -> int:
    buyer = customer(sessions, account.seller_id, f"Buyer{rating} Example")
    bought = buy(sessions, account.actor, buyer, ["MUG-BLUE"])
    with sessions.begin() as session:
        return services.write_review(session, account.seller_id, buyer, bought.line_ids[0],
                                     ReviewIn(rating=rating, body=body)).id


def test_the_product_page_shows_its_reviews_from_two_channels_pulled_from_the_reviews_page(
        app, sessions, alice, sandboxes):
    mug = products(sessions, alice.actor, "MUG-BLUE")["MUG-BLUE"]
    _, woo_url = sandboxes["woocommerce"]
    shopee_state, shopee_url = sandboxes["shopee"]
    shopee_sandbox.add_comment(shopee_state, 800001, 5, "Lovely blue", model_id=900011, buyer="kopi_fan")
    woo_id = connect(app, alice.seller_id, "woocommerce", "Woo EU", woo_url,
                     {"consumer_key": CONSUMER_KEY, "consumer_secret": CONSUMER_SECRET})
    shopee_id = connect(app, alice.seller_id, "shopee", "Shopee SG", shopee_url, shopee_state.credentials)
    b = browser(app, alice)

    page = text(b.get("/reviews"))
    assert "Pull reviews now" in page and "Woo EU" in page and "Shopee SG" in page
    for channel_id in (woo_id, shopee_id):
        pulled = b.post("/reviews/pull", {"channel_id": str(channel_id)}, follow_redirects=True)
        assert pulled.status_code == 200 and "reviews pulled from" in text(pulled)

    product_page = text(b.get(f"/products/{mug}"))
    section = product_page[product_page.index('id="reviews"'):]
    with sessions() as session:
        held = session.execute(sa.select(Review.channel_id, Review.rating).where(
            Review.product_id == mug, Review.status == "published")).all()
    assert {channel for channel, _ in held} == {woo_id, shopee_id}
    for channel_id, name in ((woo_id, "Woo EU"), (shopee_id, "Shopee SG")):
        count = sum(1 for c, _ in held if c == channel_id)
        row = re.search(rf'data-channel="{channel_id}"><td>{name}</td><td class="num">(\d+)</td>', section)
        assert row and int(row.group(1)) == count
    assert "Lovely blue" in section and "kopi_fan" in section
    overall = re.search(r'<tr class="overall"><th>All channels</th><th class="num">(\d+)</th>', section)
    assert overall and int(overall.group(1)) == len(held)


def test_a_product_without_reviews_says_so(app, sessions, alice):
    mug = products(sessions, alice.actor, "MUG-BLUE")["MUG-BLUE"]
    assert "No reviews of this product yet." in text(browser(app, alice).get(f"/products/{mug}"))


def test_the_reviews_page_filters_by_rating_and_follow_up_and_staff_mark_a_low_rating_followed_up(
        app, sessions, security, alice):
    products(sessions, alice.actor, "MUG-BLUE")
    low = hub_review(sessions, alice, 1, "Cracked handle")
    hub_review(sessions, alice, 5, "Perfect mug")
    add_user(sessions, security, alice, Role.STAFF, "staff@teas.example.com")
    staff = browser(app, "staff@teas.example.com")

    everything = text(staff.get("/reviews"))
    assert "Cracked handle" in everything and "Perfect mug" in everything
    five_stars = text(staff.get("/reviews?rating=5"))
    assert "Perfect mug" in five_stars and "Cracked handle" not in five_stars
    flagged = text(staff.get("/reviews?flagged=1"))
    assert "Cracked handle" in flagged and "Perfect mug" not in flagged and "Mark followed up" in flagged
    assert "Perfect mug" in text(staff.get("/reviews?rating=nonsense&channel=x"))  # bad filters are ignored

    done = staff.post("/reviews/followed-up", {"review_id": str(low)}, follow_redirects=True)
    assert done.status_code == 200 and f"Review {low} marked as followed up." in text(done)
    assert "Cracked handle" not in text(staff.get("/reviews?flagged=1"))
    with sessions() as session:
        assert session.get(Review, low).follow_up_done_at is not None


def test_a_viewer_reads_reviews_without_the_follow_up_and_pull_buttons_and_is_refused_them(
        app, sessions, security, alice):
    products(sessions, alice.actor, "MUG-BLUE")
    low = hub_review(sessions, alice, 2, "Too small")
    add_user(sessions, security, alice, Role.VIEWER, "viewer@teas.example.com")
    viewer = browser(app, "viewer@teas.example.com")
    page = text(viewer.get("/reviews"))
    assert "Too small" in page and "needs follow-up" in page
    assert "Mark followed up" not in page and "Pull reviews now" not in page
    assert viewer.post("/reviews/followed-up", {"review_id": str(low)}).status_code == 403
    with sessions() as session:
        assert session.get(Review, low).follow_up_done_at is None


def test_another_sellers_review_cannot_be_marked_and_is_not_listed(app, sessions, alice, bob):
    products(sessions, alice.actor, "MUG-BLUE")
    low = hub_review(sessions, alice, 1, "Alice's secret complaint")
    as_bob = browser(app, bob)
    assert "Alice's secret complaint" not in text(as_bob.get("/reviews"))
    assert as_bob.post("/reviews/followed-up", {"review_id": str(low)}).status_code == 404
    assert as_bob.post("/reviews/pull", {"channel_id": "1"}).status_code == 404


def test_the_reviews_page_and_product_section_read_in_chinese(app, sessions, make_account):
    chinese = make_account("茶叶店", email="zh@teas.example.com", default_locale="zh_Hans_CN")
    mug = products(sessions, chinese.actor, "MUG-BLUE")["MUG-BLUE"]
    hub_review(sessions, chinese, 1, "杯子有裂纹")
    b = browser(app, chinese)
    assert "需要跟进" in text(b.get("/reviews")) and "评价" in text(b.get("/reviews"))
    assert "全部渠道" in text(b.get(f"/products/{mug}"))


def test_staff_export_a_products_overall_rating_to_shopify_from_the_reviews_page(app, sessions, alice):
    shopify = shopify_app(seed=5, orders=2)
    shop = shopify.extensions["sandbox"]
    mug = products(sessions, alice.actor, "MUG-BLUE")["MUG-BLUE"]
    hub_review(sessions, alice, 4, "Nice")
    with running(shopify) as url:
        channel_id = connect(app, alice.seller_id, "shopify", "Shopify DE", url,
                             {"access_token": shop.access_token, "api_secret": shop.api_secret})
        with sessions.begin() as session:
            session.add(Listing(seller_id=alice.seller_id, channel_id=channel_id, channel_sku="SKU-0001",
                                product_id=mug))
        b = browser(app, alice)
        assert "Export ratings" in text(b.get("/reviews"))
        done = b.post("/reviews/export-ratings", {"channel_id": str(channel_id)}, follow_redirects=True)
    assert "Ratings of 1 products exported to Shopify DE, 0 refused." in text(done)
    stored = shop.metafields[("gid://shopify/Product/8000000000000", "reviews", "rating_count")]
    assert stored == {"type": "number_integer", "value": "1"}
