"""Stripe's REST API, one method per endpoint: https://docs.stripe.com/api

Bodies are form-encoded (`metadata[reference]=…`, `expand[]=…`), amounts integers in minor units (mapping.py),
auth a secret key as Bearer token. Every mutating call carries the `Idempotency-Key` it is given
(https://docs.stripe.com/api/idempotent_requests): Stripe stores the first answer for a key and replays it,
so the HTTP client may retry a POST whose answer was lost, and the service may send it again after a crash.

Retries follow Stripe's own advice (https://docs.stripe.com/error-low-level#idempotency): the
`Stripe-Should-Retry` header, when present, decides; otherwise connection errors, timeouts, 409 (another
request with the same key in flight), 429 and 5xx are retried, and a 402 (card declined) never is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hub.errors import PermanentError
from hub.outbound.http import HttpClient, Response
from hub.payments.port import PaymentDeclined

API_VERSION = "2024-06-20"


def should_retry(response: Response) -> bool | None:
    """HttpClient.should_retry for Stripe: its header first, then 409 (an in-flight duplicate) as transient."""
    header = str(response.headers.get("Stripe-Should-Retry", "")).strip().lower()
    if header in ("true", "false"):
        return header == "true"
    if response.status == 409:
        return True
    return None


class StripeClient:
    def __init__(self, http: HttpClient, secret_key: str) -> None:
        http.should_retry = should_retry
        self.http = http
        self.secret_key = secret_key

    def _headers(self, idempotency_key: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.secret_key}", "Stripe-Version": API_VERSION}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        return headers

    def _post(self, path: str, form: Mapping[str, Any], idempotency_key: str) -> dict[str, Any]:
        # idempotent=True: with the key, repeating the POST cannot act twice, so a cut answer may be asked again.
        body, response = self.http.request_json("POST", path, data=dict(form), headers=self._headers(idempotency_key),
                                                ok=(402,), idempotent=True)
        if response.status == 402:
            raise _declined(response)
        return body

    def _get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        body, _ = self.http.request_json("GET", path, params=params, headers=self._headers())
        return body

    # https://docs.stripe.com/api/payment_intents/create
    def create_payment_intent(self, form: Mapping[str, Any], idempotency_key: str) -> dict[str, Any]:
        return self._post("/v1/payment_intents", form, idempotency_key)

    # https://docs.stripe.com/api/payment_intents/retrieve
    def retrieve_payment_intent(self, intent_id: str) -> dict[str, Any]:
        return self._get(f"/v1/payment_intents/{intent_id}", {"expand[]": "latest_charge"})

    # https://docs.stripe.com/api/payment_intents/capture
    def capture_payment_intent(self, intent_id: str, amount_to_capture: int | None,
                               idempotency_key: str) -> dict[str, Any]:
        form: dict[str, Any] = {"expand[]": "latest_charge"}
        if amount_to_capture is not None:
            form["amount_to_capture"] = amount_to_capture
        return self._post(f"/v1/payment_intents/{intent_id}/capture", form, idempotency_key)

    # https://docs.stripe.com/api/payment_intents/cancel
    def cancel_payment_intent(self, intent_id: str, idempotency_key: str) -> dict[str, Any]:
        return self._post(f"/v1/payment_intents/{intent_id}/cancel", {"expand[]": "latest_charge"}, idempotency_key)

    # https://docs.stripe.com/api/refunds/create
    def create_refund(self, intent_id: str, amount: int | None, idempotency_key: str) -> dict[str, Any]:
        form: dict[str, Any] = {"payment_intent": intent_id}
        if amount is not None:
            form["amount"] = amount
        return self._post("/v1/refunds", form, idempotency_key)


class CardDeclined(PaymentDeclined):
    """A 402 card error (https://docs.stripe.com/error-codes), with Stripe's reason and the intent it left."""

    def __init__(self, message: str, *, reason: str, payment_intent: dict[str, Any] | None) -> None:
        super().__init__(message, status=402)
        self.reason = reason
        self.payment_intent = payment_intent


def _declined(response: Response) -> CardDeclined:
    try:
        error = (response.json() or {}).get("error") or {}
    except PermanentError:
        error = {}
    reason = str(error.get("decline_code") or error.get("code") or "card_declined")
    intent = error.get("payment_intent")
    return CardDeclined(f"stripe declined the payment: {error.get('message') or reason}", reason=reason,
                        payment_intent=intent if isinstance(intent, dict) else None)
