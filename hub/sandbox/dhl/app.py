"""A DHL Express MyDHL API (REST v2) stand-in: https://developer.dhl.com/api-reference/dhl-express-mydhl-api

- Auth: HTTP Basic (401 with MyDHL's problem body {instance, detail, title, message, status}).
- POST /rates: products with totalPrice [{currencyType: BILLC, priceCurrency, price}] as JSON numbers.
- POST /shipments: needs the shipper account, and `Message-Reference` (28-36 characters); a customs-declarable
  route (hub.logistics.customs.needs_declaration) needs `content.isCustomsDeclarable` and an
  `exportDeclaration` with lineItems, a domestic one must not be declarable. The same Message-Reference gives back
  the shipment already created (the hub's idempotency key). Answers shipmentTrackingNumber and documents
  [{imageFormat: PDF, content: base64, typeCode: label}] holding a real, tiny PDF.
- GET /shipments/{number}/tracking: checkpoints SD (data received) -> PU -> WC -> OK.

MyDHL sends no webhooks: shipments are tracked by polling. Control endpoints under /_sandbox/: advance a
shipment, fault knobs (the shared Faults plus `drop_create`: the next N answers of POST /shipments are dropped,
connection closed, after the shipment was made), counts of labels made, the last requests seen.
"""

from __future__ import annotations

import base64
import contextlib
import hmac
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask import Flask, Response, request

from hub.jsonexact import dumps_exact, parse_json
from hub.logistics.customs import needs_declaration
from hub.sandbox.easypost.pdf import label_pdf
from hub.sandbox.faults import Faults

USERNAME = "sandbox-dhl-user"
PASSWORD = "sandbox-dhl-pass"  # noqa: S105  (the sandbox's own test password)
ACCOUNT_NUMBER = "123456789"
PROGRESSION = (("SD", "Shipment information received"), ("PU", "Shipment picked up"),
               ("WC", "With delivery courier"), ("OK", "Delivered"))
# productCode, productName, base EUR, EUR per kg, days
DOMESTIC = (("N", "EXPRESS DOMESTIC", "14.90", "1.20", 1), ("I", "EXPRESS DOMESTIC 9:00", "29.50", "1.80", 1))
INTERNATIONAL = (("P", "EXPRESS WORLDWIDE", "48.15", "6.40", 3), ("T", "EXPRESS 12:00", "71.00", "7.90", 2))


def json_body() -> Any:
    """The request's JSON with exact Decimal numbers (amounts and weights come as JSON numbers); None if not JSON."""
    try:
        return parse_json(request.get_data(as_text=True))
    except ValueError:
        return None


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(dumps_exact(payload), status=status, mimetype="application/json")


def problem(status: int, title: str, detail: str) -> Response:
    return json_response({"instance": request.path, "detail": detail, "title": title, "message": detail,
                          "status": str(status)}, status)


@dataclass
class DhlState:
    clock: Callable[[], datetime]
    shipments: dict[str, dict[str, Any]] = field(default_factory=dict)  # by tracking number
    by_reference: dict[str, str] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)  # shipment requests as received, for tests
    drop_create: int = 0
    labels_made: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock)

    def now(self) -> datetime:
        return self.clock().astimezone(UTC).replace(microsecond=0)


def _price(products: tuple[tuple[str, str, str, str, int], ...], weight: Decimal) -> list[dict[str, Any]]:
    out = []
    for code, name, base, per_kg, days in products:
        price = (Decimal(base) + Decimal(per_kg) * weight).quantize(Decimal("0.01"), ROUND_HALF_UP)
        out.append({"productName": name, "productCode": code, "localProductCode": code,
                    "networkTypeCode": "TD", "weight": {"provided": weight, "unitOfMeasurement": "metric"},
                    "totalPrice": [{"currencyType": "BILLC", "priceCurrency": "EUR", "price": price},
                                   {"currencyType": "PULCL", "priceCurrency": "EUR", "price": price}],
                    "deliveryCapabilities": {"totalTransitDays": str(days)}})
    return out


def _weight(packages: Any) -> Decimal:
    try:
        return sum((Decimal(str(p["weight"])) for p in packages), Decimal(0))
    except (KeyError, TypeError, ArithmeticError):
        return Decimal(0)


