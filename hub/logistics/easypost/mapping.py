"""Hub shipments <-> EasyPost objects. Pure: no I/O, no clock.

- Weights are ounces (decimal, one place), the hub's are grams.
- Customs (https://docs.easypost.com/docs/customs-infos): `customs_info` with `contents_type`, `eel_pfc`,
  `non_delivery_option`, `restriction_type`, `customs_certify`/`customs_signer` and `customs_items` (description,
  quantity, value = the line total, weight, hs_tariff_number, origin_country, currency). A domestic shipment
  sends no customs_info at all.
- Tax ids (IOSS, EORI, VAT) go in the shipment's `tax_identifiers` with entity SENDER: electronic data, never
  printed on the label. The incoterm goes in `options.incoterm`.
- Rates are strings ("7.58") with their currency; read as Decimal, never float.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hub.errors import PermanentError
from hub.logistics import tracking
from hub.logistics.customs import Declaration
from hub.logistics.port import Address, Label, Parcel, Rate, ShipmentRequest, TrackEvent, TrackingUpdate
from hub.money import Money, to_decimal
from hub.timeutil import ensure_utc

GRAMS_PER_OUNCE = Decimal("28.349523125")
CM_PER_INCH = Decimal("2.54")
CONTENTS = {"merchandise": "merchandise", "gift": "gift", "documents": "documents", "sample": "sample",
            "return": "returned_goods"}
# The US Electronic Export Information exemption for goods under USD 2,500 per schedule B number.
EEL_PFC = "NOEEI 30.37(a)"


def ounces(grams: int) -> Decimal:
    return max(Decimal("0.1"), (Decimal(grams) / GRAMS_PER_OUNCE).quantize(Decimal("0.1"), ROUND_HALF_UP))


def inches(cm: int) -> Decimal:
    return (Decimal(cm) / CM_PER_INCH).quantize(Decimal("0.1"), ROUND_HALF_UP)


def address(a: Address) -> dict[str, Any]:
    out = {"name": a.name, "company": a.company, "street1": a.line1, "street2": a.line2, "city": a.city,
           "state": a.state, "zip": a.postal_code, "country": a.country, "phone": a.phone, "email": a.email}
    return {k: v for k, v in out.items() if v}


def parcel(p: Parcel) -> dict[str, Any]:
    return {"length": inches(p.length_cm), "width": inches(p.width_cm), "height": inches(p.height_cm),
            "weight": ounces(p.weight_grams)}


def customs_info(d: Declaration, signer: str) -> dict[str, Any]:
    return {
        "contents_type": CONTENTS[d.contents],
        "contents_explanation": "",
        "eel_pfc": EEL_PFC,
        "non_delivery_option": "return",
        "restriction_type": "none",
        "customs_certify": True,
        "customs_signer": signer,
        "customs_items": [{
            "description": item.description[:255], "quantity": item.quantity, "value": item.value,
            "currency": item.currency, "weight": ounces(item.weight_grams), "hs_tariff_number": item.hs_code,
            "origin_country": item.origin, "code": item.sku,
        } for item in d.items],
    }


def tax_identifiers(d: Declaration) -> list[dict[str, str]]:
    return [{"entity": "SENDER", "tax_id": t.number, "tax_id_type": t.kind,
             "issuing_country": t.number[:2] if t.number[:2].isalpha() and t.kind != "IOSS" else d.to_country}
            for t in d.tax_ids]


def shipment(request: ShipmentRequest, *, reference: str | None = None) -> dict[str, Any]:
    """The `shipment` object of POST /v2/shipments."""
    body: dict[str, Any] = {"to_address": address(request.ship_to), "from_address": address(request.ship_from),
                            "parcel": parcel(request.parcel)}
    if reference:
        body["reference"] = reference
    d = request.declaration
    if d is not None:
        body["customs_info"] = customs_info(d, request.ship_from.name)
        body["options"] = {"incoterm": d.incoterm}
        if d.tax_ids:
            body["tax_identifiers"] = tax_identifiers(d)
    return body


def _money(value: Any, currency: Any, what: str) -> Money:
    try:
        return Money(to_decimal(value), str(currency))
    except (TypeError, ValueError) as exc:
        raise PermanentError(f"easypost: {what} is not an amount: {value!r} {currency!r} ({exc})") from None


def rates(shipment_json: dict[str, Any]) -> list[Rate]:
    out = []
    for raw in shipment_json.get("rates") or []:
        out.append(Rate(carrier=str(raw.get("carrier", "")), service=str(raw.get("service", "")),
                        amount=_money(raw.get("rate"), raw.get("currency"), "rate"), rate_id=str(raw.get("id", "")),
                        carrier_shipment_id=str(shipment_json.get("id", "")),
                        delivery_days=raw.get("delivery_days") if isinstance(raw.get("delivery_days"), int) else None))
    return out


def pick_rate(shipment_json: dict[str, Any], service: str) -> Rate:
    """The rate for `service` ("Priority", or "USPS:Priority" when several carriers offer one of that name)."""
    carrier, _, name = service.rpartition(":")
    found = [r for r in rates(shipment_json) if r.service == name and (not carrier or r.carrier == carrier)]
    if not found:
        offered = ", ".join(f"{r.carrier}:{r.service}" for r in rates(shipment_json)) or "none"
        raise PermanentError(f"easypost offers no service {service!r} for this shipment (offered: {offered})")
    return found[0]


def is_bought(shipment_json: dict[str, Any]) -> bool:
    has_label = bool((shipment_json.get("postage_label") or {}).get("label_url"))
    return has_label and bool(shipment_json.get("tracking_code"))


def label(shipment_json: dict[str, Any], pdf: bytes) -> Label:
    selected = shipment_json.get("selected_rate") or {}
    amount = _money(selected["rate"], selected.get("currency"), "selected_rate") if selected.get("rate") else None
    return Label(carrier_shipment_id=str(shipment_json["id"]), tracking_code=str(shipment_json["tracking_code"]),
                 carrier=str(selected.get("carrier", "")), service=str(selected.get("service", "")), pdf=pdf,
                 amount=amount, tracker_id=str((shipment_json.get("tracker") or {}).get("id", "")))


def _when(value: Any) -> datetime:
    try:
        return ensure_utc(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except ValueError:
        raise PermanentError(f"easypost: not a time with a zone: {value!r}") from None


def _location(raw: dict[str, Any] | None) -> str:
    raw = raw or {}
    return ", ".join(str(raw[k]) for k in ("city", "state", "zip", "country") if raw.get(k))


def events(tracker_json: dict[str, Any]) -> list[TrackEvent]:
    """The tracker's `tracking_details`, normalised (https://docs.easypost.com/docs/trackers#tracking-detail-object)."""
    out = []
    for detail in tracker_json.get("tracking_details") or []:
        raw = str(detail.get("status", ""))
        out.append(TrackEvent(status=tracking.normalise("easypost", raw), carrier_status=raw,
                              occurred_at=_when(detail.get("datetime")),
                              description=str(detail.get("message") or detail.get("description") or ""),
                              location=_location(detail.get("tracking_location"))))
    return out


def tracker_update(tracker_json: dict[str, Any]) -> TrackingUpdate:
    return TrackingUpdate(tracking_code=str(tracker_json.get("tracking_code", "")),
                          events=tuple(events(tracker_json)),
                          carrier_shipment_id=str(tracker_json.get("shipment_id") or ""))
