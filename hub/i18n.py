"""Dashboard translation (Flask-Babel): which language a request gets, and names of countries and currencies.

Catalogs live in hub/translations/<locale>/LC_MESSAGES/messages.po; `make` compiles them to .mo (build output,
not committed). Simplified Chinese is the catalog `zh_Hans_CN` (CLDR's full name; a user's `zh`, `zh_CN` or
`zh_Hans` maps to it). The interface language is chosen from the user's locale (which already falls back to the
seller's default_locale, see WebUser), else the browser's Accept-Language, else English. Money, numbers and
dates keep the user's exact locale (en_GB, de_AT, ...), see hub/web/filters.py.
"""

from __future__ import annotations

from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.numbers import get_currency_name
from flask import Flask, request
from flask_babel import Babel
from flask_babel import lazy_gettext as _l

TRANSLATIONS = Path(__file__).parent / "translations"
DEFAULT = "en"
# Interface languages. English is the msgids themselves, so it needs no catalog.
SUPPORTED = ("en", "zh_Hans_CN", "de", "ja")
CHINESE = "zh_Hans_CN"


def N_(message: str) -> str:
    """Marks a message for extraction where it is translated later, e.g. by Flask-Login's localize_callback."""
    return message


def interface_locale(value: str | None) -> str | None:
    """The supported interface language for a locale such as de_AT or zh_CN; None when none fits."""
    if not value:
        return None
    try:
        loc = Locale.parse(value.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return None
    if loc.language == "zh":
        # Only Simplified Chinese is translated; Traditional (zh_Hant, zh_TW, zh_HK) falls through.
        traditional = loc.script == "Hant" or (loc.script is None and loc.territory in ("TW", "HK", "MO"))
        return None if traditional else CHINESE
    return loc.language if loc.language in SUPPORTED else None


def select_locale() -> str:
    from flask_login import current_user

    if getattr(current_user, "is_authenticated", False):
        chosen = interface_locale(getattr(current_user, "locale", None))
        if chosen:
            return chosen
    for value, _quality in request.accept_languages:
        chosen = interface_locale(value)
        if chosen:
            return chosen
    return DEFAULT


def select_timezone() -> str:
    from flask_login import current_user

    return getattr(current_user, "timezone", None) or "UTC"


def init_i18n(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    Babel(app, locale_selector=select_locale, timezone_selector=select_timezone)


def country_name(code: str | None, locale: str) -> str:
    """'Deutschland (DE)': the localised name with the code kept, since sellers search and file by the code."""
    if not code:
        return ""
    name = Locale.parse(locale).territories.get(code.upper())
    return f"{name} ({code})" if name else code


def currency_name(code: str | None, locale: str) -> str:
    if not code:
        return ""
    name = get_currency_name(code, locale=locale)
    return f"{name} ({code})" if name and name != code else code


# Order statuses as shown; the stored values stay the English identifiers.
STATUS_LABELS = {
    "pending": _l("pending"),
    "paid": _l("paid"),
    "partially_fulfilled": _l("partially fulfilled"),
    "fulfilled": _l("fulfilled"),
    "delivered": _l("delivered"),
    "cancelled": _l("cancelled"),
    "refunded": _l("refunded"),
    "partially_refunded": _l("partially refunded"),
}
