"""Orders on the dashboard: filtered list, detail, the actions the state machine allows."""

from __future__ import annotations

import re
from datetime import timedelta

from hub.catalog import products, stock
from hub.catalog.schemas import ProductIn, StockReceipt
from hub.orders import services as orders
from hub.orders.schemas import OrderIn, StatusMove
from hub.timeutil import utcnow
from tests.web.support import ADDRESS, browser, field_error, make_shop, scoped, stock_row, text


def place(sessions, actor, sku="TEA-1", quantity=1, country="DE", buyer="Anna Schmidt", paid=False, **extra):
    with scoped(sessions, actor) as session, session.begin():
        order = orders.create_order(session, actor, OrderIn.model_validate({
            "buyer": {"name": buyer}, "shipping_address": {**ADDRESS, "country": country},
            "lines": [{"sku": sku, "quantity": quantity, "unit_price": "5.00"}], **extra}))
        if paid:
            orders.move(session, actor, order.id, StatusMove(status="paid"))
        return order.id


def add_product(sessions, actor, sku, on_hand=10):
    with scoped(sessions, actor) as session, session.begin():
        products.create_product(session, actor, ProductIn(sku=sku, title=sku, base_price="5"))
        stock.receive(session, actor, StockReceipt(sku=sku, warehouse="MAIN", quantity=on_hand))


def order_refs(page: str) -> list[str]:
    return re.findall(r'<a href="/orders/\d+">([^<]+)</a>', page)


def test_the_order_list_filters_by_status_country_search_and_dates(app, sessions, alice):
    make_shop(sessions, alice.actor, on_hand=50)  # one pending order to DE by Anna
    place(sessions, alice.actor, country="FR", buyer="Chloé Martin", paid=True, external_id="FR-1")
    place(sessions, alice.actor, country="NL", buyer="Jan de Vries", external_id="NL-1",
          placed_at=(utcnow() - timedelta(days=10)).isoformat())
    b = browser(app, alice)
    assert len(order_refs(text(b.get("/orders")))) == 3
    assert order_refs(text(b.get("/orders?status=paid"))) == ["FR-1"]
    assert order_refs(text(b.get("/orders?country=nl"))) == ["NL-1"]
    assert order_refs(text(b.get("/orders?q=chlo"))) == ["FR-1"]
    assert order_refs(text(b.get("/orders?q=FR-1"))) == ["FR-1"]
    assert len(order_refs(text(b.get("/orders?q=TEA-1")))) == 3
    assert order_refs(text(b.get("/orders?currency=USD"))) == []
    today = utcnow().date()
    assert "NL-1" not in order_refs(text(b.get(f"/orders?from={today - timedelta(days=1)}")))
    assert order_refs(text(b.get(f"/orders?to={today - timedelta(days=5)}"))) == ["NL-1"]
    page = text(b.get("/orders?status=paid&country=FR"))
    assert '<option value="paid" selected>' in page and 'name="country" value="FR"' in page


def test_the_order_list_pages_keep_the_filters(app, sessions, alice):
    make_shop(sessions, alice.actor, on_hand=100)
    for i in range(51):
        place(sessions, alice.actor, external_id=f"X-{i:02d}", country="FR")
    b = browser(app, alice)
    first = text(b.get("/orders?country=FR"))
    assert len(order_refs(first)) == 50 and order_refs(first)[0] == "X-50"
    next_link = re.search(r'rel="next" href="(/orders\?[^"]*cursor=[^"]*)"', first).group(1).replace("&amp;", "&")
    assert "country=FR" in next_link
    assert order_refs(text(b.get(next_link))) == ["X-00"]


def test_a_pending_order_offers_payment_and_cancelling_but_no_shipment(app, sessions, alice):
    shop = make_shop(sessions, alice.actor)
    page = text(browser(app, alice).get(f"/orders/{shop.order_id}"))
    assert re.findall(r'<option value="(\w+)"', page) == ["paid"]
    assert "Cancel order" in page and "Record shipment" not in page
    assert "Anna Schmidt" in page and "10119 Berlin" in page
    # 2 x 12.90 = 25.80, 19 % tax 4.90
    assert re.search(r'id="grand-total">€30.70<', page)


def test_cancelling_an_order_releases_its_stock_and_closes_it(app, sessions, alice):
    shop = make_shop(sessions, alice.actor, on_hand=10, ordered=2)
    b = browser(app, alice)
    cancelled = b.post(f"/orders/{shop.order_id}/cancel", {"note": "buyer changed their mind"})
    assert cancelled.status_code == 302
    page = text(b.get(cancelled.location))
    assert "cancelled; its stock is released" in page
    assert "buyer changed their mind" in page
    assert "Actions" not in page  # a cancelled order is final
    assert stock_row(text(b.get("/stock")), "TEA-1", "MAIN") == (10, 0, 10)
    again = b.post(f"/orders/{shop.order_id}/cancel")
    assert again.status_code == 409
    assert "cannot move from cancelled to cancelled" in text(again)


