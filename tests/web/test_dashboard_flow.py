"""A new seller runs the whole first day over the dashboard: sign-up to a delivered order."""

from __future__ import annotations

import re

from tests.conftest import PASSWORD
from tests.web.support import Browser, stock_row, text


def test_a_new_seller_signs_up_stocks_a_product_and_takes_an_order_through_to_delivery(app):
    b = Browser(app.test_client())
    signed_up = b.post("/signup", {"seller_name": "Kettle & Leaf", "name": "Kim", "email": "kim@leaf.example.com",
                                   "password": PASSWORD, "base_currency": "EUR", "default_locale": "en_GB",
                                   "timezone": "Europe/Berlin"})
    assert signed_up.status_code == 302

    created = b.post("/stock/warehouses", {"code": "BER", "name": "Berlin", "country": "de", "priority": ""})
    assert created.status_code == 302
    assert "Warehouse BER created" in text(b.get(created.location))

    created = b.post("/products/new", {"sku": "TEA-1", "title": "Sencha", "base_price": "12.90", "is_active": "1",
                                       "translations[0].locale": "de", "translations[0].title": "Grüntee"})
    assert created.status_code == 302, text(created)
    product_path = created.location
    product_page = text(b.get(product_path))
    assert "Product TEA-1 created" in product_page
    assert "No stock recorded yet" in product_page

    received = b.post("/stock/receive", {"sku": "TEA-1", "warehouse": "BER", "quantity": "10",
                                         "reason": "first delivery"})
    assert received.status_code == 302
    levels = text(b.get(received.location))
    assert "Received 10 units of TEA-1 into BER: on hand 10, reserved 0, available 10." in levels
    assert stock_row(levels, "TEA-1", "BER") == (10, 0, 10)

    placed = b.post("/orders/new", {
        "buyer.name": "Anna Schmidt", "buyer.email": "anna@example.de",
        "shipping_address.name": "Anna Schmidt", "shipping_address.line1": "Torstraße 1",
        "shipping_address.postal_code": "10119", "shipping_address.city": "Berlin", "shipping_address.country": "DE",
        "lines[0].sku": "TEA-1", "lines[0].quantity": "3", "lines[0].unit_price": "12.90", "lines[0].tax_rate": "19",
        "lines[1].sku": "", "lines[1].quantity": "", "shipping_total": "4.90",
    })
    assert placed.status_code == 302, text(placed)
    order_path = placed.location
    detail = text(b.get(order_path))
    # 3 x 12.90 = 38.70, 19 % tax 7.35, shipping 4.90
    assert "created for €50.95; its stock is reserved" in detail
    assert re.search(r'id="grand-total">€50.95<', detail)
    assert "Torstraße 1" in detail
    assert stock_row(text(b.get("/stock")), "TEA-1", "BER") == (10, 3, 7)
    assert stock_row(text(b.get(product_path)), "", "BER") == (10, 3, 7)

    paid = b.post(f"{order_path}/status", {"status": "paid", "note": "bank transfer arrived"})
    assert paid.status_code == 302
    assert "now paid" in text(b.get(order_path))

    shipped = b.post(f"{order_path}/ship", {"mode": "all", "carrier": "DHL", "tracking_number": "JD0001"})
    assert shipped.status_code == 302, text(shipped)
    detail = text(b.get(order_path))
    assert "the order is fulfilled" in detail
    assert "DHL · JD0001:" in detail
    assert stock_row(text(b.get("/stock")), "TEA-1", "BER") == (7, 0, 7)

    delivered = b.post(f"{order_path}/status", {"status": "delivered"})
    assert delivered.status_code == 302
    detail = text(b.get(order_path))
    assert re.search(r'id="order-status">delivered<', detail)
    for step in ("pending", "pending → paid", "paid → fulfilled", "fulfilled → delivered"):
        assert step in detail
    assert stock_row(text(b.get("/stock")), "TEA-1", "BER") == (7, 0, 7)

    ledger = text(b.get(f"{product_path}/stock"))
    for kind in ("receipt", "reservation", "shipment"):
        assert kind in ledger
    overview = text(b.get("/overview"))
    assert "€50.95" in overview
