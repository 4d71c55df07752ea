"""An EasyPost API v2 stand-in: https://docs.easypost.com/docs

- Auth: HTTP Basic, the API key as user name (401 APIKEY.REQUIRED / APIKEY.INVALID).
- POST /v2/shipments returns the shipment with its rates (USD); an international route (as
  hub.logistics.customs.needs_declaration sees it) without `customs_info` is refused 422 like EasyPost's buy.
  A `reference` already used returns that shipment again (the hub's idempotency key).
- POST /v2/shipments/{id}/buy {rate: {id}}: postage_label.label_url (a real, tiny PDF), tracking_code, tracker;
  a second buy is refused 422 SHIPMENT.POSTAGE.EXISTS. POST .../refund: refund_status "submitted", or
  "rejected" once the parcel was scanned.
- POST /v2/trackers, deduplicated on carrier + tracking code; GET /v2/trackers/{id}.
- Webhooks: each tracker change makes an Event `tracker.updated`, signed `X-Hmac-Signature:
  hmac-sha256-hex=<hex HMAC-SHA256(body, secret)>`; posted to the configured URL, and kept for the test to fetch
  (GET /_sandbox/webhooks).

Control endpoints under /_sandbox/: advance a tracker (pre_transit -> in_transit -> out_for_delivery ->
delivered), configure webhooks, fault knobs (the shared Faults plus `drop_buy`: the next N answers of the buy
call are dropped, connection closed, after the purchase is made), and counts of labels bought.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import requests
from flask import Flask, Response, request

from hub.jsonexact import dumps_exact, parse_json
from hub.logistics.customs import needs_declaration
from hub.sandbox.easypost.pdf import label_pdf
from hub.sandbox.faults import Faults

log = logging.getLogger(__name__)

API_KEY = "EZTKsandbox0000000000000000000000"  # the sandbox's own test key
WEBHOOK_SECRET = "easypost-sandbox-webhook-secret"  # noqa: S105  (test secret)
PROGRESSION = ("pre_transit", "in_transit", "out_for_delivery", "delivered")
MESSAGES = {"pre_transit": "Shipping Label Created", "in_transit": "Arrived at USPS Regional Facility",
            "out_for_delivery": "Out for Delivery", "delivered": "Delivered, In/At Mailbox"}
# (carrier, service, base USD, USD per ounce, days); international services only off the domestic route.
DOMESTIC = (("USPS", "GroundAdvantage", "4.75", "0.09", 5), ("USPS", "Priority", "7.58", "0.12", 2),
            ("UPS", "NextDayAir", "31.20", "0.30", 1))
INTERNATIONAL = (("USPS", "PriorityMailInternational", "42.10", "0.35", 8),
                 ("DHLExpress", "ExpressWorldwideNonDoc", "58.90", "0.41", 3))


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(16)}"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def json_body() -> Any:
    """The request's JSON with exact Decimal numbers (amounts and weights come as JSON numbers); None if not JSON."""
    try:
        return parse_json(request.get_data(as_text=True))
    except ValueError:
        return None


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(dumps_exact(payload), status=status, mimetype="application/json")


def ep_error(code: str, message: str, status: int, errors: list[Any] | None = None) -> Response:
    return json_response({"error": {"code": code, "message": message, "errors": errors or []}}, status)


def signature(body: bytes, secret: str) -> str:
    return "hmac-sha256-hex=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class EasyPostState:
    clock: Callable[[], datetime]
    shipments: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_reference: dict[str, str] = field(default_factory=dict)
    trackers: dict[str, dict[str, Any]] = field(default_factory=dict)
    tracker_keys: dict[tuple[str, str], str] = field(default_factory=dict)
    labels: dict[str, bytes] = field(default_factory=dict)
    webhooks: list[dict[str, Any]] = field(default_factory=list)  # every delivery made: {"headers", "body"}
    webhook_url: str = ""
    webhook_secret: str = WEBHOOK_SECRET
    drop_buy: int = 0
    labels_bought: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock)

    def now(self) -> datetime:
        return self.clock().astimezone(UTC).replace(microsecond=0)


