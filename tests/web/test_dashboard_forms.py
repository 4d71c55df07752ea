"""Bad form input is shown next to its field with 422 (or 409 / 403 as the rule says), never a 500."""

from __future__ import annotations

import sqlalchemy as sa
from flask import url_for

from hub.catalog.models import Product, StockLevel
from hub.orders.models import Order
from tests.customers.support import customer_ids
from tests.web.channels_support import make_sync_records
from tests.web.support import (
    browser,
    dashboard_rules,
    field_error,
    make_invitation,
    make_money_records,
    make_shop,
    methods,
    stock_row,
    text,
)
from tests.web.test_dashboard_access import VALID_FORMS

ORDER = VALID_FORMS["orders.new_order"]


def test_an_unknown_currency_on_a_new_order_is_shown_next_to_the_currency_and_the_form_keeps_its_values(
        app, sessions, alice):
    make_shop(sessions, alice.actor)
    b = browser(app, alice)
    response = b.post("/orders/new", {**ORDER, "currency": "XYZ"})
    assert response.status_code == 422
    page = text(response)
    assert "unknown currency 'XYZ'" in field_error(page, "currency")
    assert 'name="buyer.name" value="Ben"' in page
    assert 'name="lines[0].sku" value="TEA-1"' in page


def test_an_unknown_sku_is_shown_on_its_line_even_after_blank_rows(app, sessions, alice):
    make_shop(sessions, alice.actor)
    b = browser(app, alice)
    response = b.post("/orders/new", {**{k: v for k, v in ORDER.items() if not k.startswith("lines")},
                                      "lines[0].sku": "", "lines[0].quantity": "",
                                      "lines[1].sku": "NOPE-1", "lines[1].quantity": "1", "lines[1].unit_price": "1"})
    assert response.status_code == 422
    page = text(response)
    assert field_error(page, "lines[0].sku") == "no product with SKU NOPE-1"
    assert 'name="lines[0].sku" value="NOPE-1"' in page  # the blank row is gone, the rows renumbered


def test_an_order_with_no_lines_at_all_says_so(app, sessions, alice):
    b = browser(app, alice)
    response = b.post("/orders/new", {k: v for k, v in ORDER.items() if not k.startswith("lines")})
    assert response.status_code == 422
    assert "lines: Field required" in text(response)


def test_ordering_more_than_is_in_stock_is_a_409_on_the_quantity_and_reserves_nothing(app, sessions, alice):
    make_shop(sessions, alice.actor, on_hand=10, ordered=2)
    b = browser(app, alice)
    response = b.post("/orders/new", {**ORDER, "lines[0].quantity": "9"})
    assert response.status_code == 409
    assert field_error(text(response), "lines[0].quantity") == "only 8 available"
    assert stock_row(text(b.get("/stock")), "TEA-1", "MAIN") == (10, 2, 8)
    with sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Order)) == 1


def test_a_price_finer_than_the_currency_allows_is_refused_on_its_line(app, sessions, alice):
    make_shop(sessions, alice.actor)
    b = browser(app, alice)
    response = b.post("/orders/new", {**ORDER, "lines[0].unit_price": "1.234"})
    assert response.status_code == 422
    assert field_error(text(response), "lines[0].unit_price") == "at most 2 decimal places for EUR"


def test_receiving_a_negative_quantity_or_an_unknown_sku_or_warehouse_is_refused_next_to_the_field(
        app, sessions, alice):
    make_shop(sessions, alice.actor)
    b = browser(app, alice)
    cases = [({"quantity": "-3"}, "quantity", "greater than 0"),
             ({"quantity": "two"}, "quantity", "valid integer"),
             ({"sku": "NOPE-1"}, "sku", "unknown SKU"),
             ({"warehouse": "ELSEWHERE"}, "warehouse", "unknown warehouse")]
    for change, name, message in cases:
        response = b.post("/stock/receive", {**VALID_FORMS["stock.receive"], **change})
        assert response.status_code == 422, change
        assert message in field_error(text(response), name), change
    assert stock_row(text(b.get("/stock")), "TEA-1", "MAIN") == (10, 2, 8)


def test_adjusting_away_reserved_units_is_a_409_that_says_how_many_may_go(app, sessions, alice):
    make_shop(sessions, alice.actor, on_hand=10, ordered=2)
    b = browser(app, alice)
    response = b.post("/stock/adjust", {**VALID_FORMS["stock.adjust"], "delta": "-9"})
    assert response.status_code == 409
    page = text(response)
    assert field_error(page, "delta") == "at least -8"
    assert "at most 8 can be removed" in page
    assert b.post("/stock/adjust", {**VALID_FORMS["stock.adjust"], "delta": "0"}).status_code == 422
    assert b.post("/stock/adjust", {**VALID_FORMS["stock.adjust"], "reason": ""}).status_code == 422
    assert stock_row(text(b.get("/stock")), "TEA-1", "MAIN") == (10, 2, 8)


