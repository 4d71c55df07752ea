"""Validated inputs for goods and stock (shared by the dashboard forms and the JSON API)."""

from __future__ import annotations

import re
from decimal import Decimal

import pycountry
from pydantic import Field, field_validator

from hub.accounts.schemas import Strict, check_locale

SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._\-/]{0,63}$"


def check_country(value: str) -> str:
    value = value.upper()
    if pycountry.countries.get(alpha_2=value) is None:
        raise ValueError(f"unknown country {value!r} (use an ISO 3166-1 alpha-2 code such as DE)")
    return value


def check_gtin(value: str) -> str:
    """GTIN-8/12/13/14 with a valid GS1 check digit."""
    if not re.fullmatch(r"\d{8}|\d{12,14}", value):
        raise ValueError("a GTIN has 8, 12, 13 or 14 digits")
    digits = [int(d) for d in value]
    body, check = digits[:-1], digits[-1]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    if (10 - total % 10) % 10 != check:
        raise ValueError(f"GTIN {value} has a wrong check digit")
    return value


Price = Field(ge=0, max_digits=15, decimal_places=4)


class Translation(Strict):
    locale: str
    title: str = Field(min_length=1, max_length=255)
    description: str = Field(default="", max_length=20_000)

    _locale = field_validator("locale")(check_locale)


class ProductIn(Strict):
    sku: str = Field(pattern=SKU_PATTERN, description="Unique per seller")
    title: str = Field(min_length=1, max_length=255)
    description: str = Field(default="", max_length=20_000)
    base_price: Decimal = Field(ge=0, max_digits=15, decimal_places=4,
                                description="In the seller's base currency, as a decimal string")
    weight_grams: int | None = Field(default=None, ge=0, le=10_000_000)
    gtin: str | None = None
    hs_code: str | None = Field(default=None, pattern=r"^\d{6,10}$",
                                description="Harmonized System code: 6 to 10 digits (dots and spaces are dropped)")
    country_of_origin: str | None = Field(default=None, description="ISO 3166-1 alpha-2, e.g. DE")
    customs_description: str = Field(default="", max_length=255,
                                     description="What the goods are, for customs (default: the title)")
    is_active: bool = True
    translations: list[Translation] = Field(default_factory=list, max_length=50)

    @field_validator("hs_code", mode="before")
    @classmethod
    def _hs_digits(cls, v: object) -> object:
        """6109.10.00 and 6109 10 00 are how HS codes are printed: keep the digits."""
        if isinstance(v, str):
            v = v.replace(".", "").replace(" ", "")
            return v or None
        return v

    @field_validator("gtin")
    @classmethod
    def _gtin(cls, v: str | None) -> str | None:
        return check_gtin(v) if v else None

    @field_validator("country_of_origin")
    @classmethod
    def _origin(cls, v: str | None) -> str | None:
        return check_country(v) if v else None

    @field_validator("translations")
    @classmethod
    def _unique_locales(cls, v: list[Translation]) -> list[Translation]:
        locales = [t.locale for t in v]
        if len(set(locales)) != len(locales):
            raise ValueError("one translation per locale")
        return v


class WarehouseIn(Strict):
    code: str = Field(pattern=r"^[A-Za-z0-9_\-]{1,32}$")
    name: str = Field(min_length=1, max_length=120)
    country: str
    priority: int = Field(default=100, ge=0, le=10_000)

    _country = field_validator("country")(check_country)


class StockReceipt(Strict):
    sku: str = Field(pattern=SKU_PATTERN)
    warehouse: str = Field(description="Warehouse code")
    quantity: int = Field(gt=0, le=10_000_000)
    reason: str = Field(default="", max_length=255)


class StockAdjustment(Strict):
    """Set or shift on-hand stock after a count; `delta` may be negative."""

    sku: str = Field(pattern=SKU_PATTERN)
    warehouse: str
    delta: int = Field(ge=-10_000_000, le=10_000_000)
    reason: str = Field(min_length=1, max_length=255, description="Why the count changed")

    @field_validator("delta")
    @classmethod
    def _nonzero(cls, v: int) -> int:
        if v == 0:
            raise ValueError("an adjustment of 0 changes nothing")
        return v
