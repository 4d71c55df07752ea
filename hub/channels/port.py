"""What crosses the channel boundary: canonical DTOs and one narrow protocol per capability.

Plain dataclasses and Protocols, no Flask, no requests, no ORM: a connector turns a marketplace's
raw JSON into these (in its pure `mapping.py`) and the sync engine turns these into rows.

    OrderSource      pull orders changed since a time, page by page, with a resumable cursor
    InventorySink    set available quantities (in bulk where the API allows)
    PriceSink        set prices
    FulfilmentSink   report a shipment (carrier, tracking number, lines)
    StockSource      read back the quantities the marketplace lists (drift check)
    WebhookSource    verify a delivery's signature and parse its orders
    ReviewSource     read product reviews written since a time, page by page (hub.reviews.pull)
    RatingSink       set a product's aggregate rating where the channel accepts one (hub.reviews.export)

A connector implements the capabilities its marketplace has; `capabilities_of` tells which.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from hub.orders.status import OrderStatus


@dataclass(frozen=True)
class ChannelAddress:
    name: str = ""
    company: str = ""
    line1: str = ""
    line2: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str | None = None  # ISO 3166-1 alpha-2
    phone: str = ""


@dataclass(frozen=True)
class ChannelLine:
    sku: str
    title: str
    quantity: int
    unit_price: Decimal | None  # None where the marketplace has not priced the line yet
    line_total: Decimal | None = None
    tax: Decimal | None = None
    discount: Decimal = Decimal(0)
    external_line_id: str = ""


@dataclass(frozen=True)
class ChannelOrder:
    """An order as the marketplace has it, in canonical terms. Amounts are in `currency`; a total the
    marketplace has not given yet is None, never zero."""

    external_id: str
    status: OrderStatus
    currency: str
    total: Decimal | None
    subtotal: Decimal | None
    shipping: Decimal | None
    tax: Decimal | None
    discount: Decimal | None
    placed_at: datetime  # aware, UTC
    updated_at: datetime  # aware, UTC: orders an older version below a newer one
    lines: tuple[ChannelLine, ...]
    ship_to_country: str | None
    buyer_name: str = ""
    buyer_email: str | None = None
    buyer_phone: str | None = None
    shipping_address: ChannelAddress | None = None
    billing_address: ChannelAddress | None = None
    prices_include_tax: bool = False
    # Facts worth a human look that do not stop the import (e.g. "total differs from parts by 0.02").
    flags: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class OrderPage:
    orders: tuple[ChannelOrder, ...]
    # Orders on the page that could not be mapped: (external id or "", reason, raw payload).
    rejected: tuple[tuple[str, str, dict[str, Any]], ...]
    next_cursor: str | None  # None: this was the last page


@dataclass(frozen=True)
class StockUpdate:
    sku: str
    available: int


@dataclass(frozen=True)
class PriceUpdate:
    sku: str
    price: Decimal
    currency: str


@dataclass(frozen=True)
class PushResult:
    sku: str
    ok: bool
    message: str = ""


@dataclass(frozen=True)
class Shipment:
    external_order_id: str
    carrier: str
    tracking_number: str
    shipped_at: datetime
    lines: tuple[tuple[str, int], ...] = ()  # (external line id, quantity); empty: the whole order


@runtime_checkable
class OrderSource(Protocol):
    def pull_orders(self, since: datetime, cursor: str | None = None) -> OrderPage: ...


@runtime_checkable
class InventorySink(Protocol):
    def push_stock(self, updates: list[StockUpdate]) -> list[PushResult]: ...


@runtime_checkable
class StockSource(Protocol):
    def read_stock(self, skus: list[str]) -> dict[str, int]:
        """SKU -> the quantity the marketplace currently lists; SKUs it does not know are left out."""
        ...


@runtime_checkable
class PriceSink(Protocol):
    def push_prices(self, updates: list[PriceUpdate]) -> list[PushResult]: ...


@runtime_checkable
class FulfilmentSink(Protocol):
    def push_fulfilment(self, shipment: Shipment) -> None: ...


@runtime_checkable
class WebhookSource(Protocol):
    def verify_webhook(self, headers: dict[str, str], body: bytes) -> bool: ...

    def parse_webhook(self, headers: dict[str, str], body: bytes) -> list[ChannelOrder]: ...


@dataclass(frozen=True)
class ChannelReview:
    """A product review as the channel has it. `product_ref` is the channel's product id, `sku` what the connector
    found for it ("" when it could not tell): the hub matches products through its listings by SKU."""

    external_id: str
    product_ref: str
    sku: str
    rating: int  # 1..5
    body: str
    created_at: datetime  # aware, UTC
    reviewer_name: str = ""
    title: str = ""
    photos: tuple[str, ...] = ()
    published: bool = True  # False: the channel holds it back (pending approval, hidden, spam)
    order_ref: str = ""  # the channel's order number, where it gives one


@dataclass(frozen=True)
class ReviewPage:
    reviews: tuple[ChannelReview, ...]
    rejected: tuple[tuple[str, str], ...] = ()  # (review id or "", why it could not be mapped)


# Told by isinstance(connector, ReviewSource / RatingSink); not (yet) among CAPABILITIES, whose lists per
# connector are pinned by the connectors' contract tests.
@runtime_checkable
class ReviewSource(Protocol):
    def fetch_reviews(self, since: datetime) -> Iterator[ReviewPage]:
        """Pages of reviews written at or after `since` (a channel without a time filter reads them all and
        leaves out the older ones)."""
        ...


@dataclass(frozen=True)
class RatingUpdate:
    sku: str
    average: Decimal  # on the 1..5 scale
    count: int  # the reviews it is the average of


@runtime_checkable
class RatingSink(Protocol):
    def push_ratings(self, updates: list[RatingUpdate]) -> list[PushResult]: ...


# capability -> (protocol, the methods it requires)
CAPABILITIES: dict[str, tuple[type, tuple[str, ...]]] = {
    "orders": (OrderSource, ("pull_orders",)),
    "inventory": (InventorySink, ("push_stock",)),
    "stock_levels": (StockSource, ("read_stock",)),
    "prices": (PriceSink, ("push_prices",)),
    "fulfilment": (FulfilmentSink, ("push_fulfilment",)),
    "webhooks": (WebhookSource, ("verify_webhook", "parse_webhook")),
}


def capabilities_of(connector: object) -> list[str]:
    return [name for name, (protocol, _) in CAPABILITIES.items() if isinstance(connector, protocol)]