def test_product_form_errors_are_shown_per_field(app, sessions, alice):
    make_shop(sessions, alice.actor)
    b = browser(app, alice)
    good = VALID_FORMS["catalog.new_product"]
    duplicate = b.post("/products/new", {**good, "sku": "TEA-1"})
    assert duplicate.status_code == 409
    assert field_error(text(duplicate), "sku") == "already used"
    cases = [({"gtin": "4006381333932"}, "gtin", "wrong check digit"),
             ({"base_price": "-1"}, "base_price", "greater than or equal to 0"),
             ({"base_price": "abc"}, "base_price", "valid decimal"),
             ({"country_of_origin": "XX"}, "country_of_origin", "unknown country"),
             ({"translations[0].locale": "xx_YY", "translations[0].title": "T"}, "translations[0].locale",
              "unknown locale"),
             ({"translations[0].locale": "de"}, "translations[0].title", "Field required")]
    for change, name, message in cases:
        response = b.post("/products/new", {**good, **change})
        assert response.status_code == 422, change
        assert message in field_error(text(response), name), change
    twice = b.post("/products/new", {**good, "translations[0].locale": "de", "translations[0].title": "A",
                                     "translations[1].locale": "de", "translations[1].title": "B"})
    assert twice.status_code == 422
    assert "one translation per locale" in text(twice)
    with sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Product)) == 1


def test_warehouse_form_errors_are_shown_per_field(app, sessions, alice):
    make_shop(sessions, alice.actor)
    b = browser(app, alice)
    response = b.post("/stock/warehouses", {"code": "W 2", "name": "", "country": "XX", "priority": "-1"})
    assert response.status_code == 422
    page = text(response)
    for name in ("code", "name", "country", "priority"):
        assert field_error(page, name)
    duplicate = b.post("/stock/warehouses", {"code": "MAIN", "name": "Again", "country": "DE"})
    assert duplicate.status_code == 409
    assert field_error(text(duplicate), "code") == "already used"


def test_bad_order_filters_are_shown_with_422_and_list_nothing(app, sessions, alice):
    make_shop(sessions, alice.actor)
    b = browser(app, alice)
    for query, name in (("country=XX", "country"), ("currency=ABC", "currency"), ("status=lost", "status"),
                        ("from=yesterday", "from"), ("to=2024-02-30", "to"), ("after=-4", "after"),
                        ("from=0001-01-01", "from")):
        response = b.get(f"/orders?{query}")
        assert response.status_code == 422, query
        page = text(response)
        assert "No order matches these filters." in page, query
        if name != "after":
            assert 'class="error"' in page.split(f'name="{name}"')[1].split("</label>")[0], query


JUNK = ["", " ", "-1", "0", "1.5", "1e309", "NaN", "Infinity", "9" * 40, "x" * 5000, "<script>alert(1)</script>",
        "DROP TABLE orders; --", "lines[0]", "ü∂√", "2147483648", "nul\x00byte"]
JUNK_NAMES = ["lines[0].sku", "lines[99999].quantity", "lines[x].sku", "lines", "lines.0", "buyer", "buyer[0]",
              "translations[0]", "translations", "a..b", "[0]", "mode", "status", "quantity-1", "quantity-99999999999",
              "name\x00"]


def test_no_junk_in_any_dashboard_form_ever_causes_a_server_error(app, sessions, alice):
    shop = make_shop(sessions, alice.actor)
    b = browser(app, alice)
    ids = {"product_id": shop.product_id, "order_id": shop.order_id, "user_id": alice.user_id, "token_id": 1,
           "invitation_id": make_invitation(sessions, alice), **make_sync_records(app, alice.actor),
           **make_money_records(app, alice.actor, shop.order_id), **customer_ids(sessions, shop.order_id)}
    posts = [rule for rule in dashboard_rules(app) if "POST" in methods(rule)
             and rule.endpoint not in {"account.password", "account.deactivate_user"}]  # keep the login alive
    failures = []
    for rule in posts:
        with app.test_request_context():
            path = url_for(rule.endpoint, **{name: ids[name] for name in rule.arguments})
        valid = VALID_FORMS.get(rule.endpoint, {})
        forms = [{}] + [dict.fromkeys([*valid, *JUNK_NAMES], value) for value in JUNK] + [
            {**valid, name: value} for name in valid for value in JUNK]
        for form in forms:
            response = b.post(path, form)
            if response.status_code >= 500:
                failures.append(f"{path} {form}: {response.status_code}")
    for query in ("q=%00", "q=" + "x" * 5000, "after=1e9", "after=99999999999", "status=%00", "from=9999-12-31",
                  "to=0001-01-01", "country=%00", "q=%25_%5C"):
        for page in ("/products", "/stock", "/orders", "/quarantine", "/quarantine?channel=1&"):
            if (response := b.get(f"{page}?{query}")).status_code >= 500:
                failures.append(f"{page}?{query}: {response.status_code}")
    assert not failures, "\n".join(failures[:20])
    with sessions() as session:
        levels = session.scalars(sa.select(StockLevel)).all()
        assert all(level.on_hand >= level.reserved >= 0 for level in levels)


def test_amounts_too_large_to_store_are_refused_as_input_not_a_server_error(app, sessions, alice):
    make_shop(sessions, alice.actor, on_hand=200_000, ordered=1)
    b = browser(app, alice)
    # 100,000 x 99,999,999,999.99 would not fit an amount column; it is refused the same on both backends.
    response = b.post("/orders/new", {**ORDER, "lines[0].unit_price": "99999999999.99", "lines[0].quantity": "100000"})
    assert response.status_code == 422
    assert "more than the 1,000,000,000,000 an order may total" in text(response)
    with sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Order)) == 1


def test_nul_characters_are_refused_before_they_reach_the_database(app, sessions, alice):
    make_shop(sessions, alice.actor)
    b = browser(app, alice)
    for response in (b.get("/products?q=a%00b"), b.get("/orders?q=%00"),
                     b.post("/products/new", {**VALID_FORMS["catalog.new_product"], "title": "Te\x00a"})):
        assert response.status_code == 422
        assert "NUL" in text(response)
