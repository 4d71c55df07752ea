"""Localisation: every dashboard string is in the Chinese catalog, the language is chosen as documented in
hub/i18n.py, and countries, currencies, money and dates follow the viewer's locale and timezone."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from hub import i18n
from hub.i18n import CHINESE, TRANSLATIONS, interface_locale
from hub.web.filters import format_money
from tests.web.support import browser, make_shop, text
from tests.web.test_dashboard_orders import place

ROOT = Path(__file__).resolve().parents[2]
# The same keywords as `make translations-extract`: babel's defaults plus lazy_gettext and the N_ marker.
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "N_": None}
# German and Japanese cover at least the navigation and the orders pages.
CORE = ("web/templates/layout.html", "web/__init__.py", "i18n.py", "web/orders/")


def extracted() -> dict[str | tuple[str, ...], list[str]]:
    """msgid -> the files (relative to hub/) that use it, extracted through babel.cfg as pybabel does."""
    with open(ROOT / "babel.cfg") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: dict[str | tuple[str, ...], list[str]] = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(
            ROOT / "hub", method_map, options_map, keywords=KEYWORDS):
        found.setdefault(message, []).append(filename)
    return found


def untranslated(locale: str, wanted: dict) -> list[str]:
    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po", "rb") as po:
        catalog = read_po(po)
    missing = []
    for msgid, files in sorted(wanted.items(), key=str):
        key = msgid[0] if isinstance(msgid, tuple) else msgid
        entry = catalog.get(key)
        strings = (entry.string if isinstance(entry.string, tuple) else (entry.string,)) if entry else ("",)
        if entry is None or entry.fuzzy or not all(strings):
            missing.append(f"{msgid!r} (in {', '.join(sorted(set(files)))})")
    return missing


def test_every_dashboard_string_has_a_chinese_translation():
    messages = extracted()
    assert len(messages) > 300  # the extraction really saw the templates
    missing = untranslated(CHINESE, messages)
    assert not missing, "missing from the zh_Hans_CN catalog (run `make translations-extract`, then translate):\n" \
        + "\n".join(missing)


@pytest.mark.parametrize("locale", ["de", "ja"])
def test_german_and_japanese_cover_navigation_and_orders(locale):
    core = {m: files for m, files in extracted().items() if any(f.startswith(CORE) for f in files)}
    assert "Orders" in core and "Ships to" in core
    assert not untranslated(locale, core)


@pytest.mark.parametrize(("value", "expected"), [
    ("zh_CN", CHINESE), ("zh_Hans_CN", CHINESE), ("zh", CHINESE), ("zh-Hans", CHINESE), ("zh_TW", None),
    ("zh_Hant_HK", None), ("de_AT", "de"), ("ja_JP", "ja"), ("en_GB", "en"), ("fr_FR", None), ("", None),
    ("not a locale", None)])
def test_a_locale_maps_to_an_interface_language(value, expected):
    assert interface_locale(value) == expected


def test_the_language_comes_from_the_user_else_the_seller_else_the_browser(app, make_account):
    anonymous = app.test_client()
    assert "登录" in text(anonymous.get("/login", headers={"Accept-Language": "fr, zh-CN;q=0.8"}))
    assert "Anmelden" not in text(anonymous.get("/login", headers={"Accept-Language": "fr"}))
    assert 'lang="en"' in text(anonymous.get("/login"))

    seller_chinese = make_account(default_locale="zh_CN")
    page = text(browser(app, seller_chinese).get("/orders", headers={"Accept-Language": "de"}))
    assert "订单" in page and 'lang="zh-Hans-CN"' in page

    german = make_account(default_locale="zh_CN")
    b = browser(app, german)
    b.post("/account", {"name": "Grete", "locale": "de_DE", "timezone": ""})
    assert "Bestellungen" in text(b.get("/orders"))


def test_the_orders_pages_in_chinese_show_names_money_and_local_times(app, sessions, make_account):
    account = make_account(default_locale="zh_CN", timezone="Asia/Shanghai")
    make_shop(sessions, account.actor, on_hand=5)
    order_id = place(sessions, account.actor, country="DE", external_id="CN-1",
                     placed_at="2025-01-31T20:30:00+00:00")
    b = browser(app, account)
    listing = text(b.get("/orders"))
    assert "发往" in listing and "德国 (DE)" in listing and "待处理" in listing
    assert "2025/2/1 04:30" in listing  # 20:30 UTC is the next morning in Shanghai
    detail = text(b.get(f"/orders/{order_id}"))
    assert "订单 CN-1" in detail and "收货地址" in detail and "€5.00" in detail


def test_country_and_currency_names_follow_the_locale():
    assert i18n.country_name("DE", "zh_CN") == "德国 (DE)"
    assert i18n.country_name("JP", "de_DE") == "Japan (JP)"
    assert i18n.country_name("XX", "en") == "XX"
    assert i18n.currency_name("JPY", "zh_CN") == "日元 (JPY)"
    assert i18n.currency_name("EUR", "ja") == "ユーロ (EUR)"


def test_money_uses_the_locale_pattern_and_iso_digits():
    assert format_money(Decimal("1234.5"), "EUR", "de_DE") == "1.234,50\xa0€"
    assert format_money(Decimal("1234"), "JPY", "ja_JP") == "￥1,234"
    assert format_money(Decimal("1234.5"), "CNY", "zh_Hans_CN") == "¥1,234.50"
    assert datetime(2025, 1, 31, 20, 30, tzinfo=UTC)  # dates: see the Shanghai test above
