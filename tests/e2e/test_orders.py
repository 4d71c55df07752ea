"""Filtering the orders list and opening an order in Chromium. The list is addressed by its filter form's field
names and the orders' links, never by column positions: its columns, sorting and paging may change."""

from __future__ import annotations

import re

from tests.conftest import Account
from tests.e2e.pages import Page, expect, go_to
from tests.web.support import make_shop
from tests.web.test_dashboard_orders import place


def test_a_seller_filters_the_orders_by_status_and_country_then_opens_one(page: Page, sessions, seller: Account,
                                                                         screenshot):
    make_shop(sessions, seller.actor, on_hand=50)  # stock for the orders below
    place(sessions, seller.actor, country="FR", buyer="Chloé Martin", paid=True, external_id="FR-PAID")
    place(sessions, seller.actor, country="FR", buyer="Louis Bernard", external_id="FR-PENDING")
    place(sessions, seller.actor, country="DE", buyer="Anna Schmidt", paid=True, external_id="DE-PAID")

    go_to(page, "Orders")
    expect(page.get_by_role("heading", name="Orders", exact=True)).to_be_visible()
    for ref in ("FR-PAID", "FR-PENDING", "DE-PAID"):
        expect(page.get_by_role("link", name=ref, exact=True)).to_be_visible()

    filters = page.locator("form[method=get]").filter(has=page.locator("[name=country]"))
    filters.locator("select[name=status]").select_option("paid")
    filters.locator("input[name=country]").fill("FR")
    filters.locator("input[name=country]").press("Enter")  # submits the filter form, whatever its buttons are
    expect(page).to_have_url(re.compile(r"(?=.*[?&]country=FR)(?=.*[?&]status=paid)"))
    expect(page.get_by_role("link", name="FR-PAID", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="FR-PENDING", exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name="DE-PAID", exact=True)).to_have_count(0)
    expect(filters.locator("input[name=country]")).to_have_value("FR")  # the form keeps the filters
    screenshot(page, "filtered")

    page.get_by_role("link", name="FR-PAID", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Order FR-PAID")
    expect(page.locator("#order-status")).to_have_text("paid")
    expect(page.get_by_text("Chloé Martin", exact=True)).to_be_visible()  # the buyer
    expect(page.get_by_role("heading", name="Shipping address")).to_be_visible()
    screenshot(page, "order")
