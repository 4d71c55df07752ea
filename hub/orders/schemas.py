"""Validated inputs for order use cases (shared by the dashboard forms and the JSON API)."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from pydantic import AwareDatetime, EmailStr, Field, field_validator, model_validator

from hub.accounts.schemas import Strict, check_currency
from hub.catalog.schemas import SKU_PATTERN, check_country
from hub.db import MAX_ID
from hub.orders.status import OrderStatus
from hub.timeutil import ensure_utc

MAX_LINES = 500


def check_utc(value: datetime | None) -> datetime | None:
    """An aware datetime that also exists in UTC (0001-01-01T00:00+01:00 does not)."""
    if value is None:
        return None
    try:
        ensure_utc(value)
    except OverflowError:
        raise ValueError("date is out of range") from None
    return value


class Address(Strict):
    name: str = Field(min_length=1, max_length=200)
    company: str = Field(default="", max_length=200)
    line1: str = Field(min_length=1, max_length=200)
    line2: str = Field(default="", max_length=200)
    city: str = Field(min_length=1, max_length=100)
    region: str = Field(default="", max_length=100)
    postal_code: str = Field(default="", max_length=20)
    country: str = Field(description="ISO 3166-1 alpha-2")
    phone: str = Field(default="", max_length=40)

    _country = field_validator("country")(check_country)


class Buyer(Strict):
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr | None = None
    phone: str | None = Field(default=None, max_length=40)


class LineIn(Strict):
    sku: str = Field(pattern=SKU_PATTERN)
    quantity: int = Field(gt=0, le=100_000)
    unit_price: Decimal = Field(ge=0, max_digits=15, decimal_places=4)
    discount: Decimal = Field(default=Decimal(0), ge=0, max_digits=15, decimal_places=4,
                              description="Amount off the whole line")
    tax_rate: Decimal = Field(default=Decimal(0), ge=0, le=100, max_digits=6, decimal_places=3,
                              description="Percent, e.g. 19 for 19 %")
    title: str | None = Field(default=None, max_length=255, description="Defaults to the product title")


class OrderIn(Strict):
    external_id: str | None = Field(default=None, min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$",
                                    description="Your own order reference; repeating it never creates a duplicate")
    currency: str | None = Field(default=None, description="ISO 4217; defaults to the seller's base currency")
    buyer: Buyer
    shipping_address: Address
    billing_address: Address | None = None
    lines: list[LineIn] = Field(min_length=1, max_length=MAX_LINES)
    shipping_total: Decimal = Field(default=Decimal(0), ge=0, max_digits=15, decimal_places=4)
    expected_total: Decimal | None = Field(default=None, ge=0, max_digits=15, decimal_places=4,
                                           description="If given, must equal the computed grand total")
    placed_at: AwareDatetime | None = None
    note: str = Field(default="", max_length=5000)

    @field_validator("currency")
    @classmethod
    def _currency(cls, v: str | None) -> str | None:
        return check_currency(v) if v else None

    _placed_at = field_validator("placed_at")(check_utc)


class StatusMove(Strict):
    status: OrderStatus
    note: str = Field(default="", max_length=2000)
    amount: Decimal | None = Field(default=None, gt=0, max_digits=15, decimal_places=4,
                                   description="Refunded amount, for partially_refunded")

    @model_validator(mode="after")
    def _amount_only_for_partial_refund(self) -> StatusMove:
        if self.status is OrderStatus.PARTIALLY_REFUNDED and self.amount is None:
            raise ValueError("a partial refund needs an amount")
        if self.status is not OrderStatus.PARTIALLY_REFUNDED and self.amount is not None:
            raise ValueError("amount is only for partially_refunded")
        return self


class ShipLine(Strict):
    line_id: int = Field(gt=0)
    quantity: int = Field(gt=0, le=100_000)


class ShipmentIn(Strict):
    lines: list[ShipLine] | None = Field(default=None, min_length=1, max_length=MAX_LINES,
                                         description="Omit to ship everything still open")
    carrier: str = Field(default="", max_length=64)
    tracking_number: str = Field(default="", max_length=64)


class OrderSort(enum.StrEnum):
    """Orders of the list and the export; each is keyset-paginated on (its key, id), ties broken by id."""

    NEWEST = "newest"  # placed_at descending
    OLDEST = "oldest"  # placed_at ascending
    TOTAL_HIGH = "total_high"  # grand_total (in the order's currency) descending
    TOTAL_LOW = "total_low"  # grand_total ascending


class OrderFilters(Strict):
    status: OrderStatus | None = None
    channel: str | None = Field(default=None, max_length=80)
    country: str | None = None
    currency: str | None = None
    q: str | None = Field(default=None, max_length=200, description="External id, buyer name or email, or SKU")
    placed_from: AwareDatetime | None = None
    placed_to: AwareDatetime | None = None
    unmatched: bool | None = None
    after: int | None = Field(default=None, gt=0, le=MAX_ID,
                              description="Keyset cursor of the default order (newest id first): the last id of "
                                          "the previous page")
    limit: int = Field(default=50, ge=1, le=200)

    _country = field_validator("country")(lambda v: check_country(v) if v else None)
    _currency = field_validator("currency")(lambda v: check_currency(v) if v else None)
    _placed = field_validator("placed_from", "placed_to")(check_utc)


class OrderListQuery(OrderFilters):
    """The dashboard's list: the API's filters plus a sort and signed cursors for its next/previous links (the
    API keeps paging newest-first by `after`, which needs no secret to follow)."""

    sort: OrderSort | None = Field(default=None, description="Order by placed date or total; default newest id first")
    cursor: str | None = Field(default=None, max_length=500,
                               description="Opaque, signed page cursor (the dashboard's next and previous links)")

    @model_validator(mode="after")
    def _one_cursor(self) -> OrderListQuery:
        if self.after is not None and (self.sort is not None or self.cursor is not None):
            raise ValueError("after pages the default order only; with a sort, page with cursor")
        return self

