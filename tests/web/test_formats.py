"""The dashboard's formats are babel's own output, with babel's lookups done once instead of per value."""

from copy import copy
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from babel import Locale
from babel.dates import format_datetime
from babel.numbers import format_decimal, parse_pattern

from hub.money import minor_units
from hub.web.filters import Formats, format_money

LOCALES = ("en_GB", "de_DE", "ja_JP", "zh_Hans_CN", "fr_FR", "ar_EG", "hi_IN")
ZONES = ("UTC", "Europe/Berlin", "America/Los_Angeles", "Asia/Kolkata")
INSTANTS = (datetime(2026, 3, 29, 0, 30, tzinfo=UTC),  # the night Berlin moves its clocks
            datetime(2026, 11, 3, 23, 59, 59, 999999, tzinfo=UTC), datetime(2025, 1, 1, 0, 0, tzinfo=UTC))


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("fmt", ["short", "medium", "long", "full", "yyyy-MM-dd HH:mm"])
def test_dates_read_exactly_as_babel_formats_them_in_every_zone(locale, fmt):
    for zone in ZONES:
        formats = Formats(locale, ZoneInfo(zone))
        for instant in INSTANTS:
            assert formats.when(instant, fmt) == format_datetime(instant, fmt, tzinfo=ZoneInfo(zone), locale=locale)


def test_a_naive_time_is_taken_as_utc_as_babel_takes_it():
    naive = datetime(2026, 11, 3, 12, 0)
    assert Formats("de_DE", ZoneInfo("Europe/Berlin")).when(naive, "short") == "03.11.26, 13:00"


@pytest.mark.parametrize("locale", LOCALES)
def test_numbers_read_as_babel_formats_them(locale):
    formats = Formats(locale, ZoneInfo("UTC"))
    for value in (0, 7, 1234567, Decimal("-1234.5"), 7, 1234567, -3, Decimal("7.25"), Decimal("-0")):
        assert formats.number(value) == format_decimal(value, locale=locale)


def test_money_keeps_the_currencys_iso_digits_in_any_locale():
    assert format_money(Decimal("1234.5"), "EUR", "de_DE") == "1.234,50\xa0€"
    assert format_money(Decimal("1234"), "JPY", "en_GB") == "JP¥1,234"
    assert format_money(Decimal("12.345"), "KWD", "en_GB") == "KWD12.345"
    assert format_money(Decimal("0.125"), "EUR", "en_GB") == "€0.12"  # half to even, as Money rounds


def test_country_names_are_localised_with_the_code_kept_and_remembered_per_locale():
    german = Formats("de_DE", ZoneInfo("UTC"))
    assert german.country("DE") == "Deutschland (DE)"
    assert german.country("DE") == "Deutschland (DE)"
    assert Formats("fr_FR", ZoneInfo("UTC")).country("DE") == "Allemagne (DE)"
    assert german.country("") == "" and german.country(None) == ""
    assert german.country("XX") == "XX"


@pytest.mark.parametrize("locale", LOCALES)
def test_money_reads_as_babel_applies_the_currency_pattern_with_the_iso_digits(locale):
    for currency in ("EUR", "JPY", "KWD", "CHF", "INR", "CNY"):
        pattern = copy(parse_pattern(Locale.parse(locale).currency_formats["standard"]))
        pattern.frac_prec = (minor_units(currency),) * 2
        # Each value twice, the second time from the formats kept: equal values written alike, a negative zero
        # still negative after a zero was kept.
        for value in (Decimal("0"), Decimal("1234567.891"), Decimal("-42.5"), Decimal("-0"), Decimal("0.00"),
                      Decimal("-42.50"), Decimal("1234567.891"), Decimal("-0.000")):
            expected = pattern.apply(value, Locale.parse(locale), currency=currency, currency_digits=False)
            assert Formats(locale, ZoneInfo("UTC")).money(value, currency) == expected
