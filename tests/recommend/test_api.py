"""The recommendation reads through the JSON API: one seller never sees another's lists or ids."""

from __future__ import annotations

import pytest

from hub.accounts.models import Role
from hub.recommend import compute
from tests.api.api_support import assert_api_error
from tests.recommend.conftest import NOW


@pytest.fixture
def alices(alice, shop_for, sessions):
    s = shop_for(alice)
    for sku in ("KETTLE", "FILTER", "MUG", "ALICE-ONLY-SKU"):
        s.product(sku)
    s.channel("Web shop"), s.channel("eBay", "ebay"), s.channel("Amazon", "amazon")
    s.ann = s.customer("ann@example.com")
    for email in ("a@example.com", "b@example.com", "c@example.com"):
        s.order(["KETTLE", "FILTER", "ALICE-ONLY-SKU"], channel="Web shop", email=email)
    s.order(["KETTLE"], channel="Web shop", customer_id=s.ann)
    s.order(["MUG"], channel="eBay", email="d@example.com", country="FR")
    with sessions.begin() as session:
        compute.recompute(session, alice.seller_id, now=NOW)
    return s


@pytest.fixture
def bobs(bob, shop_for, sessions):
    s = shop_for(bob)
    s.product("KETTLE"), s.product("FILTER"), s.channel("Shop"), s.channel("Amazon", "amazon")
    s.pat = s.customer("pat@example.com")
    for email in ("x@example.com", "y@example.com", "z@example.com"):
        s.order(["KETTLE", "FILTER"], channel="Shop", email=email)
    with sessions.begin() as session:
        compute.recompute(session, bob.seller_id, now=NOW)
    return s


def test_bought_together_lists_the_products_with_their_scores(alice, api_for, alices):
    response = api_for(alice).get(f"/recommendations/bought-together/{alices.products['KETTLE']}?limit=1")
    assert response.status_code == 200, response.json
    [item] = response.json["items"]
    # FILTER and ALICE-ONLY-SKU tie (both in the same three baskets): the lower product id goes first.
    assert (item["sku"], item["rank"], item["product_id"]) == ("FILTER", 1, alices.products["FILTER"])
    assert 0 < item["score"] <= 1


def test_a_customers_list_is_personal_or_else_popular(alice, api_for, alices, shop_for):
    ann = api_for(alice).get(f"/recommendations/customers/{alices.ann}").json
    assert ann["source"] == "personal" and "KETTLE" not in [i["sku"] for i in ann["items"]]
    newcomer = shop_for(alice).customer("new@example.com")
    fresh = api_for(alice).get(f"/recommendations/customers/{newcomer}").json
    assert fresh["source"] == "popular" and fresh["items"][0]["sku"] == "KETTLE"


def test_listing_opportunities_page_by_rank(alice, api_for, alices):
    first = api_for(alice).get("/recommendations/listing-opportunities?limit=2").json
    assert [i["rank"] for i in first["items"]] == [1, 2] and first["next_after"] == 2
    rest = api_for(alice).get("/recommendations/listing-opportunities?after=2&limit=200").json
    assert rest["next_after"] is None and rest["items"][0]["rank"] == 3
    everything = first["items"] + rest["items"]
    assert ("KETTLE", "eBay", None) in {(i["sku"], i["channel"], i["country"]) for i in everything}
    assert ("KETTLE", None, "FR") in {(i["sku"], i["channel"], i["country"]) for i in everything}


def test_bob_sees_none_of_alices_lists_or_ids(bob, api_for, alices, bobs):
    as_bob = api_for(bob)
    for path in (f"/recommendations/bought-together/{alices.products['KETTLE']}",
                 f"/recommendations/customers/{alices.ann}"):
        assert_api_error(as_bob.get(path), 404, "not_found")
    page = as_bob.get("/recommendations/listing-opportunities?limit=200")
    assert page.status_code == 200 and page.json["items"]
    assert "ALICE-ONLY-SKU" not in page.get_data(as_text=True)
    assert {i["product_id"] for i in page.json["items"]} <= set(bobs.products.values())
    mine = as_bob.get(f"/recommendations/bought-together/{bobs.products['KETTLE']}").json["items"]
    assert [i["product_id"] for i in mine] == [bobs.products["FILTER"]]


def test_alice_sees_her_own_on_the_same_routes(alice, api_for, alices, bobs):
    as_alice = api_for(alice)
    assert_api_error(as_alice.get(f"/recommendations/customers/{bobs.pat}"), 404, "not_found")
    assert as_alice.get(f"/recommendations/customers/{alices.ann}").status_code == 200


def test_a_viewer_may_read_the_lists(alice, api_for, alices, member_of):
    viewer = member_of(alice, Role.VIEWER)
    as_viewer = api_for(viewer)
    assert as_viewer.get("/recommendations/listing-opportunities").status_code == 200
    assert as_viewer.get(f"/recommendations/customers/{alices.ann}").status_code == 200


def test_a_viewer_may_not_post_events(alice, api_for, alices, member_of):
    viewer = member_of(alice, Role.VIEWER)
    response = api_for(viewer).post("/events", {"events": [{
        "event_id": "e-1", "kind": "view", "product_id": alices.products["KETTLE"],
        "occurred_at": "2026-11-20T10:00:00Z"}]})
    assert_api_error(response, 403, "forbidden")


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "limit=many", "after=-1", "after=x", "surprise=1",
                                   "limit=1&limit=2"])
def test_bad_query_strings_on_the_opportunities_are_refused_by_name(alice, api_for, query):
    error = assert_api_error(api_for(alice).get(f"/recommendations/listing-opportunities?{query}"), 422)
    assert set(error["fields"]) & {"limit", "after", "surprise"}


@pytest.mark.parametrize("path", ["/recommendations/bought-together/999999", "/recommendations/customers/999999",
                                  "/recommendations/customers/abc", "/recommendations/bought-together/0"])
def test_ids_that_name_nothing_are_not_found(alice, api_for, path):
    assert_api_error(api_for(alice).get(path), 404, "not_found")


def test_the_lists_are_documented(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert {"/api/v1/events", "/api/v1/recommendations/bought-together/{product_id}",
            "/api/v1/recommendations/customers/{customer_id}",
            "/api/v1/recommendations/listing-opportunities"} <= set(paths)
