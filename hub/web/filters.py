"""Jinja filters: money, numbers and dates for the viewer's locale and timezone, via babel."""

from __future__ import annotations

from copy import copy
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime
from babel.numbers import NumberPattern, format_decimal, parse_pattern
from flask import Flask, g, has_request_context
from flask_babel import get_locale
from flask_login import current_user

from hub import i18n
from hub.money import Money, minor_units


def _viewer() -> tuple[str, ZoneInfo]:
    """The viewer's locale and timezone, worked out once per request: a list page formats hundreds of values, and
    resolving the user, the negotiated locale and the zone for each was a tenth of the page's time."""
    if not has_request_context():
        return "en_GB", ZoneInfo("UTC")
    viewer = g.get("hub_viewer")
    if viewer is None:
        viewer = g.hub_viewer = (_locale(), _tz())
    return viewer


def _locale() -> str:
    # The user's own locale (it falls back to the seller's); anonymous pages use the negotiated language.
    user_locale = getattr(current_user, "locale", None)
    if user_locale:
        return user_locale
    return str(get_locale()) if has_request_context() else "en_GB"


def _tz() -> ZoneInfo:
    return ZoneInfo(getattr(current_user, "timezone", None) or "UTC")


def money(value: Money | Decimal | None, currency: str | None = None) -> str:
    if value is None:
        return ""
    if isinstance(value, Money):
        value, currency = value.amount, value.currency
    return format_money(value, currency, _viewer()[0])


@lru_cache(maxsize=1024)
def _currency_pattern(locale: str, currency: str) -> tuple[Locale, NumberPattern]:
    """The locale's currency pattern, but with ISO 4217 digits (babel's CLDR digits differ for some)."""
    loc = Locale.parse(locale)
    pattern = copy(parse_pattern(loc.currency_formats["standard"]))
    digits = minor_units(currency)
    pattern.frac_prec = (digits, digits)
    return loc, pattern


def format_money(amount: Decimal, currency: str, locale: str) -> str:
    loc, pattern = _currency_pattern(locale, currency)
    return pattern.apply(amount, loc, currency=currency, currency_digits=False)


def number(value: int | Decimal) -> str:
    return format_decimal(value, locale=_viewer()[0])


def when(value: datetime | None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    locale, tz = _viewer()
    return format_datetime(value, format=fmt, tzinfo=tz, locale=locale)


def country(code: str | None) -> str:
    return i18n.country_name(code, _viewer()[0])


def currency(code: str | None) -> str:
    return i18n.currency_name(code, _viewer()[0])


def register(app: Flask) -> None:
    app.add_template_filter(country, "country_name")
    app.add_template_filter(currency, "currency_name")
    app.add_template_filter(money, "money")
    app.add_template_filter(number, "number")
    app.add_template_filter(when, "when")
