"""Goods and stock on the dashboard: per product its stock per warehouse and, per channel, what the hub would push
now next to what was last pushed; the product page with its listings and prices; a channel's listings."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa

from hub.accounts.models import Role
from hub.catalog import products, stock
from hub.catalog.models import Product
from hub.catalog.schemas import ProductIn, StockReceipt, WarehouseIn
from hub.channels.models import Channel, ChannelWarehouse, Listing
from tests.web.support import add_user, browser, make_shop, scoped, stock_row, text

PUSHED_AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@dataclass
class Goods:
    product_id: int
    woo_id: int
    shop_id: int


def _channel(session, seller_id: int, name: str, **rules) -> Channel:
    channel = Channel(seller_id=seller_id, kind="woocommerce", name=name, currency="EUR",
                      base_url=f"https://{name.lower().replace(' ', '-')}.example.com", **rules)
    session.add(channel)
    session.flush()
    return channel


def _listing(session, channel: Channel, product_id: int | None, sku: str, **pushed) -> None:
    session.add(Listing(seller_id=channel.seller_id, channel_id=channel.id, channel_sku=sku, product_id=product_id,
                        **pushed))


def make_goods(sessions, account) -> Goods:
    """TEA-1 with 10 on hand in MAIN (2 reserved by an order) and 6 in EAST: 16 on hand, 14 available.

    Woo EU keeps 3 back from every warehouse: lists 11, and was sent 11 (in sync).
    Shop DE sells only MAIN's stock, half of it: (10 - 2) * 50 % = 4; SHOP-TEA was sent 9 (drift, waiting),
    SHOP-TEA-2 was sent 4 but its last price push was refused (push error).
    """
    shop = make_shop(sessions, account.actor, on_hand=10, ordered=2)
    with scoped(sessions, account.actor) as session, session.begin():
        stock.create_warehouse(session, account.actor, WarehouseIn(code="EAST", name="East", country="PL"))
        stock.receive(session, account.actor, StockReceipt(sku="TEA-1", warehouse="EAST", quantity=6))
        main = stock.warehouse_by_code(session, account.seller_id, "MAIN")
        woo = _channel(session, account.seller_id, "Woo EU", stock_buffer=3)
        shop_de = _channel(session, account.seller_id, "Shop DE", stock_percent=50, price_markup=Decimal("0.1"),
                           price_rounding="99")
        session.add(ChannelWarehouse(seller_id=account.seller_id, channel_id=shop_de.id, warehouse_id=main.id))
        _listing(session, woo, shop.product_id, "WOO-TEA", price=Decimal("14.50"), last_pushed_quantity=11,
                 quantity_pushed_at=PUSHED_AT, last_pushed_price=Decimal("14.50"), price_pushed_at=PUSHED_AT)
        _listing(session, shop_de, shop.product_id, "SHOP-TEA", last_pushed_quantity=9, quantity_pushed_at=PUSHED_AT)
        _listing(session, shop_de, shop.product_id, "SHOP-TEA-2", last_pushed_quantity=4, quantity_pushed_at=PUSHED_AT,
                 push_error="price: below the channel's minimum price")
        _listing(session, shop_de, None, "SHOP-MYSTERY")
        return Goods(shop.product_id, woo.id, shop_de.id)


def pushed(page: str, sku: str) -> tuple[str, str, bool, bool]:
    """(expected now, last pushed, waiting to be pushed, push failed) of one listing as the lists show it."""
    match = re.search(rf'<span class="listing" data-listing="{re.escape(sku)}" data-expected="(\d*)" '
                      rf'data-pushed="(\d*)".*?</span>\s*</', page, re.S)
    assert match, f"no listing {sku} shown"
    return match.group(1), match.group(2), "drift" in match.group(0), "push-error" in match.group(0)


def row_of(page: str, marker: str) -> str:
    start = page.index(marker)
    return page[start:page.index("</tr>", start)]


def cell(row: str, css: str) -> str:
    match = re.search(rf'<td class="[^"]*\b{css}\b[^"]*">(.*?)</td>', row, re.S)
    assert match, f"no {css} cell"
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


@contextmanager
def counted_statements(app) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    engine = app.extensions["hub"].engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def test_the_products_list_shows_stock_per_warehouse_and_per_channel_what_would_be_pushed_next_to_what_was(
        app, sessions, alice):
    make_goods(sessions, alice)
    page = text(browser(app, alice).get("/products"))
    row = row_of(page, 'data-product="TEA-1"')
    assert 'data-warehouse="MAIN" data-on-hand="10" data-reserved="2"' in row
    assert 'data-warehouse="EAST" data-on-hand="6" data-reserved="0"' in row
    assert (cell(row, "on-hand"), cell(row, "reserved"), cell(row, "available")) == ("16", "2", "14")
    assert pushed(row, "WOO-TEA") == ("11", "11", False, False)
    assert pushed(row, "SHOP-TEA") == ("4", "9", True, False)
    assert pushed(row, "SHOP-TEA-2") == ("4", "4", False, True)
    assert "SHOP-MYSTERY" not in page  # unmatched: on its own page, linked from here
    assert 'href="/listings/unmatched"' in page


def test_the_product_page_shows_the_same_breakdown_and_each_listings_quantity_price_and_push_status(
        app, sessions, alice):
    goods = make_goods(sessions, alice)
    page = text(browser(app, alice).get(f"/products/{goods.product_id}"))
    assert stock_row(page, "", "MAIN") == (10, 2, 8)
    assert stock_row(page, "", "EAST") == (6, 0, 6)
    assert "16 on hand" in page and "2 reserved" in page and "14 available" in page

    woo = row_of(page, 'data-channel="Woo EU" data-listing="WOO-TEA"')
    assert (cell(woo, "expected"), cell(woo, "pushed")) == ("11", "11")
    assert cell(woo, "listing-price") == "€14.50" and cell(woo, "hub-price").startswith("€14.50")
    assert cell(woo, "pushed-price") == "€14.50" and cell(woo, "push-status") == "in sync"

    drifted = row_of(page, 'data-listing="SHOP-TEA"')
    assert (cell(drifted, "expected"), cell(drifted, "pushed")) == ("4", "9")
    assert cell(drifted, "listing-price") == ""
    assert cell(drifted, "hub-price").startswith("€14.99")  # 12.90 x 1.1 = 14.19, ending .99
    assert cell(drifted, "pushed-price") == "—" and cell(drifted, "push-status") == "waiting to be pushed"

    failed = row_of(page, 'data-listing="SHOP-TEA-2"')
    assert (cell(failed, "expected"), cell(failed, "pushed")) == ("4", "4")
    assert "price: below the channel's minimum price" in cell(failed, "push-status")


def test_a_channels_listings_show_their_push_status_and_filter_to_errors_or_drift(app, sessions, alice):
    goods = make_goods(sessions, alice)
    b = browser(app, alice)
    page = text(b.get(f"/products/listings?channel={goods.shop_id}"))
    assert re.findall(r'<tr data-listing="([^"]+)"', page) == ["SHOP-TEA", "SHOP-TEA-2", "SHOP-MYSTERY"]
    assert pushed(page, "SHOP-TEA") == ("4", "9", True, False)
    assert "unmatched: map it" in row_of(page, 'data-listing="SHOP-MYSTERY"')
    assert pushed(page, "SHOP-MYSTERY")[:2] == ("", "")  # nothing is pushed for an unmatched SKU

    errors = text(b.get(f"/products/listings?channel={goods.shop_id}&errors=1"))
    assert re.findall(r'<tr data-listing="([^"]+)"', errors) == ["SHOP-TEA-2"]
    assert "below the channel&#39;s minimum" in b.get("/products/listings?errors=1").get_data(as_text=True)
    drift = text(b.get("/products/listings?drift=1"))
    assert re.findall(r'<tr data-listing="([^"]+)"', drift) == ["SHOP-TEA"]
    found = text(b.get("/products/listings?q=woo"))
    assert re.findall(r'<tr data-listing="([^"]+)"', found) == ["WOO-TEA"]
    assert f'href="/products/listings?channel={goods.shop_id}"' in text(b.get(f"/channels/{goods.shop_id}"))


def test_another_sellers_product_and_channel_are_not_found(app, sessions, alice, bob):
    goods = make_goods(sessions, alice)
    make_shop(sessions, bob.actor, sku="BOB-1")
    as_bob = browser(app, bob)
    assert as_bob.get(f"/products/{goods.product_id}").status_code == 404
    assert as_bob.get(f"/products/listings?channel={goods.shop_id}").status_code == 404
    for path in ("/products", "/products/listings", "/products/listings?errors=1"):
        page = text(as_bob.get(path))
        assert "WOO-TEA" not in page and "Shop DE" not in page, path
    assert as_bob.get("/products/listings?channel=x1").status_code == 422


def test_a_viewer_reads_the_goods_pages_without_any_form_to_change_them(app, sessions, security, alice):
    goods = make_goods(sessions, alice)
    add_user(sessions, security, alice, Role.VIEWER, "viewer@teas.example.com")
    viewer = browser(app, "viewer@teas.example.com")
    for path in ("/products", f"/products/{goods.product_id}", f"/products/listings?channel={goods.woo_id}"):
        page = viewer.get(path)
        assert page.status_code == 200, path
        assert "WOO-TEA" in text(page), path
        assert re.findall(r'<form method="post"[^>]*>', text(page)) == [
            '<form method="post" action="/logout" class="inline">'], path


def _more_products(sessions, account, count: int) -> None:
    """`count` more products, each in stock and listed on both channels, one of them with a push error."""
    with scoped(sessions, account.actor) as session, session.begin():
        channels = session.scalars(sa.select(Channel).where(Channel.kind != "direct").order_by(Channel.id)).all()
        start = session.scalar(sa.select(sa.func.count()).select_from(Listing))
        for i in range(start, start + count):
            sku = f"BULK-{i:03d}"
            product = products.create_product(session, account.actor,
                                              ProductIn(sku=sku, title=f"Bulk {i}", base_price=Decimal("3.50")))
            session.flush()
            stock.receive(session, account.actor, StockReceipt(sku=sku, warehouse="EAST", quantity=i + 1))
            for channel in channels:
                _listing(session, channel, product.id, f"{channel.id}-{sku}", last_pushed_quantity=i,
                         push_error="stock: refused" if i % 2 else "")


def _statements(app, b, path: str) -> int:
    with counted_statements(app) as statements:
        assert b.get(path).status_code == 200
    return len(statements)


def test_the_number_of_sql_statements_per_page_does_not_grow_with_the_number_of_products(app, sessions, alice):
    goods = make_goods(sessions, alice)
    b = browser(app, alice)
    pages = ("/products", "/products?q=bulk", "/products/listings", f"/products/listings?channel={goods.woo_id}",
             "/products/listings?errors=1&drift=1")
    _more_products(sessions, alice, 2)
    few = {path: _statements(app, b, path) for path in pages}
    _more_products(sessions, alice, 40)
    many = {path: _statements(app, b, path) for path in pages}
    assert many == few
    assert max(many.values()) <= 15, many
    # and the page shows them all: 40 + 3 products, two channels each
    assert text(b.get("/products")).count('<span class="listing"') == 2 * 42 + 3


def test_an_inactive_product_lists_nothing_and_an_inactive_listing_is_not_pushed_as_the_push_job_decides(
        app, sessions, alice):
    goods = make_goods(sessions, alice)
    with sessions.begin() as session:
        session.execute(sa.update(Listing).where(Listing.channel_sku == "SHOP-TEA-2").values(is_active=False))
    b = browser(app, alice)
    assert pushed(text(b.get("/products")), "SHOP-TEA-2")[:2] == ("", "4")
    with sessions.begin() as session:
        session.execute(sa.update(Product).where(Product.id == goods.product_id).values(is_active=False))
    page = text(b.get("/products"))
    assert pushed(page, "WOO-TEA") == ("0", "11", True, False)
    assert cell(row_of(page, 'data-product="TEA-1"'), "available") == "14"  # the stock is still there
