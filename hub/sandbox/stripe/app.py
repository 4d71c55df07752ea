"""A Stripe API stand-in for PaymentIntents and refunds: https://docs.stripe.com/api

What it keeps of Stripe's behaviour, because the hub's safety rests on it:

- Secret-key auth (Bearer, or Basic with the key as user name), form-encoded bodies, integer minor-unit amounts,
  Stripe's error shape `{"error": {type, code, decline_code, message, param, payment_intent}}`.
- Idempotency (https://docs.stripe.com/api/idempotent_requests): the first answer to a POST with an
  `Idempotency-Key` is stored and replayed for the same key (header `Idempotent-Replayed: true`); the same key
  with other parameters is a 400 idempotency_error; a key whose first request is still running is a 409.
- Test payment methods (https://docs.stripe.com/testing): pm_card_visa and pm_card_mastercard succeed,
  pm_card_chargeDeclined and pm_card_chargeDeclinedInsufficientFunds decline with a 402 card_error.
- Events for every change, signed as Stripe signs webhooks; the test fetches them from
  GET /_sandbox/deliveries (ready-to-post headers and body) and posts them to the hub, in any order, any number
  of times. GET /v1/events lists them as Stripe does.

Fault injection (hub.sandbox.faults, plus `fail_after_processing`): the next N mutating requests are carried
out, their answer stored for replay, and then the answer is lost on the way: the connection dropped
(`fail_mode="drop"`) or a 500 from the edge (`fail_mode="500"`). That is the case idempotency keys exist for.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests
from flask import Flask, Response, request

from hub.money import is_currency
from hub.payments.stripe.notifications import sign
from hub.sandbox.faults import Faults

SECRET_KEY = "sk_test_sandbox_4eC39HqLyjWDarjtT1zdp7dc"  # noqa: S105  (the sandbox's, published on purpose)
WEBHOOK_SECRET = "whsec_sandbox_8f1c2d"  # noqa: S105
API_VERSION = "2024-06-20"

SUCCEEDING = frozenset({"pm_card_visa", "pm_card_mastercard", "pm_card_amex"})
DECLINING = {"pm_card_chargeDeclined": ("generic_decline", "Your card was declined."),
             "pm_card_chargeDeclinedInsufficientFunds": ("insufficient_funds", "Your card has insufficient funds.")}
CANCELABLE = frozenset({"requires_payment_method", "requires_capture", "requires_confirmation", "requires_action",
                        "processing"})


@dataclass
class StripeFaults(Faults):
    fail_after_processing: int = 0  # the next N mutating requests are done, then their answer is lost
    fail_mode: str = "drop"         # "drop": the connection closes unanswered; "500": the edge answers 500

    def take_after_processing(self) -> bool:
        with self._lock:
            if self.fail_after_processing > 0:
                self.fail_after_processing -= 1
                return True
            return False


@dataclass
class StripeState:
    clock: Callable[[], float]
    lock: threading.RLock = field(default_factory=threading.RLock)
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    charges: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    # Idempotency-Key -> (fingerprint of the request, status, body)
    answers: dict[str, tuple[str, int, str]] = field(default_factory=dict)
    in_flight: set[str] = field(default_factory=set)
    requests: int = 0
    # Where to push each event as a signed webhook, as Stripe does (None: only GET /_sandbox/deliveries).
    webhook_url: str | None = None
    webhook_secret: str = WEBHOOK_SECRET
    senders: list[threading.Thread] = field(default_factory=list)
    delivered: list[tuple[str, int | None]] = field(default_factory=list)  # (event id, HTTP status or None)

    def now(self) -> int:
        return int(self.clock())

    def event(self, kind: str, obj: dict[str, Any]) -> None:
        event = {"id": _id("evt"), "object": "event", "api_version": API_VERSION, "created": self.now(),
                 "type": kind, "livemode": False, "pending_webhooks": 1,
                 "data": {"object": json.loads(json.dumps(obj))}}
        self.events.append(event)
        if self.webhook_url:
            # After the answer, in the background, as Stripe sends them: the hub may hear of a change either way.
            sender = threading.Thread(target=self._push, args=(event,), name=f"stripe-webhook-{event['id']}",
                                      daemon=True)
            self.senders.append(sender)
            sender.start()

    def _push(self, event: dict[str, Any]) -> None:
        body = json.dumps(event).encode()
        headers = {"Content-Type": "application/json; charset=utf-8",
                   "Stripe-Signature": sign(self.webhook_secret, self.now(), body)}
        try:
            status: int | None = requests.post(self.webhook_url or "", data=body, headers=headers, timeout=10
                                               ).status_code
        except requests.RequestException:
            status = None
        with self.lock:
            self.delivered.append((event["id"], status))

    def wait_for_webhooks(self, timeout: float = 10.0) -> list[tuple[str, int | None]]:
        """Join the webhook senders started so far (tests); returns what each delivery was answered."""
        for sender in list(self.senders):
            sender.join(timeout)
        with self.lock:
            return list(self.delivered)


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def stripe_error(status: int, message: str, *, kind: str = "invalid_request_error", code: str | None = None,
                 param: str | None = None, retry: bool | None = None, **extra: Any) -> Response:
    error = {"type": kind, "message": message, **({"code": code} if code else {}),
             **({"param": param} if param else {}), **extra}
    headers = {"Request-Id": _id("req")}
    if retry is not None:
        headers["Stripe-Should-Retry"] = "true" if retry else "false"
    return Response(json.dumps({"error": error}), status=status, mimetype="application/json", headers=headers)


def ok(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload), status=status, mimetype="application/json",
                    headers={"Request-Id": _id("req")})


def create_app(clock: Callable[[], float] | None = None, faults: StripeFaults | None = None,
               secret_key: str = SECRET_KEY, webhook_secret: str = WEBHOOK_SECRET,
               webhook_url: str | None = None) -> Flask:
    """`webhook_url`: push every event there, signed, from a background thread (the demo points it at
    /webhooks/payments/stripe/<account id>); without it the test fetches GET /_sandbox/deliveries."""
    clock = clock or (lambda: datetime.now(UTC).timestamp())
    state = StripeState(clock=clock, webhook_url=webhook_url, webhook_secret=webhook_secret)
    faults = faults or StripeFaults()
    app = Flask("stripe-sandbox")
    app.extensions["sandbox"] = state
    app.extensions["faults"] = faults

    # --- auth, faults, idempotency ---------------------------------------------------------------------------
    def authenticated() -> bool:
        auth = request.authorization
        if auth is None:
            return False
        if auth.type == "bearer":
            return auth.token == secret_key
        return auth.type == "basic" and auth.username == secret_key

    @app.before_request
    def gate() -> Response | None:
        if not request.path.startswith("/v1/"):
            return None
        with state.lock:
            state.requests += 1
        faults.delay()
        if not authenticated():
            return stripe_error(401, "Invalid API Key provided: sk_test_****", retry=False)
        if faults.take_throttle():
            return stripe_error(429, "Too many requests hit the API too quickly.", kind="invalid_request_error",
                                code="rate_limit")
        if faults.roll(faults.error_rate):
            return stripe_error(500, "An unknown error occurred", kind="api_error", retry=True)
        return None

    def form() -> dict[str, Any]:
        return {k: (v if len(v) > 1 else v[0]) for k, v in request.form.lists()}

    def idempotent(handler: Callable[[], Response]) -> Response:
        key = request.headers.get("Idempotency-Key")
        fingerprint = json.dumps([request.path, sorted(request.form.items(multi=True))])
        if key is not None and len(key) > 255:
            return stripe_error(400, "Idempotency-Key must be at most 255 characters.", kind="idempotency_error")
        replay: tuple[str, int, str] | None = None
        with state.lock:
            if key is not None and key in state.answers:
                replay = state.answers[key]
            elif key is not None and key in state.in_flight:
                return stripe_error(409, "There is currently another in-progress request using this Idempotent "
                                    "Key (that probably means you submitted twice, and the other request is still "
                                    "going through).", kind="idempotency_error", retry=True)
            elif key is not None:
                state.in_flight.add(key)
        if replay is not None:
            if replay[0] != fingerprint:
                return stripe_error(400, "Keys for idempotent requests can only be used with the same parameters "
                                    "they were first used with. Try using a key other than "
                                    f"'{key}' if you meant to execute a different request.",
                                    kind="idempotency_error")
            response = Response(replay[2], status=replay[1], mimetype="application/json",
                                headers={"Idempotent-Replayed": "true", "Request-Id": _id("req")})
        else:
            try:
                with state.lock:
                    response = handler()
                if key is not None and response.status_code != 429:
                    with state.lock:
                        state.answers[key] = (fingerprint, response.status_code, response.get_data(as_text=True))
                if key is not None:
                    response.headers["Idempotency-Key"] = key
            finally:
                with state.lock:
                    state.in_flight.discard(key or "")
        if faults.take_after_processing():
            return lose(response)
        return response

    def lose(response: Response) -> Response:
        """The work is done and stored; the answer does not arrive."""
        sock = request.environ.get("werkzeug.socket")
        if faults.fail_mode == "drop" and sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            return response  # werkzeug finds the socket closed and drops the answer
        return Response("<html><body><h1>500 Internal Server Error</h1></body></html>", status=500,
                        mimetype="text/html")

    # --- objects ---------------------------------------------------------------------------------------------
    def render(intent: dict[str, Any], expand: list[str] | None = None) -> dict[str, Any]:
        out = dict(intent)
        charge_id = intent.get("latest_charge")
        if charge_id and "latest_charge" in (expand or []):
            out["latest_charge"] = dict(state.charges[charge_id])
        return out

    def expand_of(values: dict[str, Any]) -> list[str]:
        raw = values.get("expand[]", [])
        return raw if isinstance(raw, list) else [raw]

    def new_charge(intent: dict[str, Any], captured: bool) -> dict[str, Any]:
        charge = {"id": _id("ch"), "object": "charge", "amount": intent["amount"],
                  "amount_captured": intent["amount"] if captured else 0, "amount_refunded": 0, "captured": captured,
                  "refunded": False, "currency": intent["currency"], "payment_intent": intent["id"],
                  "payment_method": intent["payment_method"], "status": "succeeded", "created": state.now(),
                  "metadata": dict(intent["metadata"])}
        state.charges[charge["id"]] = charge
        intent["latest_charge"] = charge["id"]
        return charge

    def confirm(intent: dict[str, Any], expand: list[str]) -> Response:
        method = intent["payment_method"]
        if method in DECLINING:
            decline_code, message = DECLINING[method]
            intent.update(status="requires_payment_method", last_payment_error={
                "type": "card_error", "code": "card_declined", "decline_code": decline_code, "message": message})
            state.event("payment_intent.payment_failed", intent)
            return stripe_error(402, message, kind="card_error", code="card_declined", decline_code=decline_code,
                                retry=False, payment_intent=render(intent, expand))
        if method not in SUCCEEDING:
            return stripe_error(400, f"No such PaymentMethod: '{method}'", code="resource_missing",
                                param="payment_method")
        intent["last_payment_error"] = None
        if intent["capture_method"] == "manual":
            charge = new_charge(intent, captured=False)
            intent.update(status="requires_capture", amount_capturable=intent["amount"])
            state.event("charge.succeeded", charge)
            state.event("payment_intent.amount_capturable_updated", intent)
        else:
            charge = new_charge(intent, captured=True)
            intent.update(status="succeeded", amount_received=intent["amount"])
            state.event("charge.succeeded", charge)
            state.event("payment_intent.succeeded", intent)
        return ok(render(intent, expand))

    def missing_intent(intent_id: str) -> Response:
        return stripe_error(404, f"No such payment_intent: '{intent_id}'", code="resource_missing", param="intent")

    def integer(values: dict[str, Any], name: str) -> int | Response:
        try:
            number = int(values[name])
        except (KeyError, ValueError, TypeError):
            return stripe_error(400, f"Invalid integer: {values.get(name)}", code="parameter_invalid_integer",
                                param=name)
        if number < 1:
            return stripe_error(400, "This value must be greater than or equal to 1.", code="parameter_invalid_integer",
                                param=name)
        return number

    # --- PaymentIntents --------------------------------------------------------------------------------------
    @app.post("/v1/payment_intents")
    def create_intent() -> Response:
        def handle() -> Response:
            values = form()
            if "amount" not in values:
                return stripe_error(400, "Missing required param: amount.", code="parameter_missing", param="amount")
            amount = integer(values, "amount")
            if isinstance(amount, Response):
                return amount
            currency = str(values.get("currency", ""))
            if not currency or not currency.islower() or not is_currency(currency.upper()):
                return stripe_error(400, f"Invalid currency: {currency}.", code="parameter_invalid_string",
                                    param="currency")
            capture_method = values.get("capture_method", "automatic")
            if capture_method not in ("automatic", "manual", "automatic_async"):
                return stripe_error(400, f"Invalid capture_method: {capture_method}", param="capture_method")
            intent = {"id": _id("pi"), "object": "payment_intent", "amount": amount, "amount_capturable": 0,
                      "amount_received": 0, "currency": currency,
                      "capture_method": "manual" if capture_method == "manual" else "automatic",
                      "status": "requires_payment_method", "payment_method": values.get("payment_method"),
                      "description": values.get("description"), "latest_charge": None, "last_payment_error": None,
                      "metadata": {k[len("metadata["):-1]: v for k, v in values.items() if k.startswith("metadata[")},
                      "created": state.now(), "canceled_at": None, "livemode": False}
            state.intents[intent["id"]] = intent
            state.event("payment_intent.created", intent)
            if str(values.get("confirm", "false")).lower() == "true":
                if not intent["payment_method"]:
                    return stripe_error(400, "You cannot confirm this PaymentIntent because it's missing a payment "
                                        "method.", code="payment_intent_unexpected_state")
                return confirm(intent, expand_of(values))
            if intent["payment_method"]:
                intent["status"] = "requires_confirmation"
            return ok(render(intent, expand_of(values)))
        return idempotent(handle)

    @app.get("/v1/payment_intents/<intent_id>")
    def retrieve_intent(intent_id: str) -> Response:
        with state.lock:
            intent = state.intents.get(intent_id)
            if intent is None:
                return missing_intent(intent_id)
            return ok(render(intent, request.args.getlist("expand[]")))

    @app.post("/v1/payment_intents/<intent_id>/capture")
    def capture_intent(intent_id: str) -> Response:
        def handle() -> Response:
            values = form()
            intent = state.intents.get(intent_id)
            if intent is None:
                return missing_intent(intent_id)
            if intent["status"] != "requires_capture":
                return stripe_error(400, f"This PaymentIntent could not be captured because it has a status of "
                                    f"{intent['status']}. Only a PaymentIntent with one of the following statuses "
                                    "may be captured: requires_capture.", code="payment_intent_unexpected_state")
            amount = intent["amount_capturable"]
            if "amount_to_capture" in values:
                wanted = integer(values, "amount_to_capture")
                if isinstance(wanted, Response):
                    return wanted
                if wanted > amount:
                    return stripe_error(400, "The amount to capture must be less than or equal to the original "
                                        "amount.", code="amount_too_large", param="amount_to_capture")
                amount = wanted
            charge = state.charges[intent["latest_charge"]]
            charge.update(captured=True, amount_captured=amount)
            intent.update(status="succeeded", amount_received=amount, amount_capturable=0)
            state.event("charge.captured", charge)
            state.event("payment_intent.succeeded", intent)
            return ok(render(intent, expand_of(values)))
        return idempotent(handle)

    @app.post("/v1/payment_intents/<intent_id>/cancel")
    def cancel_intent(intent_id: str) -> Response:
        def handle() -> Response:
            values = form()
            intent = state.intents.get(intent_id)
            if intent is None:
                return missing_intent(intent_id)
            if intent["status"] not in CANCELABLE:
                return stripe_error(400, f"You cannot cancel this PaymentIntent because it has a status of "
                                    f"{intent['status']}.", code="payment_intent_unexpected_state")
            intent.update(status="canceled", amount_capturable=0, canceled_at=state.now(),
                          cancellation_reason=values.get("cancellation_reason"))
            state.event("payment_intent.canceled", intent)
            return ok(render(intent, expand_of(values)))
        return idempotent(handle)

    # --- refunds ---------------------------------------------------------------------------------------------
    @app.post("/v1/refunds")
    def create_refund() -> Response:
        def handle() -> Response:
            values = form()
            intent = state.intents.get(str(values.get("payment_intent", "")))
            if intent is None:
                return stripe_error(400, f"No such payment_intent: '{values.get('payment_intent')}'",
                                    code="resource_missing", param="payment_intent")
            charge = state.charges.get(intent.get("latest_charge") or "")
            if intent["status"] != "succeeded" or charge is None:
                return stripe_error(400, "This PaymentIntent does not have a successful charge to refund.",
                                    code="charge_not_refundable")
            left = charge["amount_captured"] - charge["amount_refunded"]
            if left <= 0:
                return stripe_error(400, f"Charge {charge['id']} has already been refunded.",
                                    code="charge_already_refunded")
            amount = left
            if "amount" in values:
                wanted = integer(values, "amount")
                if isinstance(wanted, Response):
                    return wanted
                if wanted > left:
                    return stripe_error(400, f"Refund amount ({wanted}) is greater than unrefunded amount on "
                                        f"charge ({left})", code="amount_too_large", param="amount")
                amount = wanted
            refund = {"id": _id("re"), "object": "refund", "amount": amount, "currency": charge["currency"],
                      "charge": charge["id"], "payment_intent": intent["id"], "status": "succeeded",
                      "created": state.now(), "metadata": {}}
            state.refunds[refund["id"]] = refund
            charge["amount_refunded"] += amount
            charge["refunded"] = charge["amount_refunded"] >= charge["amount_captured"]
            state.event("refund.created", refund)
            state.event("charge.refunded", charge)
            return ok(refund)
        return idempotent(handle)

    # --- events ----------------------------------------------------------------------------------------------
    @app.get("/v1/events")
    def list_events() -> Response:
        with state.lock:
            events = list(reversed(state.events))
        kind = request.args.get("type")
        if kind:
            events = [e for e in events if e["type"] == kind]
        limit = min(int(request.args.get("limit", 10)), 100)
        return ok({"object": "list", "url": "/v1/events", "has_more": len(events) > limit, "data": events[:limit]})

    # --- the sandbox's own knobs -----------------------------------------------------------------------------
    @app.get("/_sandbox/deliveries")
    def deliveries() -> Response:
        """Every event as a webhook delivery signed now: {"event_id", "type", "headers", "body"}."""
        with state.lock:
            events = list(state.events)
        out = []
        for event in events:
            body = json.dumps(event)
            out.append({"event_id": event["id"], "type": event["type"], "body": body,
                        "headers": {"Content-Type": "application/json; charset=utf-8",
                                    "Stripe-Signature": sign(webhook_secret, state.now(), body.encode())}})
        return ok(out)

    @app.post("/_sandbox/faults")
    def set_faults() -> Response:
        try:
            faults.update(**(request.get_json(silent=True) or {}))
        except (ValueError, TypeError) as exc:
            return stripe_error(400, str(exc))
        return ok({"ok": True})

    @app.post("/_sandbox/webhook")
    def set_webhook() -> Response:
        """{"url": …}: where to push events from now on (null stops pushing)."""
        state.webhook_url = (request.get_json(silent=True) or {}).get("url")
        return ok({"url": state.webhook_url})

    @app.get("/_sandbox/state")
    def summary() -> Response:
        with state.lock:
            return ok({"payment_intents": len(state.intents), "charges": len(state.charges),
                       "refunds": len(state.refunds), "events": len(state.events), "requests": state.requests})

    return app
