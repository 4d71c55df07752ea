"""A PayPal REST stand-in: the Orders v2 / Payments v2 / webhook-verification subset the hub uses.

https://developer.paypal.com/docs/api/orders/v2/, https://developer.paypal.com/docs/api/payments/v2/,
https://developer.paypal.com/api/rest/webhooks/rest/

- Auth: POST /v1/oauth2/token (Basic CLIENT_ID:CLIENT_SECRET, grant_type=client_credentials) gives a bearer
  token for `token_seconds`; other /v1 and /v2 calls without a live token get 401 invalid_token.
- Idempotency: a POST with `PayPal-Request-Id` is answered, for the same client, path and id, with the first
  answer (status and body) it got, without doing anything again.
- The payer: GET on an order's `approve` link (/checkoutnow?token=ID), or POST /_sandbox/orders/<id>/approve
  {"decline": true} for a payer whose instrument is then declined at capture (422 INSTRUMENT_DECLINED).
- Webhooks: every state change makes an event, delivered to GET /_sandbox/webhooks as {headers, body}. The
  transmission is signed as PayPal's is over `transmission_id|transmission_time|webhook_id|crc32(event)`,
  with an HMAC-SHA256 keyed by the webhook's secret instead of PayPal's certificate key; crc32 is taken over
  the event's canonical JSON (sorted keys) so that an event parsed and sent back verifies.
  POST /v1/notifications/verify-webhook-signature recomputes it: SUCCESS or FAILURE.
- Faults (PaymentFaults): latency, timeouts, throttles (429 RATE_LIMIT_REACHED), 500s, cut bodies and
  `drop_after_processing` (POSTs under /v2 only); POST /_sandbox/faults sets knobs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
import uuid
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Flask, Response, g, request

from hub.money import CurrencyError, minor_units
from hub.sandbox.paypal.faults import DropAfterProcessing, PaymentFaults

CLIENT_ID = "sandbox-paypal-client"
CLIENT_SECRET = "sandbox-paypal-secret"  # noqa: S105  (the sandbox's own test credential)
WEBHOOK_ID = "WH8SANDBOX0PAYPAL"
WHOLE_UNITS = frozenset({"HUF", "JPY", "TWD"})
AUTH_ALGO = "SHA256withRSA"


def transmission_signature(secret: str, transmission_id: str, transmission_time: str, webhook_id: str,
                           event: dict[str, Any]) -> str:
    canonical = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    message = f"{transmission_id}|{transmission_time}|{webhook_id}|{zlib.crc32(canonical)}"
    return base64.b64encode(hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()).decode()


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _id(prefix: str = "") -> str:
    return prefix + secrets.token_hex(8).upper()


class PayPalState:
    def __init__(self, token_seconds: int, clock: Callable[[], float]) -> None:
        self.lock = threading.RLock()
        self.token_seconds, self.clock = token_seconds, clock
        self.tokens: dict[str, float] = {}
        self.orders: dict[str, dict[str, Any]] = {}
        self.authorizations: dict[str, str] = {}  # authorization id -> order id
        self.captures: dict[str, str] = {}  # capture id -> order id
        self.declining: set[str] = set()  # orders whose payer's instrument is declined at capture
        self.replays: dict[tuple[str, str], tuple[int, bytes]] = {}
        self.webhook_secrets = {WEBHOOK_ID: secrets.token_hex(16)}
        self.deliveries: list[dict[str, Any]] = []
        self.charges = 0  # captures made, for tests: a replayed capture does not count

    def emit(self, event_type: str, resource_type: str, resource: dict[str, Any], base: str) -> None:
        event = {"id": _id("WH-"), "event_version": "1.0", "create_time": _now(), "resource_type": resource_type,
                 "resource_version": "2.0", "event_type": event_type, "summary": event_type.lower(),
                 "resource": json.loads(json.dumps(resource))}
        for webhook_id, secret in self.webhook_secrets.items():
            transmission_id, transmission_time = str(uuid.uuid4()), _now()
            headers = {
                "PAYPAL-TRANSMISSION-ID": transmission_id, "PAYPAL-TRANSMISSION-TIME": transmission_time,
                "PAYPAL-AUTH-ALGO": AUTH_ALGO, "PAYPAL-CERT-URL": f"{base}/v1/notifications/certs/CERT-SANDBOX",
                "PAYPAL-TRANSMISSION-SIG": transmission_signature(secret, transmission_id, transmission_time,
                                                                  webhook_id, event),
                "Content-Type": "application/json",
            }
            self.deliveries.append({"webhook_id": webhook_id, "event_type": event_type, "headers": headers,
                                    "body": json.dumps(event)})


def error(status: int, name: str, message: str, issue: str | None = None, description: str = "") -> Response:
    body: dict[str, Any] = {"name": name, "message": message, "debug_id": secrets.token_hex(6)}
    if issue:
        body["details"] = [{"issue": issue, "description": description or issue}]
    return Response(json.dumps(body), status=status, mimetype="application/json")


def create_app(seed: int = 0, faults: PaymentFaults | None = None, token_seconds: int = 32400,
               clock: Callable[[], float] = time.time) -> Flask:
    state = PayPalState(token_seconds, clock)
    faults = faults or PaymentFaults(seed=seed)
    app = Flask("paypal-sandbox")
    app.extensions["sandbox"] = state
    app.extensions["faults"] = faults
    app.wsgi_app = DropAfterProcessing(  # type: ignore[method-assign]
        app.wsgi_app, faults,  # mutations only: what a retry could repeat
        lambda environ: environ.get("REQUEST_METHOD") == "POST" and environ.get("PATH_INFO", "").startswith("/v2/"))

    def decimals(currency: str) -> int:
        return 0 if currency in WHOLE_UNITS else minor_units(currency)

    def out(amount: Decimal, currency: str) -> dict[str, str]:
        return {"currency_code": currency, "value": format(amount.quantize(Decimal(1).scaleb(-decimals(currency))),
                                                           "f")}

    def read_amount(raw: object) -> tuple[Decimal, str] | Response:
        if not isinstance(raw, dict) or not isinstance(raw.get("value"), str):
            return error(400, "INVALID_REQUEST", "Request is not well-formed.", "INVALID_PARAMETER_SYNTAX",
                         "amount.value must be a string.")
        currency = str(raw.get("currency_code"))
        try:
            places = decimals(currency)
            value = Decimal(raw["value"])
        except (CurrencyError, InvalidOperation):
            return error(422, "UNPROCESSABLE_ENTITY", "The requested action could not be performed.",
                         "CURRENCY_NOT_SUPPORTED" if currency else "INVALID_PARAMETER_VALUE")
        if value != value.quantize(Decimal(1).scaleb(-places)) or value <= 0:
            return error(422, "UNPROCESSABLE_ENTITY", "The requested action could not be performed.",
                         "DECIMAL_PRECISION", f"{currency} takes {places} decimals.")
        return value, currency

    def base_url() -> str:
        return request.host_url.rstrip("/")

    # --- gate: faults, auth, idempotency ------------------------------------------------------------------------
    @app.before_request
    def gate() -> Response | None:
        g.replay_key = None
        if not request.path.startswith(("/v1/", "/v2/")):
            return None
        faults.delay()
        if faults.take_throttle():
            return error(429, "RATE_LIMIT_REACHED", "Too many requests. Blocked due to rate limiting.")
        if faults.roll(faults.error_rate):
            return error(500, "INTERNAL_SERVER_ERROR", "An internal server error occurred.")
        if request.path == "/v1/oauth2/token":
            return None
        header = request.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else ""
        with state.lock:
            expiry = state.tokens.get(token)
        if expiry is None or expiry <= clock():
            return Response(json.dumps({"error": "invalid_token",
                                        "error_description": "Token signature verification failed"}),
                            status=401, mimetype="application/json")
        request_id = request.headers.get("PayPal-Request-Id")
        if request.method == "POST" and request_id:
            g.replay_key = (request.path, request_id)
            with state.lock:
                stored = state.replays.get(g.replay_key)
            if stored is not None:
                g.replay_key = None
                return Response(stored[1], status=stored[0], mimetype="application/json")
        return None

    @app.after_request
    def finish(response: Response) -> Response:
        key = getattr(g, "replay_key", None)
        if key is not None and response.status_code < 500:
            with state.lock:
                state.replays.setdefault(key, (response.status_code, response.get_data()))
        if (request.path.startswith(("/v1/", "/v2/")) and 200 <= response.status_code < 300
                and faults.roll(faults.malformed_rate)):
            text = response.get_data()
            response.set_data(text[: len(text) // 2])
        return response

    def answer(payload: Any, status: int = 200) -> Response:
        return Response(json.dumps(payload), status=status, mimetype="application/json")

    def body() -> dict[str, Any]:
        data = request.get_json(silent=True)
        return data if isinstance(data, dict) else {}

    # --- auth ---------------------------------------------------------------------------------------------------
    @app.post("/v1/oauth2/token")
    def oauth_token() -> Response:
        auth = request.authorization
        if (auth is None or auth.type != "basic" or auth.username != CLIENT_ID or auth.password != CLIENT_SECRET):
            return Response(json.dumps({"error": "invalid_client",
                                        "error_description": "Client Authentication failed"}),
                            status=401, mimetype="application/json")
        if request.form.get("grant_type") != "client_credentials":
            return Response(json.dumps({"error": "unsupported_grant_type",
                                        "error_description": "Grant Type is NULL"}), status=400,
                            mimetype="application/json")
        token = "A21AA" + secrets.token_urlsafe(24)
        with state.lock:
            state.tokens[token] = clock() + token_seconds
        return answer({"scope": "https://uri.paypal.com/services/payments/payment", "access_token": token,
                       "token_type": "Bearer", "app_id": "APP-SANDBOX", "expires_in": token_seconds,
                       "nonce": secrets.token_hex(8)})

    # --- orders -------------------------------------------------------------------------------------------------
    def unit(order: dict[str, Any]) -> dict[str, Any]:
        return order["purchase_units"][0]

    def links(order: dict[str, Any]) -> None:
        order["links"] = [{"href": f"{base_url()}/v2/checkout/orders/{order['id']}", "rel": "self", "method": "GET"}]
        if order["status"] in ("CREATED", "PAYER_ACTION_REQUIRED"):
            order["links"].append({"href": f"{base_url()}/checkoutnow?token={order['id']}", "rel": "approve",
                                   "method": "GET"})

    @app.post("/v2/checkout/orders")
    def create_order() -> Response:
        data = body()
        if data.get("intent") not in ("CAPTURE", "AUTHORIZE"):
            return error(400, "INVALID_REQUEST", "Request is not well-formed.", "INVALID_PARAMETER_VALUE",
                         "intent must be CAPTURE or AUTHORIZE.")
        units = data.get("purchase_units")
        if not isinstance(units, list) or len(units) != 1 or not isinstance(units[0], dict):
            return error(400, "INVALID_REQUEST", "Request is not well-formed.", "INVALID_ARRAY_LENGTH_ITEMS",
                         "The sandbox takes exactly one purchase unit.")
        read = read_amount(units[0].get("amount"))
        if isinstance(read, Response):
            return read
        value, currency = read
        pu = {k: units[0][k] for k in ("reference_id", "invoice_id", "description") if k in units[0]}
        pu["amount"] = out(value, currency)
        pu["payments"] = {}
        with state.lock:
            invoice = pu.get("invoice_id")
            if invoice and any(unit(o).get("invoice_id") == invoice and o["status"] == "COMPLETED"
                               for o in state.orders.values()):
                return error(422, "UNPROCESSABLE_ENTITY", "The requested action could not be performed.",
                             "DUPLICATE_INVOICE_ID")
            order = {"id": _id(), "intent": data["intent"], "status": "CREATED", "purchase_units": [pu],
                     "create_time": _now(), "update_time": _now()}
            links(order)
            state.orders[order["id"]] = order
            return answer(order, 201)

    def find_order(order_id: str) -> dict[str, Any] | Response:
        order = state.orders.get(order_id)
        if order is None:
            return error(404, "RESOURCE_NOT_FOUND", "The specified resource does not exist.", "INVALID_RESOURCE_ID",
                         "Specified resource ID does not exist.")
        return order

    @app.get("/v2/checkout/orders/<order_id>")
    def get_order(order_id: str) -> Response:
        with state.lock:
            order = find_order(order_id)
            return order if isinstance(order, Response) else answer(order)

    def approve(order_id: str, decline: bool) -> Response | dict[str, Any]:
        with state.lock:
            order = find_order(order_id)
            if isinstance(order, Response):
                return order
            if order["status"] != "CREATED":
                return error(422, "UNPROCESSABLE_ENTITY", "The order cannot be approved.", "ORDER_NOT_APPROVABLE")
            order["status"] = "APPROVED"
            order["payer"] = {"payer_id": "SANDBOXPAYER", "email_address": "payer@example.com"}
            order["update_time"] = _now()
            links(order)
            if decline:
                state.declining.add(order_id)
            state.emit("CHECKOUT.ORDER.APPROVED", "checkout-order", order, base_url())
            return order

    @app.get("/checkoutnow")
    def checkout_page() -> Response:
        result = approve(request.args.get("token", ""), decline=False)
        if isinstance(result, Response):
            return result
        return Response(f"<p>Order {result['id']} approved by the sandbox payer.</p>", mimetype="text/html")

    @app.post("/_sandbox/orders/<order_id>/approve")
    def sandbox_approve(order_id: str) -> Response:
        result = approve(order_id, decline=bool(body().get("decline")))
        return result if isinstance(result, Response) else answer(result)

    def related(order: dict[str, Any], **ids: str) -> dict[str, Any]:
        return {"related_ids": {"order_id": order["id"], **ids}}

    def new_capture(order: dict[str, Any], value: Decimal, currency: str, final: bool,
                    authorization_id: str | None = None) -> dict[str, Any]:
        pu = unit(order)
        capture_id = _id()
        ids = {"authorization_id": authorization_id} if authorization_id else {}
        capture = {"id": capture_id, "status": "COMPLETED", "amount": out(value, currency), "final_capture": final,
                   "invoice_id": pu.get("invoice_id"), "create_time": _now(), "update_time": _now(),
                   "supplementary_data": related(order, **ids),
                   "links": [{"href": f"{base_url()}/v2/payments/captures/{capture_id}", "rel": "self",
                              "method": "GET"},
                             {"href": f"{base_url()}/v2/payments/captures/{capture_id}/refund", "rel": "refund",
                              "method": "POST"}]}
        pu["payments"].setdefault("captures", []).append(capture)
        state.captures[capture_id] = order["id"]
        state.charges += 1
        state.emit("PAYMENT.CAPTURE.COMPLETED", "capture", capture, base_url())
        return capture

    def payable(order: dict[str, Any], intent: str) -> Response | None:
        if order["intent"] != intent:
            return error(422, "UNPROCESSABLE_ENTITY", "The requested action could not be performed.",
                         "ACTION_DOES_NOT_MATCH_INTENT")
        if order["status"] == "COMPLETED":
            return error(422, "UNPROCESSABLE_ENTITY", "The requested action could not be performed.",
                         "ORDER_ALREADY_CAPTURED" if intent == "CAPTURE" else "ORDER_ALREADY_AUTHORIZED")
        if order["status"] != "APPROVED":
            return error(422, "UNPROCESSABLE_ENTITY", "The requested action could not be performed.",
                         "ORDER_NOT_APPROVED", "Payer has not yet approved the Order for payment.")
        if order["id"] in state.declining:
            return error(422, "UNPROCESSABLE_ENTITY", "The requested action could not be performed.",
                         "INSTRUMENT_DECLINED", "The instrument presented was either declined by the processor "
                         "or bank, or it can't be used for this payment.")
        return None

    @app.post("/v2/checkout/orders/<order_id>/capture")
    def capture_order(order_id: str) -> Response:
        with state.lock:
            order = find_order(order_id)
            if isinstance(order, Response):
                return order
            refused = payable(order, "CAPTURE")
            if refused:
                return refused
            amount = unit(order)["amount"]
            new_capture(order, Decimal(amount["value"]), amount["currency_code"], True)
            order["status"], order["update_time"] = "COMPLETED", _now()
            links(order)
            return answer(order, 201)

    @app.post("/v2/checkout/orders/<order_id>/authorize")
    def authorize_order(order_id: str) -> Response:
        with state.lock:
            order = find_order(order_id)
            if isinstance(order, Response):
                return order
            refused = payable(order, "AUTHORIZE")
            if refused:
                return refused
            pu = unit(order)
            auth_id = _id()
            authorization = {"id": auth_id, "status": "CREATED", "amount": dict(pu["amount"]),
                             "invoice_id": pu.get("invoice_id"), "create_time": _now(), "update_time": _now(),
                             "supplementary_data": related(order)}
            pu["payments"].setdefault("authorizations", []).append(authorization)
            state.authorizations[auth_id] = order_id
            order["status"], order["update_time"] = "COMPLETED", _now()
            links(order)
            state.emit("PAYMENT.AUTHORIZATION.CREATED", "authorization", authorization, base_url())
            return answer(order, 201)

    # --- payments -----------------------------------------------------------------------------------------------
    def find_authorization(auth_id: str) -> tuple[dict[str, Any], dict[str, Any]] | Response:
        order_id = state.authorizations.get(auth_id)
        if order_id is None:
            return error(404, "RESOURCE_NOT_FOUND", "The specified resource does not exist.", "INVALID_RESOURCE_ID")
        order = state.orders[order_id]
        auth = next(a for a in unit(order)["payments"]["authorizations"] if a["id"] == auth_id)
        return order, auth

    @app.post("/v2/payments/authorizations/<auth_id>/capture")
    def capture_authorization(auth_id: str) -> Response:
        data = body()
        with state.lock:
            found = find_authorization(auth_id)
            if isinstance(found, Response):
                return found
            order, auth = found
            if auth["status"] not in ("CREATED", "PARTIALLY_CAPTURED"):
                return error(422, "UNPROCESSABLE_ENTITY", "The requested action could not be performed.",
                             "AUTHORIZATION_ALREADY_CAPTURED" if auth["status"] == "CAPTURED"
                             else "AUTHORIZATION_VOIDED")
            held = Decimal(auth["amount"]["value"])
            currency = auth["amount"]["currency_code"]
            taken = sum((Decimal(c["amount"]["value"]) for c in unit(order)["payments"].get("captures", [])),
                        Decimal(0))
            if "amount" in data:
                read = read_amount(data["amount"])
                if isinstance(read, Response):
                    return read
                value, asked_currency = read
                if asked_currency != currency:
                    return error(422, "UNPROCESSABLE_ENTITY", "Currency mismatch.", "CURRENCY_MISMATCH")
            else:
                value = held - taken
            if taken + value > held:
                return error(422, "UNPROCESSABLE_ENTITY", "The requested action could not be performed.",
                             "MAX_CAPTURE_AMOUNT_EXCEEDED")
            final = bool(data.get("final_capture", False)) or taken + value == held
            capture = new_capture(order, value, currency, final, authorization_id=auth_id)
            auth["status"] = "CAPTURED" if final else "PARTIALLY_CAPTURED"
            auth["update_time"] = _now()
            return answer(capture, 201)

    @app.post("/v2/payments/authorizations/<auth_id>/void")
    def void_authorization(auth_id: str) -> Response:
        with state.lock:
            found = find_authorization(auth_id)
            if isinstance(found, Response):
                return found
            _, auth = found
            if auth["status"] != "CREATED":
                return error(422, "UNPROCESSABLE_ENTITY", "The requested action could not be performed.",
                             "PREVIOUSLY_CAPTURED" if "CAPTURED" in auth["status"] else "PREVIOUSLY_VOIDED")
            auth["status"], auth["update_time"] = "VOIDED", _now()
            state.emit("PAYMENT.AUTHORIZATION.VOIDED", "authorization", auth, base_url())
            if request.headers.get("Prefer") == "return=representation":
                return answer(auth)
            return Response(status=204)

    @app.post("/v2/payments/captures/<capture_id>/refund")
    def refund_capture(capture_id: str) -> Response:
        data = body()
        with state.lock:
            order_id = state.captures.get(capture_id)
            if order_id is None:
                return error(404, "RESOURCE_NOT_FOUND", "The specified resource does not exist.",
                             "INVALID_RESOURCE_ID")
            order = state.orders[order_id]
            payments = unit(order)["payments"]
            capture = next(c for c in payments["captures"] if c["id"] == capture_id)
            captured = Decimal(capture["amount"]["value"])
            currency = capture["amount"]["currency_code"]
            mine = [r for r in payments.get("refunds", []) if
                    r["supplementary_data"]["related_ids"].get("capture_id") == capture_id]
            refunded = sum((Decimal(r["amount"]["value"]) for r in mine), Decimal(0))
            if refunded >= captured:
                return error(422, "UNPROCESSABLE_ENTITY", "The requested action could not be performed.",
                             "CAPTURE_FULLY_REFUNDED")
            if "amount" in data:
                read = read_amount(data["amount"])
                if isinstance(read, Response):
                    return read
                value, asked_currency = read
                if asked_currency != currency:
                    return error(422, "UNPROCESSABLE_ENTITY", "Currency mismatch.", "CURRENCY_MISMATCH")
            else:
                value = captured - refunded
            if refunded + value > captured:
                return error(422, "UNPROCESSABLE_ENTITY", "The requested action could not be performed.",
                             "REFUND_AMOUNT_EXCEEDED")
            refund_id = _id()
            total = refunded + value
            refund = {"id": refund_id, "status": "COMPLETED", "amount": out(value, currency),
                      "invoice_id": data.get("invoice_id") or capture.get("invoice_id"),
                      "seller_payable_breakdown": {"total_refunded_amount": out(total, currency)},
                      "supplementary_data": related(order, capture_id=capture_id),
                      "create_time": _now(), "update_time": _now(),
                      "links": [{"href": f"{base_url()}/v2/payments/refunds/{refund_id}", "rel": "self",
                                 "method": "GET"},
                                {"href": f"{base_url()}/v2/payments/captures/{capture_id}", "rel": "up",
                                 "method": "GET"}]}
            payments.setdefault("refunds", []).append(refund)
            capture["status"] = "REFUNDED" if total == captured else "PARTIALLY_REFUNDED"
            state.emit("PAYMENT.CAPTURE.REFUNDED", "refund", refund, base_url())
            return answer(refund, 201)

    # --- webhooks -----------------------------------------------------------------------------------------------
    @app.post("/v1/notifications/verify-webhook-signature")
    def verify_webhook_signature() -> Response:
        data = body()
        names = ("auth_algo", "cert_url", "transmission_id", "transmission_sig", "transmission_time", "webhook_id")
        missing = [n for n in names if not isinstance(data.get(n), str) or not data[n]]
        if missing or not isinstance(data.get("webhook_event"), dict):
            return error(400, "VALIDATION_ERROR", "Invalid request - see details.", "MISSING_REQUIRED_PARAMETER",
                         ", ".join(missing or ["webhook_event"]))
        secret = state.webhook_secrets.get(data["webhook_id"])
        status = "FAILURE"
        if secret is not None and data["auth_algo"] == AUTH_ALGO and data["cert_url"].startswith(
                f"{base_url()}/v1/notifications/certs/"):
            expected = transmission_signature(secret, data["transmission_id"], data["transmission_time"],
                                              data["webhook_id"], data["webhook_event"])
            if hmac.compare_digest(expected, data["transmission_sig"]):
                status = "SUCCESS"
        return answer({"verification_status": status})

    # --- control ------------------------------------------------------------------------------------------------
    @app.get("/_sandbox/webhooks")
    def sandbox_webhooks() -> Response:
        with state.lock:
            return answer(state.deliveries)

    @app.get("/_sandbox/state")
    def sandbox_state() -> Response:
        with state.lock:
            return answer({"charges": state.charges, "orders": list(state.orders.values())})

    @app.post("/_sandbox/faults")
    def sandbox_faults() -> Response:
        faults.update(**body())
        return answer({"ok": True})

    return app
