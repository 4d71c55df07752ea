"""Response shapes of the JSON API. Amounts are decimal strings with their currency."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from hub.catalog.models import Product, StockLevel
from hub.money import Money


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class MoneyOut(Out):
    amount: Decimal
    currency: str

    @classmethod
    def of(cls, money: Money) -> MoneyOut:
        return cls(amount=money.amount, currency=money.currency)


class TranslationOut(Out):
    locale: str
    title: str
    description: str


class ProductOut(Out):
    id: int
    sku: str
    title: str
    description: str
    price: MoneyOut
    weight_grams: int | None
    gtin: str | None
    hs_code: str | None
    country_of_origin: str | None
    customs_description: str
    is_active: bool
    translations: list[TranslationOut]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, product: Product) -> ProductOut:
        return cls.model_validate({**{k: getattr(product, k) for k in cls.model_fields if k != "price"},
                                   "price": MoneyOut.of(product.price),
                                   "translations": [TranslationOut.model_validate(t) for t in product.translations]})


class ProductPage(Out):
    items: list[ProductOut]
    next_after: int | None


class StockLevelOut(Out):
    sku: str
    warehouse: str
    on_hand: int
    reserved: int
    available: int
    updated_at: datetime

    @classmethod
    def of(cls, level: StockLevel) -> StockLevelOut:
        return cls(sku=level.product.sku, warehouse=level.warehouse.code, on_hand=level.on_hand,
                   reserved=level.reserved, available=level.available, updated_at=level.updated_at)


class StockLevelPage(Out):
    items: list[StockLevelOut]
    next_after: int | None


class WarehouseOut(Out):
    id: int
    code: str
    name: str
    country: str
    priority: int
    is_active: bool


class WarehouseList(Out):
    items: list[WarehouseOut]


class OrderLineOut(Out):
    id: int
    line_no: int
    sku: str
    product_id: int | None
    matched: bool
    title: str
    quantity: int
    quantity_fulfilled: int
    unit_price: Decimal
    discount: Decimal
    tax: Decimal
    line_total: Decimal


class OrderEventOut(Out):
    kind: str
    from_status: str | None
    to_status: str | None
    actor: str
    message: str
    created_at: datetime


class FulfillmentOut(Out):
    id: int
    carrier: str
    tracking_number: str
    created_at: datetime
    lines: dict[int, int]  # order line id -> quantity


class OrderOut(Out):
    id: int
    channel: str
    external_id: str
    status: str
    allowed_moves: list[str]
    currency: str
    subtotal: Decimal
    discount_total: Decimal
    shipping_total: Decimal
    tax_total: Decimal
    grand_total: Decimal
    refunded_total: Decimal
    prices_include_tax: bool
    buyer_name: str
    buyer_email: str | None
    buyer_phone: str | None
    shipping_address: dict | None
    billing_address: dict | None
    placed_at: datetime
    updated_at: datetime
    lines: list[OrderLineOut]


class OrderDetailOut(OrderOut):
    events: list[OrderEventOut]
    fulfillments: list[FulfillmentOut]


class OrderPage(Out):
    items: list[OrderOut]
    next_after: int | None
