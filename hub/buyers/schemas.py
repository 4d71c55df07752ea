"""Validated inputs and the JSON shapes of the buyer API. Inputs are Strict (unknown fields refused) except where a
field is explicitly accepted and ignored: a line's `unit_price`, since the catalog sets every price."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, EmailStr, Field, field_validator, model_validator

from hub.accounts.schemas import Strict
from hub.catalog.schemas import SKU_PATTERN, check_country
from hub.db import MAX_ID
from hub.orders.schemas import MAX_LINES

PASSWORD_FIELD = Field(min_length=1, max_length=1024)  # the policy says more (hub.accounts.passwords)


class BuyerSignUp(Strict):
    email: EmailStr
    name: str = Field(min_length=1, max_length=200)
    password: str = PASSWORD_FIELD


class BuyerLogin(Strict):
    email: str = Field(min_length=1, max_length=254)
    password: str = PASSWORD_FIELD


class ProfileUpdate(Strict):
    name: str = Field(min_length=1, max_length=200)


class PasswordChange(Strict):
    current_password: str = PASSWORD_FIELD
    new_password: str = PASSWORD_FIELD


class AddressIn(Strict):
    label: str = Field(default="", max_length=60, description="e.g. home, office")
    name: str = Field(min_length=1, max_length=200)
    line1: str = Field(min_length=1, max_length=200)
    line2: str = Field(default="", max_length=200)
    city: str = Field(min_length=1, max_length=100)
    postal_code: str = Field(default="", max_length=20)
    region: str = Field(default="", max_length=100)
    country: str = Field(description="ISO 3166-1 alpha-2")
    phone: str = Field(default="", max_length=40)
    is_default: bool = False

    _country = field_validator("country")(check_country)


class CartLine(Strict):
    sku: str = Field(pattern=SKU_PATTERN)
    quantity: int = Field(gt=0, le=1000)
    unit_price: Decimal | None = Field(default=None, description="Ignored: the price is the catalog's")


class PlaceOrder(Strict):
    lines: list[CartLine] = Field(min_length=1, max_length=MAX_LINES)
    address_id: int | None = Field(default=None, gt=0, le=MAX_ID, description="One of the buyer's addresses")
    shipping_address: AddressIn | None = Field(default=None, description="Or an address given here")
    note: str = Field(default="", max_length=2000)

    @model_validator(mode="after")
    def _one_address(self) -> PlaceOrder:
        if (self.address_id is None) == (self.shipping_address is None):
            raise ValueError("give either address_id or shipping_address")
        return self


class PayIn(Strict):
    account_id: int | None = Field(default=None, gt=0, le=MAX_ID,
                                   description="The seller's payment account; default its first enabled one")
    payment_method: str | None = Field(default=None, min_length=1, max_length=128,
                                       description="A provider token such as Stripe's pm_card_visa")
    return_url: str | None = Field(default=None, max_length=1000, pattern=r"^https?://")


# --- what the API returns ------------------------------------------------------------------------------------

class BuyerOut(BaseModel):
    id: int
    email: str
    name: str
    created_at: datetime


class TokenOut(BaseModel):
    token: str = Field(description="Shown once; send it as 'Authorization: Bearer <token>'")
    expires_at: datetime
    buyer: BuyerOut


class AddressOut(BaseModel):
    id: int
    label: str
    name: str
    line1: str
    line2: str
    city: str
    postal_code: str
    region: str
    country: str
    phone: str
    is_default: bool


class LineOut(BaseModel):
    id: int
    sku: str
    title: str
    quantity: int
    quantity_fulfilled: int
    unit_price: Decimal
    line_total: Decimal


class TrackingOut(BaseModel):
    status: str
    description: str
    location: str
    occurred_at: datetime


class ShipmentOut(BaseModel):
    id: int
    carrier: str
    service: str
    tracking_code: str
    tracking_status: str | None
    events: list[TrackingOut]


class PaymentOut(BaseModel):
    id: int
    provider: str
    status: str
    amount: Decimal
    captured: Decimal
    refunded: Decimal
    currency: str
    action_url: str | None
    failure_reason: str


class OrderOut(BaseModel):
    id: int
    reference: str
    status: str
    currency: str
    subtotal: Decimal
    tax_total: Decimal
    shipping_total: Decimal
    grand_total: Decimal
    placed_at: datetime
    shipping_address: dict[str, Any] | None
    lines: list[LineOut]
    shipments: list[ShipmentOut] = []
    payments: list[PaymentOut] = []
