"""Orders over the JSON API: totals, idempotency, stock reservation, the state machine, refunds,
and amounts in each currency's ISO 4217 minor units."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from hub.accounts import services as accounts
from hub.accounts.schemas import SellerSettings
from hub.catalog.models import StockMovement, StockReservation
from hub.orders.models import Order
from tests.api.api_support import ADDRESS, assert_api_error


def setup_goods(api: Any, stock: dict[str, int] | None = None, prices: dict[str, str] | None = None) -> None:
    stock = {"TEA-1": 10, "TEA-2": 3} if stock is None else stock
    prices = prices or {}
    assert api.post("/warehouses", {"code": "MAIN", "name": "Main", "country": "DE"}).status_code == 201
    for sku, quantity in stock.items():
        created = api.post("/products", {"sku": sku, "title": f"Tea {sku}", "base_price": prices.get(sku, "10")})
        assert created.status_code == 201, created.json
        if quantity:
            assert api.post("/stock/receipts", {"sku": sku, "warehouse": "MAIN", "quantity": quantity}).status_code \
                == 201


def order(lines: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"buyer": {"name": "Dana Buyer", "email": "dana@example.com"}, "shipping_address": ADDRESS,
            "lines": lines, **extra}


def line(sku: str = "TEA-1", quantity: int = 1, unit_price: str = "10.00", **extra: Any) -> dict[str, Any]:
    return {"sku": sku, "quantity": quantity, "unit_price": unit_price, **extra}


def level(api: Any, sku: str) -> dict[str, int]:
    items = api.get(f"/stock?sku={sku}").json["items"]
    assert len(items) == 1, items
    return {k: items[0][k] for k in ("on_hand", "reserved", "available")}


def created(response: Any) -> dict[str, Any]:
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


def moved(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


@pytest.fixture
def api(alice, api_for):
    api = api_for(alice)
    setup_goods(api)
    return api


def include_tax(sessions, account, include: bool = True, currency: str = "EUR") -> None:
    with sessions.begin() as session:
        accounts.update_seller(session, account.actor, SellerSettings(
            name="Alice's Teas", base_currency=currency, default_locale="en_GB", timezone="UTC",
            prices_include_tax=include))


# --- totals ------------------------------------------------------------------------------------

def test_an_order_gets_its_totals_computed_with_tax_on_top(api):
    body = created(api.post("/orders", order([line(quantity=2, discount="1.00", tax_rate="19"),
                                              line("TEA-2", 1, "5.00", tax_rate="7")], shipping_total="4.90")))
    # line 1: 20.00 - 1.00 = 19.00, tax 3.61; line 2: 5.00, tax 0.35
    assert body["prices_include_tax"] is False
    assert [(ln["tax"], ln["line_total"]) for ln in body["lines"]] == [("3.61", "22.61"), ("0.35", "5.35")]
    assert (body["subtotal"], body["discount_total"], body["tax_total"], body["shipping_total"],
            body["grand_total"]) == ("25.00", "1.00", "3.96", "4.90", "32.86")
    assert body["status"] == "pending" and body["allowed_moves"] == ["cancelled", "paid"]
    assert body["events"][0]["kind"] == "created" and body["events"][0]["created_at"]


def test_an_order_gets_its_totals_computed_with_tax_included(api, alice, sessions):
    include_tax(sessions, alice)
    body = created(api.post("/orders", order([line(quantity=2, discount="1.00", tax_rate="19")],
                                             shipping_total="4.90")))
    # 19.00 gross of 19 % tax: net 15.97, tax 3.03; the buyer pays the price as marked
    assert body["prices_include_tax"] is True
    assert (body["lines"][0]["tax"], body["lines"][0]["line_total"]) == ("3.03", "19.00")
    assert (body["subtotal"], body["tax_total"], body["grand_total"]) == ("20.00", "3.03", "23.90")


def test_the_read_back_order_has_the_same_totals_as_the_created_one(api):
    body = created(api.post("/orders", order([line(quantity=3, unit_price="3.33", tax_rate="19")])))
    again = api.get(f"/orders/{body['id']}").json
    keys = ("subtotal", "discount_total", "shipping_total", "tax_total", "grand_total", "refunded_total")
    assert {k: again[k] for k in keys} == {k: body[k] for k in keys}
    assert again["lines"] == body["lines"]


def test_a_matching_expected_total_is_accepted(api):
    body = created(api.post("/orders", order([line(quantity=2, tax_rate="19")], expected_total="23.80")))
    assert body["grand_total"] == "23.80"


def test_an_expected_total_that_differs_is_refused_naming_the_difference(api, sessions):
    response = api.post("/orders", order([line(quantity=2, tax_rate="19")], expected_total="23.00"))
    error = assert_api_error(response, 422, "total_mismatch", "expected_total")
    assert "23.80" in error["message"] and "difference -0.80" in error["message"]
    assert "-0.80" in error["fields"]["expected_total"]
    with sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Order)) == 0
    assert level(api, "TEA-1")["reserved"] == 0


# --- idempotency -----------------------------------------------------------------------------

def test_a_duplicate_external_id_is_a_conflict_and_leaves_exactly_one_order(api, sessions):
    first = created(api.post("/orders", order([line()], external_id="SHOP-42")))
    again = api.post("/orders", order([line(quantity=2)], external_id="SHOP-42"))
    error = assert_api_error(again, 409, "duplicate_order", "external_id")
    assert "SHOP-42" in error["message"] and str(first["id"]) in error["message"]
    with sessions() as session:
        assert session.scalars(sa.select(Order.external_id)).all() == ["SHOP-42"]
    assert level(api, "TEA-1") == {"on_hand": 10, "reserved": 1, "available": 9}


def test_an_order_refused_for_stock_can_be_retried_with_the_same_external_id(api):
    assert_api_error(api.post("/orders", order([line(quantity=11)], external_id="SHOP-7")), 409, "insufficient_stock")
    assert created(api.post("/orders", order([line(quantity=10)], external_id="SHOP-7")))["external_id"] == "SHOP-7"


def test_two_sellers_may_use_the_same_external_id(api, bob, api_for):
    created(api.post("/orders", order([line()], external_id="SHOP-1")))
    bobs = api_for(bob)
    setup_goods(bobs)
    created(bobs.post("/orders", order([line()], external_id="SHOP-1")))


def test_orders_without_an_external_id_get_distinct_references(api):
    refs = {created(api.post("/orders", order([line()])))["external_id"] for _ in range(3)}
    assert len(refs) == 3 and all(ref.startswith("H-") for ref in refs)


# --- stock -------------------------------------------------------------------------------------

def test_creating_an_order_reserves_its_stock(api):
    created(api.post("/orders", order([line(quantity=4)])))
    assert level(api, "TEA-1") == {"on_hand": 10, "reserved": 4, "available": 6}


def test_insufficient_stock_is_a_conflict_and_nothing_is_reserved(api, sessions):
    response = api.post("/orders", order([line("TEA-1", 2), line("TEA-2", 4)]))
    error = assert_api_error(response, 409, "insufficient_stock", "lines[1].quantity")
    assert "TEA-2" in error["message"] and "3 available" in error["message"]
    assert level(api, "TEA-1") == {"on_hand": 10, "reserved": 0, "available": 10}
    assert level(api, "TEA-2") == {"on_hand": 3, "reserved": 0, "available": 3}
    with sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Order)) == 0
        assert session.scalar(sa.select(sa.func.count()).select_from(StockReservation)) == 0
        assert session.scalars(sa.select(StockMovement.kind)).all() == ["receipt", "receipt"]


def test_stock_reserved_by_one_order_is_not_available_to_the_next(api):
    created(api.post("/orders", order([line(quantity=8)])))
    assert_api_error(api.post("/orders", order([line(quantity=3)])), 409, "insufficient_stock")
    created(api.post("/orders", order([line(quantity=2)])))
    assert level(api, "TEA-1")["available"] == 0


def test_cancelling_releases_the_reserved_stock(api):
    body = created(api.post("/orders", order([line(quantity=4)])))
    cancelled = moved(api.post(f"/orders/{body['id']}/cancel"))
    assert cancelled["status"] == "cancelled" and cancelled["allowed_moves"] == []
    assert cancelled["events"][-1]["to_status"] == "cancelled"
    assert level(api, "TEA-1") == {"on_hand": 10, "reserved": 0, "available": 10}


def test_cancelling_a_paid_order_releases_its_stock_too(api):
    body = created(api.post("/orders", order([line(quantity=4)])))
    moved(api.post(f"/orders/{body['id']}/status", {"status": "paid"}))
    moved(api.post(f"/orders/{body['id']}/status", {"status": "cancelled", "note": "buyer changed mind"}))
    assert level(api, "TEA-1")["reserved"] == 0


def test_shipping_consumes_the_reserved_stock(api):
    body = created(api.post("/orders", order([line(quantity=3), line("TEA-2", 2, "5.00")])))
    moved(api.post(f"/orders/{body['id']}/status", {"status": "paid"}))
    shipped = created(api.post(f"/orders/{body['id']}/shipments", {"carrier": "DHL", "tracking_number": "JD01"}))
    assert shipped["status"] == "fulfilled"
    assert [ln["quantity_fulfilled"] for ln in shipped["lines"]] == [3, 2]
    assert shipped["fulfillments"][0]["carrier"] == "DHL"
    assert level(api, "TEA-1") == {"on_hand": 7, "reserved": 0, "available": 7}
    assert level(api, "TEA-2") == {"on_hand": 1, "reserved": 0, "available": 1}


def test_a_partial_shipment_consumes_only_what_ships(api):
    body = created(api.post("/orders", order([line(quantity=3)])))
    moved(api.post(f"/orders/{body['id']}/status", {"status": "paid"}))
    line_id = body["lines"][0]["id"]
    part = created(api.post(f"/orders/{body['id']}/shipments", {"lines": [{"line_id": line_id, "quantity": 1}]}))
    assert part["status"] == "partially_fulfilled"
    assert level(api, "TEA-1") == {"on_hand": 9, "reserved": 2, "available": 7}
    rest = created(api.post(f"/orders/{body['id']}/shipments", {"lines": [{"line_id": line_id, "quantity": 2}]}))
    assert rest["status"] == "fulfilled" and len(rest["fulfillments"]) == 2
    assert level(api, "TEA-1") == {"on_hand": 7, "reserved": 0, "available": 7}


def test_moving_to_fulfilled_by_status_ships_everything(api):
    body = created(api.post("/orders", order([line(quantity=2)])))
    moved(api.post(f"/orders/{body['id']}/status", {"status": "paid"}))
    done = moved(api.post(f"/orders/{body['id']}/status", {"status": "fulfilled"}))
    assert done["status"] == "fulfilled" and len(done["fulfillments"]) == 1
    assert level(api, "TEA-1") == {"on_hand": 8, "reserved": 0, "available": 8}


# --- the state machine -------------------------------------------------------------------------

def test_every_status_move_answers_with_the_new_timeline(api):
    body = created(api.post("/orders", order([line()])))
    paid = moved(api.post(f"/orders/{body['id']}/status", {"status": "paid", "note": "card"}))
    assert paid["status"] == "paid"
    assert [(e["from_status"], e["to_status"], e["message"]) for e in paid["events"]][-1] == ("pending", "paid",
                                                                                            "card")
    assert all(e["created_at"] for e in paid["events"])
    assert api.get(f"/orders/{body['id']}").json["status"] == "paid"


@pytest.mark.parametrize(("setup", "request_", "message"), [
    ([], ("status", {"status": "delivered"}), "from pending to delivered"),
    ([], ("status", {"status": "refunded"}), "from pending to refunded"),
    ([], ("shipments", {}), "pending"),
    (["cancel"], ("cancel", None), "from cancelled to cancelled"),
    (["cancel"], ("status", {"status": "paid"}), "the order is closed"),
    (["paid", "ship"], ("cancel", None), "from fulfilled to cancelled"),
    (["paid", "ship"], ("shipments", {}), "fulfilled"),
    (["paid", "refund"], ("status", {"status": "paid"}), "from refunded to paid"),
], ids=["pending to delivered", "pending to refunded", "ship a pending order", "cancel twice",
        "pay a cancelled order", "cancel a shipped order", "ship a shipped order", "pay a refunded order"])
def test_an_illegal_transition_is_a_conflict_with_a_clear_message(setup, request_, message, api):
    body = created(api.post("/orders", order([line(quantity=2)])))
    oid = body["id"]
    steps = {"paid": ("status", {"status": "paid"}), "cancel": ("cancel", None), "ship": ("shipments", {}),
             "refund": ("status", {"status": "refunded"})}
    for step in setup:
        path, payload = steps[step]
        response = api.post(f"/orders/{oid}/{path}", payload)
        assert response.status_code in (200, 201), response.json
    before = api.get(f"/orders/{oid}").json
    path, payload = request_
    error = assert_api_error(api.post(f"/orders/{oid}/{path}", payload), 409, "illegal_transition")
    assert message in error["message"], error
    after = api.get(f"/orders/{oid}").json
    assert (after["status"], len(after["events"])) == (before["status"], len(before["events"]))


# --- refunds -----------------------------------------------------------------------------------

def paid_order(api: Any, **extra: Any) -> dict[str, Any]:
    body = created(api.post("/orders", order([line(quantity=2, tax_rate="19")], shipping_total="4.90", **extra)))
    moved(api.post(f"/orders/{body['id']}/status", {"status": "paid"}))
    return body  # grand total 28.70


def refund(api: Any, oid: int, amount: str) -> Any:
    return api.post(f"/orders/{oid}/status", {"status": "partially_refunded", "amount": amount})


def test_partial_refunds_add_up_to_the_total_and_then_the_order_is_refunded(api):
    body = paid_order(api)
    assert body["grand_total"] == "28.70"
    first = moved(refund(api, body["id"], "10.00"))
    assert (first["status"], first["refunded_total"]) == ("partially_refunded", "10.00")
    second = moved(refund(api, body["id"], "8.70"))
    assert (second["status"], second["refunded_total"]) == ("partially_refunded", "18.70")
    last = moved(refund(api, body["id"], "10.00"))
    assert (last["status"], last["refunded_total"]) == ("refunded", "28.70")
    assert_api_error(refund(api, body["id"], "0.01"), 409, "illegal_transition")


def test_a_refund_beyond_what_is_left_is_refused_naming_what_is_left(api):
    body = paid_order(api)
    moved(refund(api, body["id"], "20.00"))
    error = assert_api_error(refund(api, body["id"], "8.71"), 422, field="amount")
    assert "8.70" in error["message"] and "8.70" in error["fields"]["amount"]
    assert api.get(f"/orders/{body['id']}").json["refunded_total"] == "20.00"


def test_a_refund_amount_must_fit_the_currency(api):
    body = paid_order(api)
    error = assert_api_error(refund(api, body["id"], "1.005"), 422, field="amount")
    assert "EUR" in error["message"]
    assert_api_error(refund(api, body["id"], "0"), 422, field="amount")
    assert_api_error(refund(api, body["id"], "-1"), 422, field="amount")


def test_refunding_a_paid_order_in_full_releases_its_stock(api):
    body = paid_order(api)
    assert level(api, "TEA-1")["reserved"] == 2
    moved(api.post(f"/orders/{body['id']}/status", {"status": "refunded"}))
    assert level(api, "TEA-1") == {"on_hand": 10, "reserved": 0, "available": 10}


def test_partial_refunds_that_complete_the_refund_of_an_unshipped_order_release_its_stock(api):
    body = paid_order(api)
    moved(refund(api, body["id"], "28.70"))
    assert api.get(f"/orders/{body['id']}").json["status"] == "refunded"
    assert level(api, "TEA-1") == {"on_hand": 10, "reserved": 0, "available": 10}


def test_refunding_the_rest_after_a_partial_refund_releases_the_stock(api):
    body = paid_order(api)
    moved(refund(api, body["id"], "5.00"))
    moved(api.post(f"/orders/{body['id']}/status", {"status": "refunded"}))
    assert level(api, "TEA-1") == {"on_hand": 10, "reserved": 0, "available": 10}


def test_refunding_a_shipped_order_does_not_put_the_stock_back(api):
    body = paid_order(api)
    created(api.post(f"/orders/{body['id']}/shipments", {}))
    moved(api.post(f"/orders/{body['id']}/status", {"status": "refunded"}))
    assert level(api, "TEA-1") == {"on_hand": 8, "reserved": 0, "available": 8}


# --- currencies ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("currency", "unit_price", "shipping", "tax_rate", "expected"), [
    # 3 x 1500 = 4500, 10 % tax 450, + 500 shipping
    ("JPY", "1500", "500", "10", {"subtotal": "4500", "tax_total": "450", "grand_total": "5450"}),
    # 1 x 333 at 8 %: 26.64 rounds half-up to 27 yen
    ("JPY", "111", "0", "8", {"subtotal": "333", "tax_total": "27", "grand_total": "360"}),
    # 3 x 1.111 = 3.333, 15 % tax 0.49995 -> 0.500 (half-up at 3 decimals), + 1.250 shipping
    ("KWD", "1.111", "1.250", "15", {"subtotal": "3.333", "tax_total": "0.500", "grand_total": "5.083"}),
    ("KWD", "2", "0", "0", {"subtotal": "6.000", "tax_total": "0.000", "grand_total": "6.000"}),
    ("EUR", "1.5", "0", "0", {"subtotal": "4.50", "tax_total": "0.00", "grand_total": "4.50"}),
])
def test_amounts_are_in_the_currencys_iso_minor_units(currency, unit_price, shipping, tax_rate, expected, api):
    quantity = 3
    body = created(api.post("/orders", order([line(quantity=quantity, unit_price=unit_price, tax_rate=tax_rate)],
                                             currency=currency, shipping_total=shipping)))
    for response in (body, api.get(f"/orders/{body['id']}").json, api.get("/orders").json["items"][0]):
        assert response["currency"] == currency
        assert {k: response[k] for k in expected} == expected
        digits = {"JPY": 0, "KWD": 3, "EUR": 2}[currency]
        for key in ("subtotal", "discount_total", "shipping_total", "tax_total", "grand_total", "refunded_total"):
            assert -Decimal(response[key]).as_tuple().exponent == digits, (key, response[key])
        for ln in response["lines"]:
            for key in ("unit_price", "discount", "tax", "line_total"):
                assert -Decimal(ln[key]).as_tuple().exponent == digits, (key, ln[key])


def test_a_yen_order_refuses_fractional_yen_everywhere(api):
    for edit in ({"lines": [line(unit_price="100.5")]}, {"shipping_total": "0.5"}, {"expected_total": "100.5"},
                 {"lines": [line(unit_price="100", discount="0.5")]}):
        body = {**order([line(unit_price="100")], currency="JPY"), **edit}
        error = assert_api_error(api.post("/orders", body), 422)
        assert "JPY" in error["message"] and "0 decimal places" in error["message"]


def test_a_kwd_refund_keeps_three_decimals(api):
    body = created(api.post("/orders", order([line(unit_price="1.234")], currency="KWD")))
    moved(api.post(f"/orders/{body['id']}/status", {"status": "paid"}))
    refunded = moved(refund(api, body["id"], "0.001"))
    assert (refunded["refunded_total"], refunded["grand_total"]) == ("0.001", "1.234")
    assert_api_error(refund(api, body["id"], "0.0005"), 422, field="amount")


def test_a_seller_in_yen_gets_yen_orders_by_default(make_account, api_for):
    api = api_for(make_account(currency="JPY"))
    setup_goods(api, prices={"TEA-1": "1200", "TEA-2": "800"})
    body = created(api.post("/orders", order([line(quantity=2, unit_price="1200", tax_rate="10")])))
    assert (body["currency"], body["grand_total"], body["tax_total"]) == ("JPY", "2640", "240")
    assert api.get("/products?q=TEA-1").json["items"][0]["price"] == {"amount": "1200", "currency": "JPY"}
