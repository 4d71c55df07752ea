"""Products on the dashboard: search, pages, create and edit with translations, delete or archive."""

from __future__ import annotations

import re

import sqlalchemy as sa

from hub.catalog.models import Product, ProductTranslation
from tests.web.support import browser, make_shop, stock_row, text

PRODUCT = {"sku": "MUG-1", "title": "Stoneware mug", "base_price": "18", "is_active": "1", "weight_grams": "420",
           "gtin": "4006381333931", "hs_code": "691200", "country_of_origin": "pt", "description": "Blue."}


def test_a_product_is_created_with_translations_and_shown_with_its_price(app, alice):
    b = browser(app, alice)
    created = b.post("/products/new", {**PRODUCT, "translations[0].locale": "de-DE",
                                       "translations[0].title": "Steinzeugbecher", "translations[1].locale": "",
                                       "translations[2].locale": "fr", "translations[2].title": "Tasse"})
    assert created.status_code == 302
    page = text(b.get(created.location))
    assert 'name="translations[0].locale" value="de_DE"' in page
    assert 'name="translations[1].locale" value="fr"' in page
    assert 'name="country_of_origin" value="PT"' in page
    assert 'name="base_price" value="18.00"' in page
    listing = text(b.get("/products"))
    assert "MUG-1" in listing and "€18.00" in listing and "de_DE, fr" in listing


def test_editing_a_product_replaces_its_fields_and_drops_cleared_translations(app, sessions, alice):
    b = browser(app, alice)
    path = b.post("/products/new", {**PRODUCT, "translations[0].locale": "de", "translations[0].title": "Becher",
                                    "translations[1].locale": "fr", "translations[1].title": "Tasse"}).location
    unchecked = {k: v for k, v in PRODUCT.items() if k != "is_active"}  # an unticked box is not sent
    saved = b.post(path, {**unchecked, "title": "Mug, blue", "gtin": "", "translations[0].locale": "",
                          "translations[0].title": "", "translations[1].locale": "fr",
                          "translations[1].title": "Tasse bleue"})
    assert saved.status_code == 302
    assert "Product MUG-1 saved." in text(b.get(saved.location))
    with sessions() as session:
        product = session.scalars(sa.select(Product)).one()
        assert (product.title, product.gtin, product.is_active) == ("Mug, blue", None, False)
        assert [(t.locale, t.title) for t in session.scalars(sa.select(ProductTranslation))] == [("fr", "Tasse bleue")]


def test_the_product_page_shows_its_stock_per_warehouse_and_its_recent_ledger(app, sessions, alice):
    shop = make_shop(sessions, alice.actor, on_hand=10, ordered=2)
    b = browser(app, alice)
    page = text(b.get(f"/products/{shop.product_id}"))
    assert stock_row(page, "", "MAIN") == (10, 2, 8)
    assert re.search(r"<td>receipt</td>\s*<td class=\"num\">\+10</td>", page)
    assert re.search(r"<td>reservation</td>\s*<td class=\"num\"></td>\s*<td class=\"num\">\+2</td>", page)
    assert f'href="/orders/{shop.order_id}"' in page
    ledger = text(b.get(f"/products/{shop.product_id}/stock"))
    assert "Stock of TEA-1" in ledger and "receipt" in ledger


def test_search_finds_by_sku_or_title_and_pages_follow_the_last_id(app, sessions, alice):
    b = browser(app, alice)
    for i in range(55):
        b.post("/products/new", {"sku": f"SKU-{i:02d}", "title": f"Thing {i}", "base_price": "1"})
    first = text(b.get("/products"))
    assert first.count('href="/products/') == 50 + 1  # the rows and the "New product" button
    next_link = re.search(r'href="(/products\?[^"]*after=\d+[^"]*)"', first).group(1)
    second = text(b.get(next_link))
    assert "SKU-54" in second and "SKU-00" not in second
    assert "Next page" not in second
    found = text(b.get("/products?q=thing 5"))
    assert sorted(re.findall(r">(SKU-\d\d)<", found)) == ["SKU-05", *[f"SKU-{i}" for i in range(50, 55)]]
    assert "No product matches “nothing”." in text(b.get("/products?q=nothing"))


def test_deleting_a_product_without_orders_removes_it(app, alice):
    b = browser(app, alice)
    path = b.post("/products/new", PRODUCT).location
    deleted = b.post(f"{path}/delete")
    assert deleted.status_code == 302
    assert "Product MUG-1 deleted." in text(b.get(deleted.location))
    assert b.get(path).status_code == 404


def test_deleting_a_product_that_is_on_orders_archives_it_and_says_so(app, sessions, alice):
    shop = make_shop(sessions, alice.actor)
    b = browser(app, alice)
    deleted = b.post(f"/products/{shop.product_id}/delete")
    assert "is on orders, so it was archived instead" in text(b.get(deleted.location))
    assert b.get(f"/products/{shop.product_id}").status_code == 404
    assert "TEA-1" in text(b.get(f"/orders/{shop.order_id}"))
    with sessions() as session:
        product = session.get(Product, shop.product_id)
        assert product.deleted_at is not None and not product.is_active
