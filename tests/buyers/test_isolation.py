"""Isolation of the buyer API, generated from the URL map like the dashboard's access tests: for every store route,
a token of another store's buyer is refused (401), another buyer of the same store gets a 404 for every object of
the first (and sees none of them in a list), and without a buyer token (none, or a seller's API token) it is a 401.

ROUTE_BODIES holds a valid body for each route, so that what is refused is the caller, not the body; a new route
without an entry fails `test_every_store_route_has_a_body_entry`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from hub import create_app
from tests.buyers.conftest import BUYER_PASSWORD, US_ADDRESS, Shop, Store, order_body

PREFIX = "/api/store/v1/<id:seller_id>"
PUBLIC = {("POST", "/buyers"), ("POST", "/login"), ("GET", "/products")}  # no token; tested on their own below
ROUTE_BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/logout"): None,
    ("GET", "/me"): None,
    ("PUT", "/me"): {"name": "Someone Else"},
    ("POST", "/me/password"): {"current_password": BUYER_PASSWORD, "new_password": "copper-meadow-violin-93"},
    ("GET", "/addresses"): None,
    ("POST", "/addresses"): US_ADDRESS,
    ("GET", "/addresses/<id:address_id>"): None,
    ("PUT", "/addresses/<id:address_id>"): {**US_ADDRESS, "city": "Elsewhere"},
    ("DELETE", "/addresses/<id:address_id>"): None,
    ("POST", "/orders"): order_body(),
    ("GET", "/orders"): None,
    ("GET", "/orders/<id:order_id>"): None,
    ("POST", "/orders/<id:order_id>/pay"): {"payment_method": "pm_card_visa"},
    ("POST", "/orders/<id:order_id>/cancel"): None,
    ("POST", "/orders/<id:order_id>/confirm-receipt"): None,
    ("POST", "/orders/<id:order_id>/lines/<id:line_id>/review"): {"rating": 5},
    ("PUT", "/orders/<id:order_id>/lines/<id:line_id>/review"): {"rating": 4},
}

_APP = create_app({"TESTING": True, "SECRET_KEY": "collect-routes", "DATABASE_URL": "sqlite://"})
ROUTES = sorted((method, rule.rule.removeprefix(PREFIX)) for rule in _APP.url_map.iter_rules()
                if rule.endpoint.startswith("store.") and rule.rule.startswith(PREFIX)
                for method in rule.methods - {"HEAD", "OPTIONS"})
PRIVATE = [route for route in ROUTES if route not in PUBLIC]


def test_every_store_route_has_a_body_entry():
    assert set(ROUTES) == set(ROUTE_BODIES) | PUBLIC


@dataclass
class World:
    jo: Store  # Alice's buyer, who owns the objects
    eve: Store  # another buyer of Alice's store
    ben: Store  # a buyer of Bob's store
    ids: dict[str, int]


@pytest.fixture
def world(alice_shop: Shop, bob_shop: Shop) -> World:
    jo = alice_shop.store.sign_up_and_login("jo@example.com")
    address = jo.post("/addresses", US_ADDRESS).get_json()
    order = jo.post("/orders", order_body()).get_json()
    eve = alice_shop.store.sign_up_and_login("eve@example.com", name="Eve")
    ben = bob_shop.store.sign_up_and_login("ben@example.com", name="Ben")
    return World(jo, eve, ben, {"address_id": address["id"], "order_id": order["id"],
                                "line_id": order["lines"][0]["id"]})


def call(store: Store, method: str, rule: str, ids: dict[str, int]):
    path = rule
    for name, value in ids.items():
        path = path.replace(f"<id:{name}>", str(value))
    return store.call(method, path, ROUTE_BODIES[(method, rule)])


@pytest.mark.parametrize(("method", "rule"), PRIVATE)
def test_a_token_of_another_stores_buyer_is_refused_at_every_route(world, method, rule):
    at_alice_with_bens_token = world.jo.as_(world.ben.token)
    response = call(at_alice_with_bens_token, method, rule, world.ids)
    assert response.status_code == 401, response.get_data(as_text=True)
    at_bob_with_jos_token = world.ben.as_(world.jo.token)
    assert call(at_bob_with_jos_token, method, rule, world.ids).status_code == 401


@pytest.mark.parametrize(("method", "rule"), PRIVATE)
def test_another_buyer_of_the_same_store_reaches_none_of_the_first_buyers_objects(world, method, rule):
    response = call(world.eve, method, rule, world.ids)
    if "<id:" in rule:
        assert response.status_code == 404, response.get_data(as_text=True)
        assert response.get_json()["error"]["code"] == "not_found"
    else:
        assert response.status_code < 400, response.get_data(as_text=True)
        text = response.get_data(as_text=True)
        assert "jo@example.com" not in text and f'"id":{world.ids["order_id"]},' not in text.replace(" ", "")
    # Whatever Eve did, Jo's order and address are as they were.
    assert world.jo.get(f"/orders/{world.ids['order_id']}").get_json()["status"] == "pending"
    assert world.jo.get(f"/addresses/{world.ids['address_id']}").get_json()["city"] == "New York"


@pytest.mark.parametrize("credential", ["none", "made-up", "seller's API token"])
@pytest.mark.parametrize(("method", "rule"), PRIVATE)
def test_without_a_buyer_token_every_route_is_a_401(world, alice, method, rule, credential):
    token = {"none": None, "made-up": "hbt_" + "x" * 43, "seller's API token": alice.token}[credential]
    response = call(world.jo.as_(token), method, rule, world.ids)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] in ("no_token", "bad_token")


def test_a_buyer_of_one_store_cannot_log_in_at_another_and_signing_up_there_is_a_new_account(world, bob_shop):
    other_store = bob_shop.store
    refused = other_store.post("/login", {"email": "jo@example.com", "password": BUYER_PASSWORD})
    assert refused.status_code == 401
    fresh = other_store.sign_up_and_login("jo@example.com")
    assert fresh.get("/orders").get_json()["orders"] == []
    assert fresh.get("/addresses").get_json() == []
    assert fresh.get(f"/orders/{world.ids['order_id']}").status_code == 404


def test_a_store_lists_its_own_sellers_products_only(alice, alice_shop, bob_shop, sessions):
    from hub.catalog import products
    from hub.catalog.schemas import ProductIn

    with sessions.begin() as session:
        session.info["seller_id"] = alice.seller_id
        products.create_product(session, alice.actor, ProductIn(sku="ALICE-ONLY", title="Oolong",
                                                                base_price="7.50"))
    at_bob = [p["sku"] for p in bob_shop.store.get("/products").get_json()["products"]]
    at_alice = [p["sku"] for p in alice_shop.store.get("/products").get_json()["products"]]
    assert at_bob == ["TEA-1", "MUG-1"] and at_alice == ["TEA-1", "MUG-1", "ALICE-ONLY"]