def test_a_move_the_state_machine_refuses_is_a_409_shown_on_the_status_form(app, sessions, alice):
    shop = make_shop(sessions, alice.actor)
    response = browser(app, alice).post(f"/orders/{shop.order_id}/status", {"status": "delivered"})
    assert response.status_code == 409
    assert "cannot move from pending to delivered" in field_error(text(response), "status")


def test_an_order_ships_only_once_paid(app, sessions, alice):
    shop = make_shop(sessions, alice.actor)
    response = browser(app, alice).post(f"/orders/{shop.order_id}/ship", {"mode": "all"})
    assert response.status_code == 409
    assert "an order that is pending cannot ship" in text(response)


def test_part_of_an_order_ships_line_by_line_and_the_rest_later(app, sessions, alice):
    make_shop(sessions, alice.actor, sku="TEA-1", on_hand=10, ordered=1)
    add_product(sessions, alice.actor, "MUG-1", on_hand=5)
    with scoped(sessions, alice.actor) as session, session.begin():
        order = orders.create_order(session, alice.actor, OrderIn.model_validate({
            "buyer": {"name": "Ben"}, "shipping_address": ADDRESS,
            "lines": [{"sku": "TEA-1", "quantity": 3, "unit_price": "1"}, {"sku": "MUG-1", "quantity": 2,
                                                                            "unit_price": "1"}]}))
        orders.move(session, alice.actor, order.id, StatusMove(status="paid"))
        order_id, (tea, mug) = order.id, [line.id for line in order.lines]
    b = browser(app, alice)
    path = f"/orders/{order_id}"

    none = b.post(f"{path}/ship", {"mode": "lines", f"quantity-{tea}": "", f"quantity-{mug}": ""})
    assert none.status_code == 422 and "no quantities entered" in text(none)
    too_many = b.post(f"{path}/ship", {"mode": "lines", f"quantity-{tea}": "4"})
    assert too_many.status_code == 422
    assert field_error(text(too_many), f"quantity-{tea}") == "only 3 left to ship"
    zero = b.post(f"{path}/ship", {"mode": "lines", f"quantity-{mug}": "0"})
    assert "greater than 0" in field_error(text(zero), f"quantity-{mug}")

    partial = b.post(f"{path}/ship", {"mode": "lines", f"quantity-{tea}": "2", "carrier": "UPS"})
    assert partial.status_code == 302
    page = text(b.get(path))
    assert "the order is partially fulfilled" in page
    assert "2 \u00d7 TEA-1" in page
    assert "TEA-1 (1 open)" in page and "MUG-1 (2 open)" in page
    levels = text(b.get("/stock"))
    assert stock_row(levels, "TEA-1", "MAIN") == (8, 2, 6)  # 1 still held for the first order, 1 for this one
    assert stock_row(levels, "MUG-1", "MAIN") == (5, 2, 3)

    rest = b.post(f"{path}/ship", {"mode": "all"})
    assert rest.status_code == 302
    assert "the order is fulfilled" in text(b.get(path))
    assert stock_row(text(b.get("/stock")), "MUG-1", "MAIN") == (3, 0, 3)


def test_a_partial_refund_needs_an_amount_within_what_is_left(app, sessions, alice):
    shop = make_shop(sessions, alice.actor)  # total 30.70
    b = browser(app, alice)
    path = f"/orders/{shop.order_id}"
    b.post(f"{path}/status", {"status": "paid"})
    assert re.findall(r'<option value="(\w+)"', text(b.get(path))) == ["refunded", "partially_refunded"]

    missing = b.post(f"{path}/status", {"status": "partially_refunded", "amount": ""})
    assert missing.status_code == 422 and "a partial refund needs an amount" in text(missing)
    too_much = b.post(f"{path}/status", {"status": "partially_refunded", "amount": "31"})
    assert too_much.status_code == 422
    assert field_error(text(too_much), "amount") == "at most 30.70"
    refunded = b.post(f"{path}/status", {"status": "partially_refunded", "amount": "10.70"})
    assert refunded.status_code == 302
    page = text(b.get(path))
    assert "now partially refunded" in page
    assert re.search(r"<td>Refunded</td><td class=\"num\">€10.70</td>", page)
