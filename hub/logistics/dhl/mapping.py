"""Hub shipments <-> MyDHL API documents. Pure: no I/O, no clock (the planned time is given).

- Units: metric (`unitOfMeasurement: "metric"`): kilograms with three decimals, centimetres.
- Customs: `content.isCustomsDeclarable` with `declaredValue`/`declaredValueCurrency` and
  `content.exportDeclaration.lineItems[]` (number, description, price = unit price, quantity {value,
  unitOfMeasurement: PCS}, commodityCodes [{typeCode: outbound, value: HS code}], manufacturerCountry, weight
  {netValue, grossValue}); `content.incoterm`. A domestic shipment is not declarable and sends no exportDeclaration.
- Tax ids: `customerDetails.shipperDetails.registrationNumbers[]` {typeCode, number, issuerCountryCode}: VAT,
  EOR (EORI) and SDT (IOSS). DDP adds the value-added service DD (duties and taxes paid by the shipper).
- Prices: `products[].totalPrice[]`, the BILLC entry (in the billing currency); JSON numbers read as Decimal.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hub.errors import PermanentError
from hub.logistics import tracking
from hub.logistics.customs import Declaration
from hub.logistics.port import Address, Label, Parcel, Rate, ShipmentRequest, TrackEvent
from hub.money import Money, minor_units, to_decimal

REGISTRATION_TYPES = {"VAT": "VAT", "EORI": "EOR", "IOSS": "SDT"}
SHIPMENT_TYPES = {"gift": "personal", "sample": "commercial", "documents": "commercial", "merchandise": "commercial",
                  "return": "commercial"}
EXPORT_REASONS = {"gift": "gift", "sample": "sample", "documents": "commercial", "merchandise": "permanent",
                  "return": "return"}


def planned(moment: datetime) -> str:
    """MyDHL's plannedShippingDateAndTime: `2026-11-30T15:00:00GMT+00:00`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") + "GMT+00:00"


def kilograms(grams: int) -> Decimal:
    return max(Decimal("0.001"), (Decimal(grams) / 1000).quantize(Decimal("0.001"), ROUND_HALF_UP))


def postal_address(a: Address) -> dict[str, Any]:
    out = {"postalCode": a.postal_code, "cityName": a.city, "countryCode": a.country, "addressLine1": a.line1,
           "addressLine2": a.line2, "provinceCode": a.state}
    return {k: v for k, v in out.items() if v}


def party(a: Address) -> dict[str, Any]:
    contact = {"fullName": a.name, "companyName": a.company or a.name, "phone": a.phone or "0000000",
               "email": a.email}
    return {"postalAddress": postal_address(a), "contactInformation": {k: v for k, v in contact.items() if v}}


def package(p: Parcel) -> dict[str, Any]:
    return {"weight": kilograms(p.weight_grams),
            "dimensions": {"length": p.length_cm, "width": p.width_cm, "height": p.height_cm}}


def registration_numbers(d: Declaration) -> list[dict[str, str]]:
    out = []
    for t in d.tax_ids:
        issuer = t.number[:2] if t.number[:2].isalpha() and t.kind != "IOSS" else d.to_country
        out.append({"typeCode": REGISTRATION_TYPES[t.kind], "number": t.number, "issuerCountryCode": issuer})
    return out


def _unit_price(value: Decimal, quantity: int, currency: str) -> Decimal:
    exponent = Decimal(1).scaleb(-minor_units(currency))
    return (value / quantity).quantize(exponent, ROUND_HALF_UP)


def export_declaration(d: Declaration, reference: str, when: datetime) -> dict[str, Any]:
    return {
        "lineItems": [{
            "number": i + 1, "description": item.description[:512],
            "price": _unit_price(item.value, item.quantity, item.currency),
            "quantity": {"value": item.quantity, "unitOfMeasurement": "PCS"},
            "commodityCodes": [{"typeCode": "outbound", "value": item.hs_code}],
            "manufacturerCountry": item.origin,
            "weight": {"netValue": kilograms(item.weight_grams), "grossValue": kilograms(item.weight_grams)},
        } for i, item in enumerate(d.items)],
        "invoice": {"number": reference, "date": when.date().isoformat()},
        "exportReason": EXPORT_REASONS[d.contents],
        "shipmentType": SHIPMENT_TYPES[d.contents],
    }


def _content(request: ShipmentRequest, when: datetime, *, full: bool) -> dict[str, Any]:
    d = request.declaration
    content: dict[str, Any] = {"packages": [package(request.parcel)], "isCustomsDeclarable": d is not None,
                               "description": request.description[:70], "unitOfMeasurement": "metric",
                               "incoterm": d.incoterm if d else "DAP"}
    if d is not None:
        content["declaredValue"] = d.total_value
        content["declaredValueCurrency"] = d.currency
        if full:
            content["exportDeclaration"] = export_declaration(d, request.reference, when)
    return content


