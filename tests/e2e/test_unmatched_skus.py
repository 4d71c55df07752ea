"""Mapping an unmatched channel SKU to a product in Chromium: pick the product, press Map; the waiting order line
is matched and its stock reserved."""

from __future__ import annotations

from tests.conftest import Account
from tests.e2e.pages import Page, expect, go_to, order_lines, stock_level
from tests.web.channels_support import order_payload
from tests.web.support import make_shop


def test_an_unmatched_sku_is_mapped_in_two_clicks_and_its_order_line_gets_stock(
        page: Page, sessions, seller: Account, pulled_from_fakeshop, screenshot):
    make_shop(sessions, seller.actor, sku="TEA-1", on_hand=10, ordered=1)  # 1 of 10 reserved by a direct order
    pulled_from_fakeshop([order_payload("F-7", "GREEN-250", qty=3)])  # a SKU no product has: the line waits

    go_to(page, "Orders")
    page.get_by_role("link", name="F-7", exact=True).click()
    waiting = order_lines(page).filter(has_text="GREEN-250")
    expect(waiting).to_contain_text("(no matching product)")
    go_to(page, "Stock")
    expect(stock_level(page, "TEA-1", "MAIN").locator(".reserved")).to_have_text("1")

    go_to(page, "Channels")
    page.get_by_role("link", name="Unmatched SKUs").click()
    row = page.get_by_role("row").filter(has_text="GREEN-250")
    expect(row).to_contain_text("Fake shop")
    screenshot(page, "unmatched")
    row.get_by_label("Product for GREEN-250").select_option(label="TEA-1 · Title of TEA-1")  # click one
    row.get_by_role("button", name="Map", exact=True).click()  # click two
    expect(page.get_by_role("status")).to_contain_text("GREEN-250 mapped; 1 waiting order line relinked.")
    expect(page.get_by_text("Every SKU is matched.")).to_be_visible()
    screenshot(page, "mapped")

    go_to(page, "Orders")
    page.get_by_role("link", name="F-7", exact=True).click()
    matched = order_lines(page).filter(has_text="GREEN-250")
    expect(matched.get_by_role("link", name="GREEN-250")).to_be_visible()  # the line links to its product now
    expect(matched).not_to_contain_text("(no matching product)")
    screenshot(page, "order")

    go_to(page, "Stock")
    level = stock_level(page, "TEA-1", "MAIN")
    expect(level.locator(".on-hand")).to_have_text("10")
    expect(level.locator(".reserved")).to_have_text("4")  # 1 + the 3 of the mapped line
    expect(level.locator(".available")).to_have_text("6")
    screenshot(page, "stock")
