"""The job on a small handmade shop: what is bought together, what each buyer is offered, where to list what."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from hub.errors import NotFound
from hub.recommend import compute, serve
from hub.recommend.models import BoughtTogether, ForBuyer, ListingOpportunity, Popular, RecommendRun
from tests.recommend.conftest import NOW, count


@pytest.fixture
def shop(alice, shop_for):
    """KETTLE and FILTER go together (3 baskets), KETTLE and MUG once, MUG and SCALE twice (on eBay, to NL).
    Ann bought KETTLE and FILTER, and TEA (consumable) 5 days ago; Ben bought TEA 90 days ago."""
    s = shop_for(alice)
    for sku in ("KETTLE", "FILTER", "MUG", "SCALE", "LAMP"):
        s.product(sku)
    s.product("TEA", consumable=True)
    s.product("OLD", active=False)
    for name, kind in (("Web shop", "woocommerce"), ("eBay", "ebay"), ("Amazon", "amazon"), ("Direct", "direct")):
        s.channel(name, kind)
    s.listing("Web shop", "KETTLE")
    s.listing("eBay", "KETTLE")
    s.listing("Amazon", "FILTER", active=False)
    s.ann, s.ben = s.customer("ann@example.com"), s.customer("ben@example.com")
    s.order(["KETTLE", "FILTER"], channel="Web shop", customer_id=s.ann, days_ago=40)
    s.order(["KETTLE", "FILTER"], channel="Web shop", email="x@example.com", days_ago=30)
    s.order(["KETTLE", "FILTER"], channel="Web shop", email="y@example.com", days_ago=20)
    s.order(["KETTLE", "MUG"], channel="Web shop", email="z@example.com", days_ago=15)
    s.order(["MUG", "SCALE"], channel="eBay", email="w@example.com", country="NL", days_ago=12)
    s.order(["MUG", "SCALE"], channel="eBay", email="v@example.com", country="NL", days_ago=11)
    s.order(["KETTLE", "OLD"], channel="Web shop", email="u@example.com", days_ago=10)
    s.order(["KETTLE", "OLD"], channel="Web shop", email="t@example.com", days_ago=9)
    s.order(["TEA"], channel="Web shop", customer_id=s.ann, days_ago=5)
    s.order(["TEA"], channel="Web shop", customer_id=s.ben, days_ago=90)
    s.order(["LAMP", "SCALE"], channel="Web shop", email="c@example.com", days_ago=3,
            status=compute.OrderStatus.CANCELLED)
    return s


def recompute(sessions, seller_id):
    with sessions.begin() as session:
        return compute.recompute(session, seller_id, now=NOW)


def skus(shop, items):
    by_id = {v: k for k, v in shop.products.items()}
    return [by_id[i.product_id] for i in items]


def test_bought_together_needs_two_baskets_and_leaves_out_inactive_products(alice, shop, sessions):
    recompute(sessions, alice.seller_id)
    with sessions() as session:
        kettle = serve.bought_together(session, alice.actor, shop.products["KETTLE"])
        assert skus(shop, kettle) == ["FILTER"]  # MUG only once; OLD twice but inactive
        assert kettle[0].rank == 1 and 0 < kettle[0].score <= 1
        assert skus(shop, serve.bought_together(session, alice.actor, shop.products["MUG"])) == ["SCALE"]
        assert serve.bought_together(session, alice.actor, shop.products["LAMP"]) == []  # only a cancelled order
        support = session.scalar(sa.select(BoughtTogether.baskets).where(
            BoughtTogether.product_id == shop.products["KETTLE"]))
    assert support == 3


def test_bought_together_scores_are_the_cosine_of_the_basket_vectors(alice, shop, sessions):
    recompute(sessions, alice.seller_id)
    with sessions() as session:
        score = serve.bought_together(session, alice.actor, shop.products["MUG"])[0].score
    # MUG in 3 orders, SCALE in 2 (the cancelled one does not count), both in 2.
    assert score == pytest.approx(2 / (3 * 2) ** 0.5, abs=1e-6)


def test_a_buyer_is_not_offered_what_they_own_nor_a_consumable_bought_lately(alice, shop, sessions):
    recompute(sessions, alice.seller_id)
    with sessions() as session:
        ann = serve.for_customer(session, alice.actor, shop.ann)
        ben = serve.for_customer(session, alice.actor, shop.ben)
    assert ann.source == "personal"
    offered = skus(shop, ann.items)
    assert not {"KETTLE", "FILTER", "TEA", "OLD"} & set(offered)
    assert offered[0] == "MUG" and ann.items[0].score > 0  # bought with KETTLE by someone else
    assert "TEA" in skus(shop, ben.items)  # consumable, bought 90 days ago: due again
    assert [i.rank for i in ann.items] == list(range(1, len(ann.items) + 1))


def test_a_customer_without_a_list_gets_the_best_sellers(alice, shop, sessions, shop_for):
    recompute(sessions, alice.seller_id)
    newcomer = shop_for(alice).customer("new@example.com")
    with sessions() as session:
        found = serve.for_customer(session, alice.actor, newcomer, limit=3)
        popular = serve.popular(session, alice.seller_id, limit=3)
    assert found.source == "popular" and found.items == popular
    assert skus(shop, popular)[0] == "KETTLE"  # the most buyers


def test_listing_opportunities_are_unlisted_channels_and_unsold_countries(alice, shop, sessions):
    recompute(sessions, alice.seller_id)
    with sessions() as session:
        found = serve.listing_opportunities(session, alice.actor)
    pairs = {(o.sku, o.channel or o.country) for o in found}
    # KETTLE is listed on eBay; FILTER's Amazon listing is inactive; MUG sells on both others; never the direct one.
    assert pairs == {("KETTLE", "Amazon"), ("KETTLE", "NL"), ("FILTER", "eBay"), ("FILTER", "Amazon"),
                     ("FILTER", "NL"), ("MUG", "Amazon")}
    kettle = next(o for o in found if (o.sku, o.channel) == ("KETTLE", "Amazon"))
    assert kettle.units_elsewhere == 6 and kettle.evidence == {"channels": {"Web shop": 6}}
    nl = next(o for o in found if (o.sku, o.country) == ("KETTLE", "NL"))
    assert nl.channel is None and nl.evidence == {"countries": {"DE": 6}}
    assert {o.rank for o in found if o.sku == "KETTLE"} == {1, 2}  # the best seller first


def test_a_recompute_replaces_the_lists_and_records_the_run(alice, shop, sessions):
    first = recompute(sessions, alice.seller_id)
    second = recompute(sessions, alice.seller_id)
    assert (first.bought_together, first.for_buyer, first.opportunities) == (
        second.bought_together, second.for_buyer, second.opportunities)
    assert count(sessions, BoughtTogether) == second.bought_together > 0
    assert count(sessions, ForBuyer) == second.for_buyer > 0
    assert count(sessions, ListingOpportunity) == second.opportunities == 6
    assert count(sessions, RecommendRun) == 2 and second.orders == 10 and second.duration_ms >= 0


def test_a_recompute_touches_only_its_own_seller(alice, bob, shop, shop_for, sessions):
    bobs = shop_for(bob)
    bobs.product("A"), bobs.product("B"), bobs.channel("Shop")
    for _ in range(2):
        bobs.order(["A", "B"], channel="Shop", email="q@example.com")
    recompute(sessions, bob.seller_id)
    recompute(sessions, alice.seller_id)
    assert count(sessions, BoughtTogether, bob.seller_id) == 2
    assert count(sessions, Popular, bob.seller_id) == 2
    with sessions() as session:
        assert serve.bought_together(session, bob.actor, bobs.products["A"])[0].product_id == bobs.products["B"]
        with pytest.raises(NotFound):
            serve.bought_together(session, bob.actor, shop.products["KETTLE"])


def test_orders_without_a_profile_are_one_buyer_per_normalised_email(alice, shop_for, sessions):
    s = shop_for(alice)
    s.product("A"), s.product("B"), s.channel("Shop")
    s.order(["A"], channel="Shop", email="Pat@Example.com ")
    s.order(["B"], channel="Shop", email="pat@example.com")
    s.order(["A"], channel="Shop")
    with sessions() as session:
        catalog = compute.load_catalog(session, alice.seller_id)
        history = compute.load_history(session, alice.seller_id, catalog)
    assert sorted(k[0] for k in history.buyer_keys) == ["e", "o"]
    assert ("e", "pat@example.com") in history.buyer_index


def test_a_seller_without_orders_gets_empty_lists(alice, bob, shop_for, sessions):
    shop_for(bob).product("A")
    with sessions.begin() as session:
        empty = compute.recompute(session, alice.seller_id, now=NOW)
        products_only = compute.recompute(session, bob.seller_id, now=NOW)
    for run in (empty, products_only):
        assert (run.orders, run.bought_together, run.for_buyer, run.opportunities) == (0, 0, 0, 0)
    assert count(sessions, Popular) == 0


def test_the_product_page_shows_what_is_bought_together_with_it_once_the_job_has_run(app, alice, shop, sessions):
    from tests.web.support import browser, text

    page = browser(app, alice)
    before = text(page.get(f"/products/{shop.products['KETTLE']}"))
    assert "Bought together" in before and "Nothing yet" in before
    recompute(sessions, alice.seller_id)
    after = text(page.get(f"/products/{shop.products['KETTLE']}"))
    together = after.split("Bought together")[1]
    assert "FILTER" in together and "MUG" not in together and "Nothing yet" not in together
