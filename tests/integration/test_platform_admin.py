"""A platform admin sees every seller's goods and orders and can move any order, but sells nothing."""

import sqlalchemy as sa

from hub.accounts import services as accounts
from hub.accounts.models import Role, User
from hub.accounts.schemas import NewToken
from hub.catalog.models import StockMovement
from tests.conftest import PASSWORD, Api
from tests.integration.helpers import place_order, stocked_product


def make_admin_api(sessions, security, client) -> Api:
    with sessions.begin() as session:
        admin = User(seller_id=None, email="root@platform.example.com", name="Root", role=Role.ADMIN,
                     password_hash=security.hasher.hash(PASSWORD))
        session.add(admin)
        session.flush()
        _, token = accounts.create_token(session, accounts.actor_for(admin), NewToken(name="ops"))
    return Api(client, token)


def test_an_admin_lists_and_reads_every_sellers_orders_and_products(sessions, security, client, alice, bob):
    for account, sku in ((alice, "ALICE-1"), (bob, "BOB-1")):
        stocked_product(sessions, account.actor, sku)
        with sessions.begin() as session:
            place_order(session, account.actor, [(sku, 1)])
    admin = make_admin_api(sessions, security, client)
    orders = admin.get("/orders").json["items"]
    assert sorted(line["sku"] for order in orders for line in order["lines"]) == ["ALICE-1", "BOB-1"]
    assert admin.get(f"/orders/{orders[0]['id']}").status_code == 200
    assert sorted(p["sku"] for p in admin.get("/products").json["items"]) == ["ALICE-1", "BOB-1"]
    assert len(admin.get("/stock").json["items"]) == 2


def test_an_admin_can_cancel_a_sellers_order_and_the_stock_is_booked_to_that_seller(
        sessions, security, client, alice):
    stocked_product(sessions, alice.actor, "ALICE-1")
    with sessions.begin() as session:
        order_id = place_order(session, alice.actor, [("ALICE-1", 2)]).id
    admin = make_admin_api(sessions, security, client)
    response = admin.post(f"/orders/{order_id}/cancel")
    assert response.status_code == 200, response.json
    assert response.json["status"] == "cancelled"
    with sessions() as session:
        sellers = set(session.scalars(sa.select(StockMovement.seller_id)))
    assert sellers == {alice.seller_id}


def test_an_admin_cannot_create_goods_for_nobody(sessions, security, client):
    admin = make_admin_api(sessions, security, client)
    response = admin.post("/products", {"sku": "X-1", "title": "x", "base_price": "1.00"})
    assert response.status_code == 403
    assert "log in as one of the seller's users" in response.json["error"]["message"]