def create_app(clock: Callable[[], datetime] | None = None, faults: Faults | None = None,
               webhook_url: str = "", webhook_secret: str = WEBHOOK_SECRET) -> Flask:
    state = EasyPostState(clock=clock or (lambda: datetime.now(UTC)), webhook_url=webhook_url,
                          webhook_secret=webhook_secret)
    faults = faults or Faults()
    app = Flask("easypost-sandbox")
    app.extensions["sandbox"] = state
    app.extensions["faults"] = faults

    @app.before_request
    def gate() -> Response | None:
        if not request.path.startswith("/v2/"):
            return None
        faults.delay()
        if faults.take_throttle():
            return ep_error("RATE_LIMITED", "You have exceeded the rate limit.", 429)
        if faults.roll(faults.error_rate):
            return ep_error("INTERNAL_SERVER_ERROR", "Something went wrong on our end.", 500)
        auth = request.authorization
        if not auth or auth.type != "basic" or not auth.username:
            return ep_error("APIKEY.REQUIRED", "No API key found on request.", 401)
        if not hmac.compare_digest(auth.username.encode(), API_KEY.encode()):
            return ep_error("APIKEY.INVALID", "The API key provided is not valid.", 401)
        return None

    # --- shipments ---------------------------------------------------------------------------------------------
    @app.post("/v2/shipments")
    def create_shipment() -> Response:
        body = (json_body() or {}).get("shipment")
        if not isinstance(body, dict):
            return ep_error("PARAMETER.REQUIRED", "Missing required parameter: shipment.", 422)
        missing = [k for k in ("to_address", "from_address", "parcel") if not isinstance(body.get(k), dict)]
        if missing:
            return ep_error("PARAMETER.REQUIRED", f"Missing required parameter: {missing[0]}.", 422,
                            [{"field": k, "message": "cannot be blank"} for k in missing])
        origin, destination = body["from_address"].get("country", ""), body["to_address"].get("country", "")
        international = needs_declaration(origin, destination)
        if international and not body.get("customs_info"):
            return ep_error("SHIPMENT.CUSTOMS_INFO.REQUIRED",
                            "Customs information is required for international shipments.", 422)
        weight = Decimal(str(body["parcel"].get("weight") or 0))
        if weight <= 0:
            return ep_error("SHIPMENT.PARCEL.WEIGHT.INVALID", "Parcel weight must be greater than zero.", 422)
        reference = body.get("reference")
        with state.lock:
            if reference and reference in state.by_reference:
                return json_response(state.shipments[state.by_reference[reference]], 200)
            shipment_id = _id("shp")
            rates = []
            for carrier, service, base, per_ounce, days in (INTERNATIONAL if origin != destination else DOMESTIC):
                amount = (Decimal(base) + Decimal(per_ounce) * weight).quantize(Decimal("0.01"), ROUND_HALF_UP)
                rates.append({"id": _id("rate"), "object": "Rate", "mode": "test", "shipment_id": shipment_id,
                              "carrier": carrier, "service": service, "rate": str(amount), "currency": "USD",
                              "retail_rate": str(amount), "retail_currency": "USD", "delivery_days": days})
            customs = body.get("customs_info")
            shipment = {
                "id": shipment_id, "object": "Shipment", "mode": "test", "reference": reference,
                "created_at": _iso(state.now()), "status": "unknown",
                "to_address": {"id": _id("adr"), "object": "Address", **body["to_address"]},
                "from_address": {"id": _id("adr"), "object": "Address", **body["from_address"]},
                "parcel": {"id": _id("prcl"), "object": "Parcel", **body["parcel"]},
                "customs_info": {"id": _id("cstinfo"), "object": "CustomsInfo", **customs} if customs else None,
                "options": body.get("options") or {}, "tax_identifiers": body.get("tax_identifiers"),
                "rates": rates, "selected_rate": None, "postage_label": None, "tracking_code": None,
                "tracker": None, "refund_status": None, "messages": [],
            }
            state.shipments[shipment_id] = shipment
            if reference:
                state.by_reference[reference] = shipment_id
        return json_response(shipment, 201)

    @app.get("/v2/shipments/<shipment_id>")
    def get_shipment(shipment_id: str) -> Response:
        shipment = state.shipments.get(shipment_id)
        if shipment is None:
            return ep_error("NOT_FOUND", "The requested resource could not be found.", 404)
        return json_response(shipment)

    @app.post("/v2/shipments/<shipment_id>/buy")
    def buy(shipment_id: str) -> Response:
        answer = _buy(shipment_id)
        with state.lock:
            drop = state.drop_buy > 0
            if drop:
                state.drop_buy -= 1
        if drop:
            _drop_connection()
        return answer

    def _buy(shipment_id: str) -> Response:
        rate_id = ((json_body() or {}).get("rate") or {}).get("id")
        with state.lock:
            shipment = state.shipments.get(shipment_id)
            if shipment is None:
                return ep_error("NOT_FOUND", "The requested resource could not be found.", 404)
            if shipment["postage_label"]:
                return ep_error("SHIPMENT.POSTAGE.EXISTS", "The shipment already has postage.", 422)
            rate = next((r for r in shipment["rates"] if r["id"] == rate_id), None)
            if rate is None:
                return ep_error("SHIPMENT.RATE.INVALID", "The rate selected is not valid for this shipment.", 422)
            code = "9400" + "".join(str(secrets.randbelow(10)) for _ in range(18))
            now = state.now()
            state.labels[shipment_id] = label_pdf(f"{rate['carrier']} {rate['service']}", f"TRACKING {code}",
                                                  f"TO {shipment['to_address'].get('name', '')}",
                                                  f"REF {shipment.get('reference') or shipment_id}")
            state.labels_bought += 1
            tracker = _new_tracker(code, rate["carrier"], shipment_id)
            shipment.update(
                selected_rate=rate, tracking_code=code, status="pre_transit", tracker=tracker,
                postage_label={"id": _id("pl"), "object": "PostageLabel", "label_date": _iso(now),
                               "label_file_type": "application/pdf", "label_url":
                               f"{request.host_url.rstrip('/')}/_files/labels/{shipment_id}.pdf"})
            return json_response(shipment)

    def _drop_connection() -> None:
        # Close the socket under the server: the client sees the connection reset with no answer, after the
        # purchase was made (the case the hub's idempotency key is for). Werkzeug ignores the failed write.
        sock = request.environ.get("werkzeug.socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    @app.post("/v2/shipments/<shipment_id>/refund")
    def refund(shipment_id: str) -> Response:
        with state.lock:
            shipment = state.shipments.get(shipment_id)
            if shipment is None:
                return ep_error("NOT_FOUND", "The requested resource could not be found.", 404)
            if not shipment["postage_label"]:
                return ep_error("SHIPMENT.REFUND.NOT_PURCHASED", "Unable to refund an unpurchased shipment.", 422)
            scanned = shipment["tracker"]["status"] != "pre_transit"
            shipment["refund_status"] = "rejected" if scanned else "submitted"
            return json_response(shipment)

    # --- trackers ----------------------------------------------------------------------------------------------
    def _new_tracker(code: str, carrier: str, shipment_id: str | None) -> dict[str, Any]:
        key = (carrier, code)
        if key in state.tracker_keys:
            return state.trackers[state.tracker_keys[key]]
        now = state.now()
        tracker = {"id": _id("trk"), "object": "Tracker", "mode": "test", "tracking_code": code, "carrier": carrier,
                   "status": "pre_transit", "status_detail": "label_created", "shipment_id": shipment_id,
                   "created_at": _iso(now), "updated_at": _iso(now), "est_delivery_date": _iso(now + timedelta(days=3)),
                   "tracking_details": [_detail("pre_transit", now)]}
        state.trackers[tracker["id"]] = tracker
        state.tracker_keys[key] = tracker["id"]
        return tracker

    def _detail(status: str, when: datetime) -> dict[str, Any]:
        return {"object": "TrackingDetail", "status": status, "status_detail": status, "message": MESSAGES[status],
                "description": MESSAGES[status], "datetime": _iso(when), "source": "USPS",
                "tracking_location": {"object": "TrackingLocation", "city": "HOUSTON", "state": "TX",
                                      "country": "US", "zip": "77001"}}

    @app.post("/v2/trackers")
    def create_tracker() -> Response:
        body = (json_body() or {}).get("tracker") or {}
        code = body.get("tracking_code")
        if not code:
            return ep_error("TRACKER.TRACKING_CODE.REQUIRED", "A tracking code is required.", 422)
        with state.lock:
            carrier = body.get("carrier") or next(
                (t["carrier"] for t in state.trackers.values() if t["tracking_code"] == code), "USPS")
            return json_response(_new_tracker(code, carrier, None))

    @app.get("/v2/trackers/<tracker_id>")
    def get_tracker(tracker_id: str) -> Response:
        tracker = state.trackers.get(tracker_id)
        if tracker is None:
            return ep_error("NOT_FOUND", "The requested resource could not be found.", 404)
        return json_response(tracker)

    @app.get("/_files/labels/<shipment_id>.pdf")
    def label_file(shipment_id: str) -> Response:
        pdf = state.labels.get(shipment_id)
        if pdf is None:
            return Response("NoSuchKey", status=404, mimetype="text/plain")
        return Response(pdf, mimetype="application/pdf")

    # --- sandbox control ---------------------------------------------------------------------------------------
    def _deliver_webhook(tracker: dict[str, Any]) -> dict[str, Any]:
        event = {"object": "Event", "id": _id("evt"), "mode": "test", "description": "tracker.updated",
                 "created_at": _iso(state.now()), "status": "pending", "result": tracker,
                 "previous_attributes": {}, "pending_urls": [state.webhook_url] if state.webhook_url else []}
        body = dumps_exact(event).encode()
        delivery = {"headers": {"Content-Type": "application/json",
                                "X-Hmac-Signature": signature(body, state.webhook_secret)},
                    "body": body.decode()}
        state.webhooks.append(delivery)
        if state.webhook_url:
            try:
                requests.post(state.webhook_url, data=body, headers=delivery["headers"], timeout=(2, 5))
            except requests.RequestException as exc:
                log.warning("webhook to %s failed: %s", state.webhook_url, exc)
        return delivery

    @app.post("/_sandbox/advance")
    def advance() -> Response:
        """{"tracking_code" or "shipment_id", "status": optional target (default: the next step)}"""
        body = json_body() or {}
        with state.lock:
            code = body.get("tracking_code") or (state.shipments.get(body.get("shipment_id", "")) or {}).get(
                "tracking_code")
            tracker = next((t for t in state.trackers.values() if t["tracking_code"] == code), None)
            if tracker is None:
                return json_response({"error": "no such tracker"}, 404)
            position = PROGRESSION.index(tracker["status"]) if tracker["status"] in PROGRESSION else 0
            target = body.get("status") or PROGRESSION[min(position + 1, len(PROGRESSION) - 1)]
            if target not in PROGRESSION:
                return json_response({"error": f"status is one of {', '.join(PROGRESSION)}"}, 400)
            last = datetime.fromisoformat(tracker["tracking_details"][-1]["datetime"].replace("Z", "+00:00"))
            when = max(state.now(), last + timedelta(minutes=1))
            for status in PROGRESSION[position + 1:PROGRESSION.index(target) + 1]:
                tracker["tracking_details"].append(_detail(status, when))
                when += timedelta(minutes=1)
            tracker["status"] = target
            tracker["updated_at"] = _iso(state.now())
            if tracker.get("shipment_id") in state.shipments:
                state.shipments[tracker["shipment_id"]]["status"] = target
            delivery = _deliver_webhook(tracker)
        return json_response({"tracker": tracker, "webhook": delivery})

    @app.get("/_sandbox/webhooks")
    def sandbox_webhooks() -> Response:
        return json_response(state.webhooks)

    @app.post("/_sandbox/config")
    def sandbox_config() -> Response:
        body = json_body() or {}
        with state.lock:
            state.webhook_url = str(body.get("webhook_url", state.webhook_url))
            state.webhook_secret = str(body.get("webhook_secret", state.webhook_secret))
        return json_response({"ok": True})

    @app.post("/_sandbox/faults")
    def sandbox_faults() -> Response:
        knobs = dict(json_body() or {})
        with state.lock:
            state.drop_buy = int(knobs.pop("drop_buy", state.drop_buy))
        faults.update(**knobs)
        return json_response({"ok": True})

    @app.get("/_sandbox/stats")
    def sandbox_stats() -> Response:
        return json_response({"labels_bought": state.labels_bought, "shipments": len(state.shipments),
                              "trackers": len(state.trackers)})

    return app
