"""The buyer API over HTTP without outside services: sign-up and login, profile and addresses, orders at the
catalog's prices, confirming receipt and reviewing, bad input answered 4xx with a message, the login rate limit."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from hub.buyers.models import BuyerOrder
from hub.catalog.models import StockLevel
from hub.customers.models import Customer
from hub.orders import services as orders
from hub.orders.models import Order
from hub.orders.schemas import ShipmentIn, StatusMove
from hub.orders.status import OrderStatus
from hub.reviews.models import Review, ReviewRevision
from tests.buyers.conftest import BUYER_PASSWORD, US_ADDRESS, order_body


def shipped_by_the_seller(sessions, account, order_id: int) -> None:
    """The seller takes the money by hand and ships everything."""
    with sessions.begin() as session:
        session.info["seller_id"] = account.seller_id
        orders.move(session, account.actor, order_id, StatusMove(status=OrderStatus.PAID))
        orders.ship(session, account.actor, order_id, ShipmentIn(carrier="DHL", tracking_number="JD1"))


def test_a_buyer_signs_up_logs_in_reads_and_changes_the_profile_and_logs_out(alice_shop):
    store = alice_shop.store
    created = store.post("/buyers", {"email": "Jo@Example.com", "name": "Jo", "password": BUYER_PASSWORD})
    assert created.status_code == 201
    assert created.get_json()["email"] == "jo@example.com" and "password_hash" not in created.get_json()

    token = store.post("/login", {"email": "jo@example.com", "password": BUYER_PASSWORD}).get_json()["token"]
    me = store.as_(token)
    assert me.get("/me").get_json()["name"] == "Jo"
    assert me.put("/me", {"name": "Jo Doe"}).get_json()["name"] == "Jo Doe"

    assert me.post("/logout").status_code == 204
    refused = me.get("/me")
    assert refused.status_code == 401 and refused.get_json()["error"]["code"] == "bad_token"
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")


def test_sign_up_links_the_account_to_the_sellers_customer_profile(alice_shop, sessions):
    alice_shop.store.sign_up_and_login("jo@example.com")
    with sessions() as session:
        profile = session.scalars(sa.select(Customer)).one()
        assert (profile.seller_id, profile.email_key) == (alice_shop.account.seller_id, "jo@example.com")


def test_a_weak_password_is_refused_with_the_reason(alice_shop):
    refused = alice_shop.store.post("/buyers", {"email": "jo@example.com", "name": "Jo", "password": "password1"})
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert error["code"] == "weak_password" and "password" in error["fields"]


def test_the_address_book_keeps_one_default_and_validates_the_country(alice_shop):
    me = alice_shop.store.sign_up_and_login("jo@example.com")
    home = me.post("/addresses", {**US_ADDRESS, "label": "home"}).get_json()
    office = me.post("/addresses", {**US_ADDRESS, "label": "office", "is_default": True}).get_json()
    assert home["is_default"] is True and office["is_default"] is True
    listed = me.get("/addresses").get_json()
    assert [(a["label"], a["is_default"]) for a in listed] == [("home", False), ("office", True)]

    bad = me.post("/addresses", {**US_ADDRESS, "country": "XX"})
    assert bad.status_code == 422 and "country" in bad.get_json()["error"]["fields"]
    changed = me.put(f"/addresses/{home['id']}", {**US_ADDRESS, "label": "home", "city": "Boston"})
    assert changed.get_json()["city"] == "Boston"
    assert me.delete(f"/addresses/{office['id']}").status_code == 204
    assert [(a["label"], a["is_default"]) for a in me.get("/addresses").get_json()] == [("home", True)]
    assert me.get(f"/addresses/{office['id']}").status_code == 404


def test_an_order_takes_the_catalog_price_whatever_price_the_client_sends(alice_shop, sessions):
    me = alice_shop.store.sign_up_and_login("jo@example.com")
    body = {"lines": [{"sku": "TEA-1", "quantity": 2, "unit_price": "0.01"}], "shipping_address": US_ADDRESS}
    placed = me.post("/orders", body)

    assert placed.status_code == 201, placed.get_data(as_text=True)
    order = placed.get_json()
    assert order["status"] == "pending" and order["currency"] == "EUR"
    assert [(line["sku"], Decimal(line["unit_price"])) for line in order["lines"]] == [("TEA-1", Decimal("10.00"))]
    assert Decimal(order["grand_total"]) == Decimal("20.00")
    with sessions() as session:
        row = session.get(Order, order["id"])
        assert row.channel.kind == "direct" and row.customer_match == "buyer account"
        assert row.customer_id == session.scalars(sa.select(Customer.id)).one()
        assert session.scalars(sa.select(BuyerOrder.order_id)).all() == [order["id"]]
        reserved = session.scalar(sa.select(sa.func.sum(StockLevel.reserved)))
        assert reserved == 2


def test_an_order_from_the_address_book_and_the_buyers_order_list(alice_shop):
    me = alice_shop.store.sign_up_and_login("jo@example.com")
    address = me.post("/addresses", US_ADDRESS).get_json()
    first = me.post("/orders", {"lines": [{"sku": "TEA-1", "quantity": 1}], "address_id": address["id"]}).get_json()
    second = me.post("/orders", order_body()).get_json()
    assert first["shipping_address"]["city"] == "New York"

    page = me.get("/orders", query_string={"limit": 1}).get_json()
    assert [o["id"] for o in page["orders"]] == [second["id"]] and page["next_after"] == second["id"]
    rest = me.get("/orders", query_string={"after": page["next_after"]}).get_json()
    assert [o["id"] for o in rest["orders"]] == [first["id"]] and rest["next_after"] is None


@pytest.mark.parametrize(("body", "field"), [
    ({"lines": [{"sku": "NOPE-1", "quantity": 1}], "shipping_address": US_ADDRESS}, "lines[0].sku"),
    ({"lines": [{"sku": "TEA-1", "quantity": 0}], "shipping_address": US_ADDRESS}, "lines[0].quantity"),
    ({"lines": [{"sku": "TEA-1", "quantity": "many"}], "shipping_address": US_ADDRESS}, "lines[0].quantity"),
    ({"lines": [], "shipping_address": US_ADDRESS}, "lines"),
    ({"lines": [{"sku": "TEA-1", "quantity": 1}]}, "body"),
    ({"lines": [{"sku": "TEA-1", "quantity": 1}], "shipping_address": {**US_ADDRESS, "country": "ZZ"}},
     "shipping_address.country"),
    ({"lines": [{"sku": "TEA-1", "quantity": 1}], "shipping_address": US_ADDRESS, "grand_total": "1"}, "grand_total"),
    ({"lines": [{"sku": "TEA-1", "quantity": 1}], "address_id": 99999}, None),
    ({"lines": [{"sku": "TEA-1", "quantity": 101}], "shipping_address": US_ADDRESS}, "lines[0].quantity"),
    ([1, 2], "body"),
])
def test_a_bad_order_is_refused_with_a_message_and_never_a_server_error(alice_shop, body, field):
    me = alice_shop.store.sign_up_and_login("jo@example.com")
    refused = me.post("/orders", body)
    assert 400 <= refused.status_code < 500, refused.get_data(as_text=True)
    error = refused.get_json()["error"]
    assert error["message"]
    if field is not None:
        assert field in error["fields"], error


@pytest.mark.parametrize(("data", "content_type", "status"), [
    (b"{", "application/json", 422),
    (b'{"email": "a@b.example", "name": "A", "password": NaN}', "application/json", 422),
    (b"email=a", "application/x-www-form-urlencoded", 415),
    (b"", "application/json", 422),
    (b'{"email": "a@b.example", "name": "A\\u0000", "password": "x"}', "application/json", 422),
])
def test_a_malformed_body_is_a_client_error_with_the_apis_error_shape(alice_shop, data, content_type, status):
    response = alice_shop.store.post("/buyers", data=data, headers={"Content-Type": content_type})
    assert response.status_code == status
    assert set(response.get_json()["error"]) == {"code", "message", "fields"}


def test_an_unknown_store_or_route_answers_in_json(client, alice_shop):
    assert client.post("/api/store/v1/999999/buyers", json={"email": "a@b.example", "name": "A",
                                                            "password": BUYER_PASSWORD}).status_code == 404
    missing = client.get(f"/api/store/v1/{alice_shop.account.seller_id}/nothing-here")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"


def test_receipt_is_confirmed_only_once_shipped_and_then_a_delivered_line_is_reviewed_and_edited(
        alice_shop, sessions):
    me = alice_shop.store.sign_up_and_login("jo@example.com")
    order = me.post("/orders", order_body()).get_json()
    line = order["lines"][0]["id"]
    early = me.post(f"/orders/{order['id']}/confirm-receipt")
    assert early.status_code == 409 and early.get_json()["error"]["code"] == "not_shipped"
    too_soon = me.post(f"/orders/{order['id']}/lines/{line}/review", {"rating": 5})
    assert too_soon.status_code == 409 and too_soon.get_json()["error"]["code"] == "not_delivered"

    shipped_by_the_seller(sessions, alice_shop.account, order["id"])
    confirmed = me.post(f"/orders/{order['id']}/confirm-receipt")
    assert confirmed.status_code == 200 and confirmed.get_json()["status"] == "delivered"
    assert me.post(f"/orders/{order['id']}/confirm-receipt").get_json()["status"] == "delivered"

    written = me.post(f"/orders/{order['id']}/lines/{line}/review", {"rating": 2, "title": "Stale", "body": "Meh"})
    assert written.status_code == 201, written.get_data(as_text=True)
    assert (written.get_json()["rating"], written.get_json()["order_line_id"]) == (2, line)
    twice = me.post(f"/orders/{order['id']}/lines/{line}/review", {"rating": 3})
    assert twice.status_code == 409 and twice.get_json()["error"]["code"] == "already_reviewed"
    edited = me.put(f"/orders/{order['id']}/lines/{line}/review", {"rating": 4, "title": "Better second brew"})
    assert edited.status_code == 200 and edited.get_json()["rating"] == 4
    bad = me.put(f"/orders/{order['id']}/lines/{line}/review", {"rating": 6})
    assert bad.status_code == 422 and "rating" in bad.get_json()["error"]["fields"]

    with sessions() as session:
        event = session.scalars(sa.select(Order).where(Order.id == order["id"])).one().events[-1]
        assert event.actor.startswith("buyer ") and event.message == "receipt confirmed by the buyer"
        review = session.scalars(sa.select(Review)).one()
        assert (review.rating, review.source) == (4, "hub")
        assert session.scalars(sa.select(ReviewRevision.rating)).all() == [2]


def test_editing_a_review_not_yet_written_is_not_found(alice_shop, sessions):
    me = alice_shop.store.sign_up_and_login("jo@example.com")
    order = me.post("/orders", order_body()).get_json()
    shipped_by_the_seller(sessions, alice_shop.account, order["id"])
    me.post(f"/orders/{order['id']}/confirm-receipt")
    missing = me.put(f"/orders/{order['id']}/lines/{order['lines'][0]['id']}/review", {"rating": 4})
    assert missing.status_code == 404


def test_paying_at_a_store_without_a_payment_account_is_a_conflict_with_a_message(alice_shop):
    me = alice_shop.store.sign_up_and_login("jo@example.com")
    order = me.post("/orders", order_body()).get_json()
    refused = me.post(f"/orders/{order['id']}/pay", {"payment_method": "pm_card_visa"})
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "no_payment_account"


def test_logins_from_one_client_are_rate_limited_with_retry_after(app, alice_shop):
    app.config["BUYER_LOGIN_PER_MINUTE"] = 3
    store = alice_shop.store
    answers = [store.post("/login", {"email": "nobody@example.com", "password": "x"}).status_code
               for _ in range(4)]
    assert answers == [401, 401, 401, 429]
    limited = store.post("/login", {"email": "nobody@example.com", "password": "x"})
    assert limited.get_json()["error"]["code"] == "rate_limited" and int(limited.headers["Retry-After"]) > 0


def test_the_store_api_documents_every_route_in_its_own_openapi_document(app, client):
    spec = client.get("/api/store/v1/openapi.json").get_json()
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    routed = {(rule.rule.replace("<id:", "{").replace(">", "}"), method.lower())
              for rule in app.url_map.iter_rules() if rule.endpoint.startswith("store.")
              and rule.endpoint != "store.openapi" for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == routed
    assert "PlaceOrder" in spec["components"]["schemas"] and "CartLine" in spec["components"]["schemas"]
    listing = spec["paths"]["/api/store/v1/{seller_id}/orders"]["get"]
    assert [p["name"] for p in listing["parameters"]] == ["seller_id", "after", "limit"]
    assert "security" in listing and "security" not in spec["paths"]["/api/store/v1/{seller_id}/products"]["get"]


def test_the_catalog_shows_prices_and_units_available_and_leaves_out_inactive_goods(alice_shop, sessions):
    from hub.catalog.models import Product

    me = alice_shop.store.sign_up_and_login("jo@example.com")
    me.post("/orders", order_body())
    with sessions.begin() as session:
        session.scalars(sa.select(Product).where(Product.sku == "MUG-1")).one().is_active = False
    listed = alice_shop.store.get("/products").get_json()
    assert listed == {"products": [{"sku": "TEA-1", "title": "Title TEA-1", "description": "", "price": "10.00",
                                    "currency": "EUR", "available": 98}], "next_after": None}


def test_an_order_repeated_with_its_idempotency_key_is_placed_once(alice_shop, sessions):
    me = alice_shop.store.sign_up_and_login("jo@example.com")
    first = me.post("/orders", order_body(), headers={"Idempotency-Key": "cart-7f3a"})
    again = me.post("/orders", order_body(), headers={"Idempotency-Key": "cart-7f3a"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["id"] == again.get_json()["id"]
    other = me.post("/orders", order_body(), headers={"Idempotency-Key": "cart-8b21"})
    assert other.status_code == 201 and other.get_json()["id"] != first.get_json()["id"]
    with sessions() as session:
        assert session.scalar(sa.select(sa.func.count(Order.id))) == 2
    bad = me.post("/orders", order_body(), headers={"Idempotency-Key": "has space"})
    assert bad.status_code == 422 and "Idempotency-Key" in bad.get_json()["error"]["fields"]


def test_a_buyer_cancels_an_unpaid_order_and_its_stock_is_released_but_a_paid_one_stays(alice_shop, sessions):
    me = alice_shop.store.sign_up_and_login("jo@example.com")
    unpaid = me.post("/orders", order_body()).get_json()
    cancelled = me.post(f"/orders/{unpaid['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    with sessions() as session:
        assert session.scalar(sa.select(sa.func.sum(StockLevel.reserved))) == 0

    paid = me.post("/orders", order_body()).get_json()
    with sessions.begin() as session:
        session.info["seller_id"] = alice_shop.account.seller_id
        orders.move(session, alice_shop.account.actor, paid["id"], StatusMove(status=OrderStatus.PAID))
    refused = me.post(f"/orders/{paid['id']}/cancel")
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "not_cancellable"
    assert me.post(f"/orders/{unpaid['id']}/cancel").status_code == 409
