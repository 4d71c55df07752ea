"""The dashboard in Chinese in a real browser: Playwright driving Debian's Chromium (never a downloaded one).

Under CI=true a missing browser fails the test; elsewhere it skips (`make test` installs chromium when it can).
Screenshots go to $HUB_ARTIFACTS (else the test's tmp_path); their paths are printed.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from hub.sandbox.server import running
from tests.conftest import PASSWORD
from tests.web.support import make_shop
from tests.web.test_dashboard_orders import place

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _require_browser():
    missing = not Path(CHROMIUM).exists()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing, sync_playwright = True, None
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail("CI needs chromium and playwright for the browser tests (apt-get install chromium)")
        pytest.skip("no chromium or playwright here")
    return sync_playwright


def test_orders_in_chinese_in_chromium(app, sessions, make_account, tmp_path):
    sync_playwright = _require_browser()
    out = Path(os.environ.get("HUB_ARTIFACTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    account = make_account(timezone="Asia/Shanghai")  # English seller default: the test switches to Chinese
    make_shop(sessions, account.actor, on_hand=5)
    order_id = place(sessions, account.actor, country="DE", external_id="ZH-1")

    with running(app) as base, sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])  # root in containers
        page = chromium.new_page(locale="en-GB")
        page.goto(f"{base}/login")
        page.fill("input[name=email]", account.email)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.goto(f"{base}/account")
        page.fill("input[name=locale]", "zh_CN")
        page.click("form[action='/account'] button[type=submit]")
        assert page.locator("h1").inner_text() == "账户"  # the page after saving is already in Chinese

        page.goto(f"{base}/orders")
        assert page.locator("h1").inner_text() == "订单"
        assert "德国 (DE)" in page.content()
        page.screenshot(path=out / "orders-zh.png", full_page=True)
        page.goto(f"{base}/orders/{order_id}")
        assert page.locator("h1").inner_text().startswith("订单 ZH-1")
        assert "收货地址" in page.content()
        page.screenshot(path=out / "order-zh.png", full_page=True)
        chromium.close()
    print(f"screenshots: {out / 'orders-zh.png'}, {out / 'order-zh.png'}")
