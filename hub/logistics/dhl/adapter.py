"""The carrier port over the DHL Express MyDHL API (hub.logistics.port.CarrierPort)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hub.errors import PermanentError
from hub.logistics.dhl import mapping
from hub.logistics.dhl.client import DhlClient
from hub.logistics.port import Label, Rate, ShipmentRequest, TrackEvent, TrackingUpdate
from hub.timeutil import utcnow


@dataclass
class DhlCarrier:
    client: DhlClient
    account_number: str
    clock: Callable[[], datetime] = field(default=utcnow)
    kind: str = "dhl"

    def _when(self) -> datetime:
        return self.clock() + timedelta(hours=1)  # MyDHL refuses a planned shipping time in the past

    def quote(self, request: ShipmentRequest) -> list[Rate]:
        return mapping.rates(self.client.rates(mapping.rates_body(request, self.account_number, self._when())))

    def buy(self, request: ShipmentRequest, service: str, *, carrier_shipment_id: str = "",
            created: Callable[[str], None] | None = None) -> Label:
        # One call creates and labels: Message-Reference (the key) is what makes it repeatable.
        body = mapping.shipment_body(request, self.account_number, service, self._when())
        result = self.client.create_shipment(body, request.reference)
        charges = result.get("shipmentCharges") or []
        billed = next((c for c in charges if c.get("currencyType") == "BILLC"), None)
        amount = mapping._money(billed["price"], billed.get("priceCurrency")) if billed else None
        return mapping.label(result, service, amount)

    def cancel(self, carrier_shipment_id: str, tracking_code: str) -> bool:
        # MyDHL has no void: an air waybill never scanned is never billed; the hub just stops using it.
        return True

    def track(self, tracking_code: str, *, carrier: str = "", tracker_id: str = "") -> list[TrackEvent]:
        return mapping.events(self.client.track(tracking_code))

    def parse_webhook(self, headers: Mapping[str, str], body: bytes, secret: str) -> list[TrackingUpdate]:
        raise PermanentError("DHL Express (MyDHL API) sends no webhooks: its shipments are tracked by polling",
                             code="no_webhooks")
