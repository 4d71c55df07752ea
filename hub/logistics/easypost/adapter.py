"""The carrier port over the EasyPost API (hub.logistics.port.CarrierPort)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hub.errors import PermanentError
from hub.logistics.easypost import mapping, webhooks
from hub.logistics.easypost.client import EasyPostClient
from hub.logistics.port import Label, Rate, ShipmentRequest, TrackEvent, TrackingUpdate

POSTAGE_EXISTS = "SHIPMENT.POSTAGE.EXISTS"


@dataclass
class EasyPostCarrier:
    client: EasyPostClient
    kind: str = "easypost"

    def quote(self, request: ShipmentRequest) -> list[Rate]:
        # EasyPost rates a shipment: quoting creates one (not bought, never charged) without our reference.
        return mapping.rates(self.client.create_shipment(mapping.shipment(request)))

    def buy(self, request: ShipmentRequest, service: str, *, carrier_shipment_id: str = "",
            created: Callable[[str], None] | None = None) -> Label:
        """Create the shipment (or read the one created by an earlier attempt), buy the rate for `service`, fetch
        the label.

        Each step may be repeated: the shipment's id is handed to `created` before buying and given back on a retry,
        the reference finds the same shipment again, and a second buy is refused with POSTAGE_EXISTS, after which
        the bought shipment is read instead."""
        if carrier_shipment_id:
            shipment = self.client.retrieve_shipment(carrier_shipment_id)
        else:
            shipment = self.client.create_shipment(mapping.shipment(request, reference=request.reference))
            if created is not None:
                created(str(shipment["id"]))
        if not mapping.is_bought(shipment):
            rate = mapping.pick_rate(shipment, service)
            shipment = self._buy(str(shipment["id"]), rate.rate_id)
        if not mapping.is_bought(shipment):
            raise PermanentError(f"easypost: shipment {shipment.get('id')} was bought but has no label")
        pdf = self.client.download_label(str(shipment["postage_label"]["label_url"]))
        return mapping.label(shipment, pdf)

    def _buy(self, shipment_id: str, rate_id: str) -> dict[str, Any]:
        try:
            return self.client.buy_shipment(shipment_id, rate_id)
        except PermanentError as exc:
            # An earlier attempt bought it and its answer was lost: the label is there to read, not to buy again.
            if exc.status == 422 and POSTAGE_EXISTS in exc.message:
                return self.client.retrieve_shipment(shipment_id)
            raise

    def cancel(self, carrier_shipment_id: str, tracking_code: str) -> bool:
        refunded = self.client.refund_shipment(carrier_shipment_id)
        return refunded.get("refund_status") in ("submitted", "refunded")

    def track(self, tracking_code: str, *, carrier: str = "", tracker_id: str = "") -> list[TrackEvent]:
        tracker = (self.client.retrieve_tracker(tracker_id) if tracker_id
                   else self.client.create_tracker(tracking_code, carrier))
        return mapping.events(tracker)

    def parse_webhook(self, headers: Mapping[str, str], body: bytes, secret: str) -> list[TrackingUpdate]:
        webhooks.verify(headers, body, secret)
        return webhooks.parse(body)
