"""Fixtures for the browser tests: Playwright driving Debian's Chromium (never a downloaded one), headless.

- `chromium`: one browser per run. A missing chromium or playwright fails the tests under CI=true and skips them
  elsewhere (`make test` installs chromium when it can: `make browser`).
- `live_server`: the test's `app` served over real HTTP on 127.0.0.1 for the test; yields its base URL.
- `seller`: a fresh seller with its owner (the `app` fixture empties every table after the test).
- `anonymous_page`: a new browser context (own cookies) on the live server, nobody logged in.
- `page`: the same, logged in as `seller` through the login form.
- `screenshot`: `screenshot(page, "name")` saves a full-page PNG under $HUB_ARTIFACTS/e2e/<backend>/ (else the
  test's tmp_path) and prints its path.

Pages are addressed by visible labels, roles and form field names, never by table column positions; waiting is
Playwright's own (auto-waiting actions and `expect`), no sleeps.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask

from hub.sandbox.server import running
from tests.conftest import Account

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
TIMEOUT_MS = 15_000  # an upper bound for one action or expectation, not a wait: they return as soon as they can


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    missing = not Path(CHROMIUM).exists()
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        missing = True
    if missing:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI needs chromium and playwright for the browser tests (apt-get install chromium)")
        pytest.skip("no chromium or playwright here")
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox"])  # root in containers
        yield browser
        browser.close()


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    with running(app) as base:
        yield base


@pytest.fixture
def seller(make_account: Callable[..., Account]) -> Account:
    return make_account("Tea Traders", timezone="Europe/Berlin")  # English: the seller's default locale


@pytest.fixture
def anonymous_page(chromium: Browser, live_server: str) -> Iterator[Page]:
    context = chromium.new_context(base_url=live_server, locale="en-GB", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()



@pytest.fixture
def page(anonymous_page: Page, seller: Account) -> Page:
    from playwright.sync_api import expect

    from tests.e2e.pages import log_in

    log_in(anonymous_page, seller.email)
    expect(anonymous_page.get_by_role("button", name="Log out")).to_be_visible()
    return anonymous_page


@pytest.fixture
def screenshot(request: pytest.FixtureRequest, tmp_path: Path, database_url: str) -> Callable[..., Path]:
    artifacts = os.environ.get("HUB_ARTIFACTS")
    backend = database_url.split(":")[0].split("+")[0]  # the suite runs once per backend: keep both sets
    out = Path(artifacts) / "e2e" / backend if artifacts else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    test = request.node.name.removeprefix("test_")

    def shoot(page: Page, name: str, **kw: Any) -> Path:
        path = out / f"{test}--{name}.png"
        page.screenshot(path=path, full_page=True, **kw)
        print(f"screenshot: {path}")
        return path

    return shoot


@pytest.fixture
def pulled_from_fakeshop(app: Flask, seller: Account, monkeypatch: pytest.MonkeyPatch) -> Callable[..., int]:
    """`pulled_from_fakeshop(orders)`: connect a network-free fakeshop channel (tests/web/channels_support.py) for
    `seller` whose pull serves `orders`, pull it once, return the channel's id. Set up through the test client:
    the browser tests drive what comes after."""
    from hub.web.channels import runs
    from tests.web.channels_support import FAKE, install_fakeshop
    from tests.web.support import browser, text

    monkeypatch.setattr(runs, "start_in_background", lambda work, name: work())  # the pull ends with its request
    install_fakeshop(app)

    def pull(orders: list[dict[str, Any]], name: str = "Fake shop") -> int:
        owner = browser(app, seller)
        created = owner.post("/channels/new", {"kind": FAKE, "name": name, "currency": "EUR",
                                               "base_url": "https://fake.example.com",
                                               "options": json.dumps({"orders": orders})})
        assert created.status_code == 302, text(created)
        assert owner.post(created.location + "/sync", {"job": "pull"}).status_code == 302
        return int(created.location.rsplit("/", 1)[1])

    return pull
