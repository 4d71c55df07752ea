"""Jinja filters: money, numbers and dates for the viewer's locale and timezone, via babel.

A list page formats hundreds of values. babel's format_* functions look up the locale and parse its CLDR
pattern on every call; here the viewer's locale, zone and the patterns they use are resolved once (patterns once
per process, the viewer once per request, in `viewer()`), and each value only goes through the parsed pattern's
`apply`, which is where babel does the formatting. The output is babel's own, character for character
(tests/web/test_formats.py compares them).
"""

from __future__ import annotations

from copy import copy
from datetime import UTC, date, datetime, time
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import DateTimePattern, get_date_format, get_datetime_format, get_time_format
from babel.dates import parse_pattern as parse_date_pattern
from babel.numbers import (
    NumberPattern,
    get_currency_name,
    get_currency_symbol,
    parse_pattern,
)
from flask import Flask, g, has_request_context
from flask_babel import get_locale
from flask_login import current_user

from hub import i18n
from hub.money import Money, minor_units

_STANDARD_FORMATS = ("full", "long", "medium", "short")


@lru_cache(maxsize=64)
def _locale_of(identifier: str) -> Locale:
    return Locale.parse(identifier)


@lru_cache(maxsize=1024)
def _currency_pattern(locale: str, currency: str) -> tuple[Locale, NumberPattern, str]:
    """The locale's currency pattern, but with ISO 4217 digits (babel's CLDR digits differ for some), and the
    currency's symbol there."""
    loc = _locale_of(locale)
    pattern = copy(parse_pattern(loc.currency_formats["standard"]))
    digits = minor_units(currency)
    pattern.frac_prec = (digits, digits)
    return loc, pattern, get_currency_symbol(currency, loc)


@lru_cache(maxsize=256)
def _datetime_patterns(locale: str, fmt: str) -> tuple[str, DateTimePattern, DateTimePattern, bool] | DateTimePattern:
    """For a standard format: (how date and time are joined, the date's pattern, the time's, whether the time's
    text depends on more than the clock: a zone or fractions of a second), as babel.dates.format_datetime looks
    them up; for any other, the parsed pattern itself."""
    loc = _locale_of(locale)
    if fmt not in _STANDARD_FORMATS:
        return parse_date_pattern(fmt)
    joined = str(get_datetime_format(fmt, locale=loc)).replace("'", "")
    time_pattern = parse_date_pattern(get_time_format(fmt, locale=loc))
    return (joined, parse_date_pattern(get_date_format(fmt, locale=loc)), time_pattern,
            any(field in time_pattern.pattern for field in "zZvVOXxSA"))


# A list shows many times of few days, and at most 86,400 clock readings: the texts are kept per locale and
# format (each is a pure function of its key), so most cells cost a lookup instead of a pattern's apply.
@lru_cache(maxsize=2048)
def _day_text(locale: str, fmt: str, day: date) -> str:
    return _datetime_patterns(locale, fmt)[1].apply(day, _locale_of(locale))  # type: ignore[index]


@lru_cache(maxsize=8192)
def _clock_text(locale: str, fmt: str, clock: time) -> str:
    return _datetime_patterns(locale, fmt)[2].apply(clock, _locale_of(locale))  # type: ignore[index]


@lru_cache(maxsize=64)
def _decimal_pattern(locale: str) -> NumberPattern:
    """What babel.numbers.format_decimal applies (the locale's standard decimal pattern), parsed once."""
    return parse_pattern(_locale_of(locale).decimal_formats[None])


@lru_cache(maxsize=64)
def _country_names(locale: str) -> dict[str, str]:
    return {}  # filled as codes are asked for: i18n.country_name's text per code


# Prices, totals and counts repeat (the same product's price on many orders, the overview's figures on every
# view until the summary moves): each text is kept per locale like the dates'. The sign is part of the key
# because Decimal("-0") equals Decimal("0") but is written "-0.00".
@lru_cache(maxsize=8192)
def _money_text(locale: str, currency: str, amount: Decimal, _negative: bool) -> str:
    # The currency is put in here, as NumberPattern.apply would: apply looks up the currency's plural name for
    # every value, though only a "¤¤¤" pattern shows it (a quarter of the time a price took).
    loc, pattern, symbol = _currency_pattern(locale, currency)
    text = pattern.apply(amount, loc, currency_digits=False)
    if "¤¤¤" in text:
        text = text.replace("¤¤¤", get_currency_name(currency, amount, loc))
    return text.replace("¤¤", currency.upper()).replace("¤", symbol)


@lru_cache(maxsize=4096)
def _count_text(locale: str, value: int) -> str:
    return _decimal_pattern(locale).apply(value, _locale_of(locale))


class Formats:
    """Values formatted for one locale and timezone (the viewer's, in a request)."""

    __slots__ = ("_countries", "_loc", "locale", "tz")

    def __init__(self, locale: str, tz: ZoneInfo):
        self.locale, self.tz = locale, tz
        self._loc = _locale_of(locale)
        self._countries = _country_names(locale)

    def money(self, amount: Decimal, currency: str) -> str:
        if not isinstance(amount, Decimal):  # an int or a float from a template: formatted as given, not kept
            return _money_text.__wrapped__(self.locale, currency, amount, False)
        return _money_text(self.locale, currency, amount, amount.is_signed())

    def number(self, value: int | Decimal) -> str:
        if type(value) is int:
            return _count_text(self.locale, value)
        return _decimal_pattern(self.locale).apply(value, self._loc)

    def when(self, value: datetime, fmt: str = "medium") -> str:
        local = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(self.tz)  # naive: UTC
        patterns = _datetime_patterns(self.locale, fmt)
        if isinstance(patterns, DateTimePattern):
            return patterns.apply(local, self._loc)
        joined, _date_pattern, time_pattern, zoned = patterns
        day = local.date()
        clock = (time_pattern.apply(local.timetz(), self._loc, reference_date=day) if zoned
                 else _clock_text(self.locale, fmt, local.time().replace(microsecond=0)))
        return joined.replace("{0}", clock).replace("{1}", _day_text(self.locale, fmt, day))

    def country(self, code: str | None) -> str:
        if not code:
            return ""
        name = self._countries.get(code)
        if name is None:
            name = self._countries[code] = i18n.country_name(code, self.locale)
        return name


def format_money(amount: Decimal, currency: str, locale: str) -> str:
    return Formats(locale, ZoneInfo("UTC")).money(amount, currency)


def viewer() -> Formats:
    """The viewer's formats, worked out once per request (resolving the user, the negotiated locale and the zone
    for each value was a tenth of a list page's time)."""
    if not has_request_context():
        return Formats("en_GB", ZoneInfo("UTC"))
    formats = g.get("hub_formats")
    if formats is None:
        formats = g.hub_formats = Formats(_locale(), _tz())
    return formats


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
    return viewer().money(value, currency or "")


def number(value: int | Decimal) -> str:
    return viewer().number(value)


def when(value: datetime | None, fmt: str = "medium") -> str:
    return "" if value is None else viewer().when(value, fmt)


def country(code: str | None) -> str:
    return viewer().country(code)


def currency(code: str | None) -> str:
    return i18n.currency_name(code, viewer().locale)


def register(app: Flask) -> None:
    app.add_template_filter(country, "country_name")
    app.add_template_filter(currency, "currency_name")
    app.add_template_filter(money, "money")
    app.add_template_filter(number, "number")
    app.add_template_filter(when, "when")