def create_app(clock: Callable[[], datetime] | None = None, faults: Faults | None = None) -> Flask:
    state = DhlState(clock=clock or (lambda: datetime.now(UTC)))
    faults = faults or Faults()
    app = Flask("dhl-sandbox")
    app.extensions["sandbox"] = state
    app.extensions["faults"] = faults

    @app.before_request
    def gate() -> Response | None:
        if request.path.startswith("/_sandbox/"):
            return None
        faults.delay()
        if faults.take_throttle():
            return problem(429, "Too Many Requests", "Rate limit exceeded")
        if faults.roll(faults.error_rate):
            return problem(500, "Internal Server Error", "An unexpected error occurred")
        auth = request.authorization
        if (not auth or auth.type != "basic" or not hmac.compare_digest((auth.username or "").encode(),
                                                                         USERNAME.encode())
                or not hmac.compare_digest((auth.password or "").encode(), PASSWORD.encode())):
            return problem(401, "Unauthorized", "Invalid Credentials")
        return None

    @app.post("/rates")
    def rates() -> Response:
        body = json_body() or {}
        details = body.get("customerDetails") or {}
        origin = (details.get("shipperDetails") or {}).get("countryCode")
        destination = (details.get("receiverDetails") or {}).get("countryCode")
        if not origin or not destination:
            return problem(400, "Bad request", "customerDetails: shipperDetails and receiverDetails need a "
                                               "countryCode")
        weight = _weight(body.get("packages") or [])
        if weight <= 0:
            return problem(400, "Bad request", "packages: a weight is required")
        products = DOMESTIC if origin == destination else INTERNATIONAL
        return json_response({"products": _price(products, weight), "exchangeRates": []})

    @app.post("/shipments")
    def create_shipment() -> Response:
        answer = _create()
        with state.lock:
            drop = state.drop_create > 0 and answer.status_code in (200, 201)
            if drop:
                state.drop_create -= 1
        if drop:
            sock = request.environ.get("werkzeug.socket")
            if sock is not None:  # close under the server: the answer is lost after the shipment was made
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        return answer

    def _create() -> Response:
        reference = request.headers.get("Message-Reference", "")
        if not 28 <= len(reference) <= 36:
            return problem(400, "Bad request", "Message-Reference must be between 28 and 36 characters")
        body = json_body() or {}
        with state.lock:
            state.requests.append({"headers": dict(request.headers.items()), "body": body})
            if reference in state.by_reference:
                return json_response(state.shipments[state.by_reference[reference]]["answer"], 201)
        accounts = body.get("accounts") or []
        if not any(a.get("typeCode") == "shipper" and a.get("number") == ACCOUNT_NUMBER for a in accounts):
            return problem(422, "Unprocessable Entity", "accounts: the shipper account number is not valid")
        details = body.get("customerDetails") or {}
        try:
            origin = details["shipperDetails"]["postalAddress"]["countryCode"]
            destination = details["receiverDetails"]["postalAddress"]["countryCode"]
        except (KeyError, TypeError):
            return problem(400, "Bad request", "customerDetails: postalAddress.countryCode is required")
        content = body.get("content") or {}
        declarable = bool(content.get("isCustomsDeclarable"))
        if needs_declaration(origin, destination):
            items = ((content.get("exportDeclaration") or {}).get("lineItems")) or []
            if not declarable or not items:
                return problem(422, "Unprocessable Entity",
                               "content: a dutiable shipment needs isCustomsDeclarable and exportDeclaration.lineItems")
            bad = [i for i, item in enumerate(items) if not (item.get("commodityCodes") and
                                                             item.get("manufacturerCountry"))]
            if bad:
                return problem(422, "Unprocessable Entity", f"exportDeclaration.lineItems[{bad[0]}]: commodityCodes "
                                                            "and manufacturerCountry are required")
        elif declarable or content.get("exportDeclaration"):
            return problem(422, "Unprocessable Entity", "content: a non-dutiable shipment takes no exportDeclaration")
        weight = _weight(content.get("packages") or [])
        if weight <= 0:
            return problem(400, "Bad request", "content.packages: a weight is required")
        product = str(body.get("productCode", ""))
        products = {p[0]: p for p in (DOMESTIC if origin == destination else INTERNATIONAL)}
        if product not in products:
            return problem(422, "Unprocessable Entity", f"productCode {product!r} is not available on this route")
        price = _price((products[product],), weight)[0]["totalPrice"][0]["price"]
        with state.lock:
            if reference in state.by_reference:  # a racing duplicate
                return json_response(state.shipments[state.by_reference[reference]]["answer"], 201)
            number = "".join(str(secrets.randbelow(10)) for _ in range(10))
            receiver = (details["receiverDetails"].get("contactInformation") or {}).get("fullName", "")
            pdf = label_pdf(f"DHL {products[product][1]}", f"WAYBILL {number}", f"TO {receiver}",
                            f"REF {reference}")
            state.labels_made += 1
            host = request.host_url.rstrip("/")
            answer = {
                "url": f"{host}/shipments/{number}", "shipmentTrackingNumber": number,
                "trackingUrl": f"{host}/shipments/{number}/tracking",
                "packages": [{"referenceNumber": 1, "trackingNumber": f"JD01{number}0001",
                              "trackingUrl": f"{host}/shipments/{number}/tracking"}],
                "documents": [{"imageFormat": "PDF", "content": base64.b64encode(pdf).decode(), "typeCode": "label"}],
                "shipmentCharges": [{"currencyType": "BILLC", "priceCurrency": "EUR", "price": price}],
            }
            now = state.now()
            state.shipments[number] = {"answer": answer, "product": product, "origin": origin,
                                       "destination": destination, "events": [("SD", now)], "weight": weight}
            state.by_reference[reference] = number
        return json_response(answer, 201)

    @app.get("/shipments/<number>/tracking")
    def track(number: str) -> Response:
        shipment = state.shipments.get(number)
        if shipment is None:
            return problem(404, "Not Found", "No shipments found for the requested tracking number")
        names = dict(PROGRESSION)
        events = [{"date": when.strftime("%Y-%m-%d"), "time": when.strftime("%H:%M:%S"), "GMTOffset": "+00:00",
                   "typeCode": code, "description": names[code],
                   "serviceArea": [{"code": "LEJ", "description": "Leipzig-DE"}]} for code, when in shipment["events"]]
        return json_response({"shipments": [{
            "shipmentTrackingNumber": number, "status": "Success", "productCode": shipment["product"],
            "shipperDetails": {"postalAddress": {"countryCode": shipment["origin"]}},
            "receiverDetails": {"postalAddress": {"countryCode": shipment["destination"]}},
            "totalWeight": shipment["weight"], "unitOfMeasurements": "metric", "events": events}]})

    # --- sandbox control ---------------------------------------------------------------------------------------
    @app.post("/_sandbox/advance")
    def advance() -> Response:
        """{"tracking": number, "status": optional target code (default: the next checkpoint)}"""
        body = json_body() or {}
        codes = [code for code, _ in PROGRESSION]
        with state.lock:
            shipment = state.shipments.get(str(body.get("tracking", "")))
            if shipment is None:
                return json_response({"error": "no such shipment"}, 404)
            position = codes.index(shipment["events"][-1][0])
            target = body.get("status") or codes[min(position + 1, len(codes) - 1)]
            if target not in codes:
                return json_response({"error": f"status is one of {', '.join(codes)}"}, 400)
            when = max(state.now(), shipment["events"][-1][1] + timedelta(minutes=1))
            for code in codes[position + 1:codes.index(target) + 1]:
                shipment["events"].append((code, when))
                when += timedelta(minutes=1)
            return json_response({"tracking": body.get("tracking"), "status": shipment["events"][-1][0]})

    @app.post("/_sandbox/faults")
    def sandbox_faults() -> Response:
        knobs = dict(json_body() or {})
        with state.lock:
            state.drop_create = int(knobs.pop("drop_create", state.drop_create))
        faults.update(**knobs)
        return json_response({"ok": True})

    @app.get("/_sandbox/stats")
    def sandbox_stats() -> Response:
        return json_response({"labels_made": state.labels_made, "shipments": len(state.shipments)})

    @app.get("/_sandbox/requests")
    def sandbox_requests() -> Response:
        return json_response(state.requests)

    return app
