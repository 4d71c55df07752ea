"""Tenant isolation and authentication on every API route, read from app.url_map.

Another seller's object is "not found" (never "forbidden": ids cannot be probed), lists never show
another seller's rows, and a request without a valid token, or from a viewer trying to write, is
refused before it touches anything.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from hub import create_app
from hub.accounts import services as accounts
from hub.accounts.models import ApiToken, Role
from tests.api.api_support import (
    ADDRESS,
    API,
    ENDPOINTS,
    UNDOCUMENTED,
    Route,
    api_routes,
    assert_api_error,
    list_routes,
    write_routes,
)
from tests.api.conftest import build_world

_APP = create_app({"TESTING": True, "SECRET_KEY": "collect-routes", "DATABASE_URL": "sqlite://"})
ROUTES = [r for r in api_routes(_APP) if r.rule not in UNDOCUMENTED]
WITH_IDS = [r for r in ROUTES if r.arguments]
WRITES = write_routes(_APP)
LISTS = list_routes(_APP)
READS = [r for r in ROUTES if r.method == "GET"]

# Path arguments of read routes, by name (write routes take theirs from ENDPOINTS).
READ_IDS = {"product_id": lambda w: w.product_id, "order_id": lambda w: w.paid_order_id,
            "customer_id": lambda w: w.customer_id}

# Only in Alice's data: none of these may ever appear in a response to Bob.
ALICE_ONLY = ("ALICE-ONLY-SKU", "ALICEWH", "ALICE-ORDER", "Alice Buyer")


def _ids(routes: list[Route]) -> list[str]:
    return [r.key for r in routes]


def path_ids(route: Route, world: Any) -> dict[str, Any]:
    if route.key in ENDPOINTS:
        return ENDPOINTS[route.key].ids(world)
    missing = [a for a in route.arguments if a not in READ_IDS]
    assert not missing, f"{route.key}: add the path arguments {missing} to READ_IDS"
    return {a: READ_IDS[a](world) for a in route.arguments}


def body_for(route: Route, world: Any) -> Any:
    spec = ENDPOINTS.get(route.key)
    return spec.body(world) if spec is not None and spec.body is not None else None


def call(client: Any, route: Route, ids: dict[str, Any], body: Any = None, headers: dict[str, str] | None = None,
         **kw: Any) -> Any:
    return client.open(route.url(ids), method=route.method, json=body, headers=headers or {}, **kw)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def two_worlds(alice, bob, api_for, stripe_url):
    """Alice and Bob with the same SKUs, codes and order references, and a few rows only Alice has."""
    alice_api = api_for(alice)
    alice_world = build_world(alice_api, stripe_url)
    bob_world = build_world(api_for(bob), stripe_url)
    assert alice_api.post("/warehouses", {"code": "ALICEWH", "name": "Alice's", "country": "FR"}).status_code == 201
    assert alice_api.post("/products", {"sku": "ALICE-ONLY-SKU", "title": "Alice's own",
                                        "base_price": "1.00"}).status_code == 201
    assert alice_api.post("/stock/receipts", {"sku": "ALICE-ONLY-SKU", "warehouse": "ALICEWH",
                                              "quantity": 3}).status_code == 201
    order = alice_api.post("/orders", {"external_id": "ALICE-ORDER", "buyer": {"name": "Alice Buyer"},
                                       "shipping_address": ADDRESS,
                                       "lines": [{"sku": "ALICE-ONLY-SKU", "quantity": 1, "unit_price": "1.00"}]})
    assert order.status_code == 201, order.json
    return alice_world, bob_world


# --- another seller's objects --------------------------------------------------------------

def test_there_are_routes_with_ids_to_check():
    assert {r.method for r in WITH_IDS} >= {"GET", "PUT", "DELETE", "POST"}, _ids(WITH_IDS)


@pytest.mark.parametrize("route", WITH_IDS, ids=_ids(WITH_IDS))
def test_bobs_token_on_alices_object_is_not_found(route, client, alice, bob, two_worlds, db_state):
    alice_world, _ = two_worlds
    before = db_state()
    response = call(client, route, path_ids(route, alice_world), body_for(route, alice_world), bearer(bob.token))
    error = assert_api_error(response, 404, "not_found")
    assert "forbidden" not in error["message"].lower()
    assert db_state() == before


@pytest.mark.parametrize("route", WITH_IDS, ids=_ids(WITH_IDS))
def test_not_found_for_another_seller_is_indistinguishable_from_not_existing(route, client, bob, two_worlds):
    alice_world, _ = two_worlds
    foreign = call(client, route, path_ids(route, alice_world), body_for(route, alice_world), bearer(bob.token))
    absent_ids = dict.fromkeys(route.arguments, 999_999)
    absent = call(client, route, absent_ids, body_for(route, alice_world), bearer(bob.token))
    assert (foreign.status_code, foreign.json["error"]["code"]) == (absent.status_code, absent.json["error"]["code"])
    assert set(foreign.json["error"]) == set(absent.json["error"])


@pytest.mark.parametrize("route", WITH_IDS, ids=_ids(WITH_IDS))
def test_alice_can_use_her_own_object_on_the_same_route(route, client, alice, two_worlds):
    alice_world, _ = two_worlds
    response = call(client, route, path_ids(route, alice_world), body_for(route, alice_world), bearer(alice.token))
    assert response.status_code < 300, response.get_data(as_text=True)


@pytest.mark.parametrize("route", LISTS, ids=_ids(LISTS))
def test_list_endpoints_never_show_another_sellers_rows(route, client, alice, bob, two_worlds):
    as_bob = client.get(route.rule, headers=bearer(bob.token))
    as_alice = client.get(route.rule, headers=bearer(alice.token))
    assert as_bob.status_code == as_alice.status_code == 200
    assert any(marker in as_alice.get_data(as_text=True) for marker in ALICE_ONLY), "the markers would show"
    leaked = [marker for marker in ALICE_ONLY if marker in as_bob.get_data(as_text=True)]
    assert not leaked, f"{route.key} shows Bob Alice's {leaked}"
    assert len(as_bob.json["items"]) < len(as_alice.json["items"])


@pytest.mark.parametrize("query", ["/products?q=ALICE", "/products?q=alice-only", "/stock?sku=ALICE-ONLY-SKU",
                                   "/stock?warehouse=ALICEWH", "/orders?q=ALICE-ORDER", "/orders?q=Alice%20Buyer",
                                   "/orders?q=ALICE-ONLY-SKU", "/orders?country=DE", "/orders?currency=EUR"])
def test_searching_finds_nothing_of_another_seller(query, client, bob, two_worlds):
    response = client.get(f"{API}{query}", headers=bearer(bob.token))
    assert response.status_code == 200, response.json
    text = response.get_data(as_text=True)
    assert not [marker for marker in ALICE_ONLY if marker in text], text


def test_paging_through_every_list_never_reaches_another_sellers_rows(client, bob, two_worlds):
    for route in LISTS:
        url, seen = route.rule, 0
        while url:
            response = client.get(url, headers=bearer(bob.token))
            assert response.status_code == 200
            assert not [m for m in ALICE_ONLY if m in response.get_data(as_text=True)], route.key
            seen += len(response.json["items"])
            after = response.json.get("next_after")
            url = f"{route.rule}?limit=1&after={after}" if after else None
        assert seen > 0, route.key


def test_bob_cannot_order_alices_goods_by_sku(bob, api_for, two_worlds):
    response = api_for(bob).post("/orders", {"buyer": {"name": "Bob's buyer"}, "shipping_address": ADDRESS,
                                             "lines": [{"sku": "ALICE-ONLY-SKU", "quantity": 1,
                                                        "unit_price": "1.00"}]})
    assert_api_error(response, 422, "unknown_sku", "lines[0].sku")


def test_bob_cannot_move_stock_into_alices_warehouse(bob, api_for, two_worlds):
    api = api_for(bob)
    assert_api_error(api.post("/stock/receipts", {"sku": "TEA-1", "warehouse": "ALICEWH", "quantity": 1}), 422,
                     field="warehouse")
    assert_api_error(api.post("/stock/adjustments", {"sku": "ALICE-ONLY-SKU", "warehouse": "MAIN", "delta": 1,
                                                     "reason": "count"}), 422, field="sku")


def test_bob_cannot_ship_alices_order_line_on_his_own_order(bob, api_for, two_worlds):
    alice_world, bob_world = two_worlds
    response = api_for(bob).post(f"/orders/{bob_world.paid_order_id}/shipments",
                                 {"lines": [{"line_id": alice_world.paid_line_id, "quantity": 1}]})
    assert_api_error(response, 422, field="lines[0].line_id")


def test_the_same_sku_and_order_reference_belong_to_each_seller_separately(alice, bob, api_for, two_worlds):
    alice_world, bob_world = two_worlds
    assert alice_world.product_id != bob_world.product_id
    alice_tea = api_for(alice).get(f"/products/{alice_world.product_id}").json
    bob_tea = api_for(bob).get(f"/products/{bob_world.product_id}").json
    assert alice_tea["sku"] == bob_tea["sku"] == "TEA-1"
    assert api_for(bob).get("/orders?q=WEB-1").json["items"][0]["id"] != alice_world.pending_order_id


# --- authentication ----------------------------------------------------------------------------

@pytest.mark.parametrize("route", ROUTES, ids=_ids(ROUTES))
def test_a_request_without_a_token_is_unauthorized_with_www_authenticate(route, client, alice, world, db_state):
    before = db_state()
    ids = path_ids(route, world)
    for headers in ({}, {"Authorization": ""}, {"Authorization": "Bearer"}, {"Authorization": "Bearer   "},
                    {"Authorization": f"Basic {alice.token}"}, {"Authorization": alice.token}):
        response = call(client, route, ids, body_for(route, world), headers)
        error = assert_api_error(response, 401, "no_token")
        assert "Bearer" in error["message"]
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="order-hub"'
    assert db_state() == before


@pytest.mark.parametrize("route", ROUTES, ids=_ids(ROUTES))
def test_an_unknown_token_is_unauthorized(route, client, alice, world, db_state):
    before = db_state()
    for token in ("hub_not-a-real-token", alice.token + "x", alice.token[:-1], "x" * 4000):
        response = call(client, route, path_ids(route, world), body_for(route, world), bearer(token))
        assert_api_error(response, 401, "bad_token")
    assert db_state() == before


def test_the_token_scheme_is_case_insensitive(client, alice):
    assert client.get(f"{API}/products", headers={"Authorization": f"bearer {alice.token}"}).status_code == 200


def test_a_revoked_token_is_unauthorized_everywhere(client, alice, world, sessions, db_state):
    assert client.get(f"{API}/products", headers=bearer(alice.token)).status_code == 200
    with sessions.begin() as session:
        token_id = session.scalar(sa.select(ApiToken.id).where(ApiToken.user_id == alice.user_id))
        accounts.revoke_token(session, alice.actor, token_id)
    before = db_state()
    for route in ROUTES:
        response = call(client, route, path_ids(route, world), body_for(route, world), bearer(alice.token))
        error = assert_api_error(response, 401, "bad_token")
        assert "revoked" in error["message"]
    assert db_state() == before


def test_a_deactivated_users_token_is_unauthorized(client, alice, member_of, sessions):
    staff = member_of(alice, Role.STAFF)
    assert client.get(f"{API}/orders", headers=bearer(staff.token)).status_code == 200
    with sessions.begin() as session:
        accounts.set_user_active(session, alice.actor, staff.user_id, False)
    assert_api_error(client.get(f"{API}/orders", headers=bearer(staff.token)), 401, "bad_token")


def test_the_openapi_document_needs_no_token(client):
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200 and response.json["openapi"].startswith("3.1")


# --- roles -------------------------------------------------------------------------------------

@pytest.mark.parametrize("route", WRITES, ids=_ids(WRITES))
def test_a_viewer_token_is_forbidden_to_write(route, client, alice, member_of, world, db_state):
    viewer = member_of(alice, Role.VIEWER)
    before = db_state()
    response = call(client, route, path_ids(route, world), body_for(route, world), bearer(viewer.token))
    error = assert_api_error(response, 403, "forbidden")
    assert "viewer" in error["message"]
    assert db_state() == before


@pytest.mark.parametrize("route", READS, ids=_ids(READS))
def test_a_viewer_token_may_read(route, client, alice, member_of, world):
    viewer = member_of(alice, Role.VIEWER)
    response = call(client, route, path_ids(route, world), headers=bearer(viewer.token))
    assert response.status_code == 200, response.get_data(as_text=True)


@pytest.mark.parametrize("route", WRITES, ids=_ids(WRITES))
def test_a_staff_token_may_write(route, client, alice, member_of, world):
    staff = member_of(alice, Role.STAFF)
    response = call(client, route, path_ids(route, world), body_for(route, world), bearer(staff.token))
    assert response.status_code == ENDPOINTS[route.key].success, response.get_data(as_text=True)


def test_a_tokens_last_use_is_kept_to_the_minute_without_a_write_on_every_request(client, sessions, alice):
    headers = {"Authorization": f"Bearer {alice.token}"}

    def last_used():
        with sessions() as session:
            return session.scalar(sa.select(ApiToken.last_used_at).where(ApiToken.user_id == alice.user_id))

    assert client.get("/api/v1/products", headers=headers).status_code == 200
    first = last_used()
    assert first is not None
    assert client.get("/api/v1/products", headers=headers).status_code == 200
    assert last_used() == first  # within the minute: not written again
    with sessions.begin() as session:
        session.execute(sa.update(ApiToken).where(ApiToken.user_id == alice.user_id)
                        .values(last_used_at=first - accounts.TOKEN_USE_RESOLUTION))
    assert client.get("/api/v1/products", headers=headers).status_code == 200
    assert last_used() > first - accounts.TOKEN_USE_RESOLUTION
