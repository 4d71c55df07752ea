"""Switching the dashboard to Chinese in Chromium: the user's own language setting, then the pages in it."""

from __future__ import annotations

import re

from tests.conftest import Account
from tests.e2e.pages import Page, expect, go_to, order_lines
from tests.web.support import make_shop
from tests.web.test_dashboard_orders import place


def test_a_seller_switches_the_dashboard_to_chinese_and_reads_the_orders_in_it(page: Page, sessions, seller: Account,
                                                                              screenshot):
    make_shop(sessions, seller.actor, on_hand=5)
    place(sessions, seller.actor, country="DE", external_id="ZH-1")

    go_to(page, "Account")  # the seller's default is English
    page.get_by_label("Language and region").fill("zh_CN")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("账户")  # the page after saving is in Chinese
    expect(page.locator("html")).to_have_attribute("lang", re.compile(r"^zh\b"))
    screenshot(page, "account")

    go_to(page, "订单")
    expect(page.get_by_role("heading", level=1)).to_have_text("订单")
    placed = page.get_by_role("row").filter(has=page.get_by_role("link", name="ZH-1", exact=True))
    expect(placed).to_contain_text("德国 (DE)")  # country names in Chinese too
    screenshot(page, "orders")
    page.get_by_role("link", name="ZH-1", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("订单 ZH-1")
    expect(page.get_by_role("heading", name="收货地址")).to_be_visible()
    expect(order_lines(page).filter(has_text="TEA-1")).to_be_visible()
    screenshot(page, "order")
