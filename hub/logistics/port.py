"""The carrier port: what the hub asks of any carrier, in plain dataclasses (no HTTP, no Flask, no ORM).

    quote(request)              -> [Rate]        what each service would cost
    buy(request, service)       -> Label         create the shipment and buy its label; `request.reference` is the
                                                 idempotency key: asking again with it never buys a second label.
                                                 A carrier that creates the shipment before buying reports its id
                                                 through `created`, and is given it back on a retry
                                                 (`carrier_shipment_id`) so that it buys on the same shipment
    cancel(label)               -> bool          void the label (refund); False when the carrier refuses
    track(tracking_code, ...)   -> [TrackEvent]  the events so far, normalised (hub.logistics.tracking)
    parse_webhook(headers, body, secret) -> [TrackingUpdate]   the signature checked first (PermanentError if bad)

Failures are hub.errors: TransientError (worth retrying later) or PermanentError (the carrier refused).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from hub.logistics.customs import Declaration
from hub.money import Money


@dataclass(frozen=True)
class Address:
    name: str
    line1: str
    city: str
    postal_code: str
    country: str  # ISO 3166-1 alpha-2
    line2: str = ""
    state: str = ""
    company: str = ""
    phone: str = ""
    email: str = ""


@dataclass(frozen=True)
class Parcel:
    weight_grams: int
    length_cm: int = 30
    width_cm: int = 20
    height_cm: int = 10


@dataclass(frozen=True)
class ShipmentRequest:
    reference: str  # the hub's idempotency key for this shipment
    ship_from: Address
    ship_to: Address
    parcel: Parcel
    declaration: Declaration | None = None  # None: a domestic (or intra-EU) shipment carries no customs data
    description: str = "Merchandise"


@dataclass(frozen=True)
class Rate:
    carrier: str  # the carrier behind the service (EasyPost resells several)
    service: str  # the carrier's service or product code, as buy() takes it
    amount: Money
    rate_id: str = ""  # the carrier's id of this rate, when it has one
    carrier_shipment_id: str = ""  # the carrier's shipment the rate belongs to, when rating created one
    delivery_days: int | None = None


@dataclass(frozen=True)
class Label:
    carrier_shipment_id: str
    tracking_code: str
    carrier: str
    service: str
    pdf: bytes
    amount: Money | None = None
    tracker_id: str = ""


@dataclass(frozen=True)
class TrackEvent:
    status: str  # the hub's vocabulary: hub.logistics.tracking.STATUSES
    carrier_status: str  # as the carrier said it
    occurred_at: datetime  # UTC, aware
    description: str = ""
    location: str = ""


@dataclass(frozen=True)
class TrackingUpdate:
    """What a carrier's webhook says about one tracking code."""

    tracking_code: str
    events: tuple[TrackEvent, ...] = field(default=())
    carrier_shipment_id: str = ""


class CarrierPort(Protocol):
    kind: str

    def quote(self, request: ShipmentRequest) -> list[Rate]: ...

    def buy(self, request: ShipmentRequest, service: str, *, carrier_shipment_id: str = "",
            created: Callable[[str], None] | None = None) -> Label: ...

    def cancel(self, carrier_shipment_id: str, tracking_code: str) -> bool: ...

    def track(self, tracking_code: str, *, carrier: str = "", tracker_id: str = "") -> list[TrackEvent]: ...

    def parse_webhook(self, headers: Mapping[str, str], body: bytes, secret: str) -> list[TrackingUpdate]: ...