def _accounts(account_number: str) -> list[dict[str, str]]:
    return [{"typeCode": "shipper", "number": account_number}]


def rates_body(request: ShipmentRequest, account_number: str, when: datetime) -> dict[str, Any]:
    d = request.declaration
    body: dict[str, Any] = {
        "customerDetails": {"shipperDetails": postal_address(request.ship_from),
                            "receiverDetails": postal_address(request.ship_to)},
        "accounts": _accounts(account_number), "plannedShippingDateAndTime": planned(when),
        "unitOfMeasurement": "metric", "isCustomsDeclarable": d is not None,
        "packages": [package(request.parcel)],
    }
    if d is not None:
        body["monetaryAmount"] = [{"typeCode": "declaredValue", "value": d.total_value, "currency": d.currency}]
    return body


def shipment_body(request: ShipmentRequest, account_number: str, product_code: str, when: datetime) -> dict[str, Any]:
    d = request.declaration
    shipper = party(request.ship_from)
    if d is not None and d.tax_ids:
        shipper["registrationNumbers"] = registration_numbers(d)
    body: dict[str, Any] = {
        "plannedShippingDateAndTime": planned(when), "pickup": {"isRequested": False}, "productCode": product_code,
        "accounts": _accounts(account_number),
        "customerDetails": {"shipperDetails": shipper, "receiverDetails": party(request.ship_to)},
        "content": _content(request, when, full=True),
        "customerReferences": [{"value": request.reference[:35], "typeCode": "CU"}],
        "outputImageProperties": {"encodingFormat": "pdf", "imageOptions": [{"typeCode": "label"}]},
    }
    if d is not None and d.incoterm == "DDP":
        body["valueAddedServices"] = [{"serviceCode": "DD"}]
    return body


def _money(value: Any, currency: Any) -> Money:
    try:
        return Money(to_decimal(value), str(currency))
    except (TypeError, ValueError) as exc:
        raise PermanentError(f"dhl: not an amount: {value!r} {currency!r} ({exc})") from None


def rates(result: dict[str, Any]) -> list[Rate]:
    out = []
    for product in result.get("products") or []:
        prices = product.get("totalPrice") or []
        billed = next((p for p in prices if p.get("currencyType") == "BILLC"), prices[0] if prices else None)
        if billed is None or billed.get("price") is None:
            continue
        days = (product.get("deliveryCapabilities") or {}).get("totalTransitDays")
        out.append(Rate(carrier="DHL Express", service=str(product.get("productCode", "")),
                        amount=_money(billed["price"], billed.get("priceCurrency")),
                        delivery_days=int(days) if isinstance(days, int | str) and str(days).isdigit() else None))
    return out


def label(result: dict[str, Any], product_code: str, amount: Money | None = None) -> Label:
    number = str(result.get("shipmentTrackingNumber") or "")
    documents = result.get("documents") or []
    doc = next((x for x in documents if x.get("typeCode") == "label"), documents[0] if documents else None)
    if not number or doc is None:
        raise PermanentError("dhl: the shipment answer has no tracking number or no label")
    try:
        pdf = base64.b64decode(str(doc.get("content", "")), validate=True)
    except (binascii.Error, ValueError):
        raise PermanentError("dhl: the label is not base64") from None
    return Label(carrier_shipment_id=number, tracking_code=number, carrier="DHL Express", service=product_code,
                 pdf=pdf, amount=amount)


def _when(event: dict[str, Any]) -> datetime:
    try:
        moment = datetime.fromisoformat(f"{event['date']}T{event['time']}")
        offset = str(event.get("GMTOffset") or "+00:00")
        sign = -1 if offset.startswith("-") else 1
        hours, _, minutes = offset.lstrip("+-").partition(":")
        zone = timezone(sign * timedelta(hours=int(hours), minutes=int(minutes or 0)))
    except (KeyError, ValueError):
        raise PermanentError(f"dhl: a tracking event without a readable time: {event!r}") from None
    return moment.replace(tzinfo=zone).astimezone(UTC)


def events(result: dict[str, Any]) -> list[TrackEvent]:
    out = []
    for shipment in result.get("shipments") or []:
        for event in shipment.get("events") or []:
            code = str(event.get("typeCode", ""))
            area = (event.get("serviceArea") or [{}])[0]
            out.append(TrackEvent(status=tracking.normalise("dhl", code), carrier_status=code,
                                  occurred_at=_when(event), description=str(event.get("description", "")),
                                  location=str(area.get("description", ""))))
    return out
