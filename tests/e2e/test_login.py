"""Logging in through the login form in Chromium."""

from __future__ import annotations

from tests.conftest import Account
from tests.e2e.pages import Page, expect, log_in


def test_a_seller_logs_in_with_the_form_and_sees_the_overview(anonymous_page: Page, seller: Account, screenshot):
    page = anonymous_page
    page.goto("/orders")  # a dashboard page sends a stranger to the login form
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()

    log_in(page, seller.email, "not-the-password-at-all")
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)
    screenshot(page, "refused")

    log_in(page, seller.email)
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    expect(page.locator("header")).to_contain_text("Tea Traders")
    page.goto("/")
    expect(page.get_by_role("heading", name="Overview", exact=True)).to_be_visible()
    screenshot(page, "overview")
