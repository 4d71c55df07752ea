"""What the browser tests do on the dashboard's pages, named as a person would say it (no tests here).

Everything is found by visible labels, roles and form field names, never by table column positions."""

from __future__ import annotations

import os

import pytest

from tests.conftest import PASSWORD

try:
    from playwright.sync_api import Locator, Page, expect
except ImportError:  # the test modules import it from here: fail under CI, skip elsewhere (as `chromium` does)
    if os.environ.get("CI", "").lower() == "true":
        raise
    pytest.skip("no playwright here", allow_module_level=True)

__all__ = ["Locator", "Page", "expect", "go_to", "log_in", "order_lines", "stock_level"]


def log_in(page: Page, email: str, password: str = PASSWORD) -> None:
    """Fill and send the login form."""
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def go_to(page: Page, area: str) -> None:
    """Click `area` ("Orders", "Stock", "Quarantine", ...) in the top navigation."""
    page.get_by_role("navigation").get_by_role("link", name=area, exact=True).click()


def order_lines(page: Page) -> Locator:
    """The rows of an order page's lines table: the table with a SKU column (the timeline below names SKUs too)."""
    table = page.locator("table").filter(has=page.get_by_role("columnheader", name="SKU", exact=True))
    return table.get_by_role("row")


def stock_level(page: Page, sku: str, warehouse: str) -> Locator:
    """A row of the stock page; its cells are `.on-hand`, `.reserved` and `.available`."""
    return page.locator(f"tr[data-sku='{sku}'][data-warehouse='{warehouse}']")
