"""HTTP client of PayPal's REST API (Orders v2, Payments v2, webhook verification): one method per endpoint.

- Auth: OAuth 2.0 client credentials, `POST /v1/oauth2/token` with HTTP Basic client_id:client_secret
  (https://developer.paypal.com/api/rest/authentication/). The token is cached in the process, per API
  host and credentials, until a minute before `expires_in` runs out: the payments core builds an adapter
  per operation, and PayPal throttles apps that ask for a token on every call. A 401 on a call drops the
  token and the call is made once more with a fresh one.
- Idempotency: every mutating call carries `PayPal-Request-Id` = the key the service passed
  (https://developer.paypal.com/api/rest/reference/idempotency/): PayPal answers a repeated id with the
  first call's result, so HttpClient's retries of a dropped connection cannot charge twice.
- `Prefer: return=representation` on every call, so answers carry the whole resource (amounts included).
- Errors: 422 UNPROCESSABLE_ENTITY whose `details[].issue` is a decline (INSTRUMENT_DECLINED …) is a
  PaymentDeclined (https://developer.paypal.com/api/rest/reference/orders/v2/errors/); other 4xx are
  PermanentError; 429/5xx and transport failures are TransientError, retried by HttpClient.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time
from collections.abc import Callable
from typing import Any

from hub.errors import PermanentError
from hub.money import Money
from hub.outbound.http import HttpClient
from hub.payments.paypal import mapping
from hub.payments.port import PaymentDeclined

TOKEN_MARGIN_SECONDS = 60.0  # a token this close to expiry is renewed before use

# (base URL, client id, digest of the secret) -> (token, monotonic expiry); shared by every client instance.
_TOKENS: dict[tuple[str, str, str], tuple[str, float]] = {}
_TOKENS_LOCK = threading.Lock()


class PayPalClient:
    def __init__(self, http: HttpClient, client_id: str, client_secret: str,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.http, self.client_id, self.client_secret, self.clock = http, client_id, client_secret, clock
        self._cache_key = (http.base_url.rstrip("/"), client_id, hashlib.sha256(client_secret.encode()).hexdigest())

    # --- auth ------------------------------------------------------------------------------------------------
    def token(self) -> str:
        """POST /v1/oauth2/token — https://developer.paypal.com/api/rest/authentication/"""
        with _TOKENS_LOCK:
            cached = _TOKENS.get(self._cache_key)
        if cached and self.clock() < cached[1] - TOKEN_MARGIN_SECONDS:
            return cached[0]
        basic = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        body, _ = self.http.request_json(
            "POST", "/v1/oauth2/token", data={"grant_type": "client_credentials"}, idempotent=True,
            headers={"Authorization": f"Basic {basic}", "Accept": "application/json"})
        if not isinstance(body, dict) or not body.get("access_token"):
            raise PermanentError("PayPal: the token answer carries no access_token")
        token = str(body["access_token"])
        with _TOKENS_LOCK:
            _TOKENS[self._cache_key] = (token, self.clock() + float(body.get("expires_in") or 0))
        return token

    def forget_token(self) -> None:
        with _TOKENS_LOCK:
            _TOKENS.pop(self._cache_key, None)

    def _call(self, method: str, path: str, *, json_body: Any = None, request_id: str | None = None,
              ok: tuple[int, ...] = ()) -> tuple[Any, int]:
        """One authenticated call; a 401 (token revoked or expired early) renews the token once."""
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {self.token()}", "Prefer": "return=representation",
                       "Accept": "application/json"}
            if request_id is not None:
                headers["PayPal-Request-Id"] = request_id
            if json_body is None and method == "POST":
                headers["Content-Type"] = "application/json"
            body, response = self.http.request_json(
                method, path, json_body=json_body, data=b"" if json_body is None and method == "POST" else None,
                headers=headers, ok=(401, 422, *ok), idempotent=True if request_id is not None else None)
            if response.status == 401 and attempt == 1:
                self.forget_token()
                continue
            if response.status == 401:
                raise PermanentError(f"PayPal: {method} {path} refused our token: {response.text[:300]}",
                                     status=401)
            if response.status == 422 or response.status in ok:
                error = response.json()
                issue = mapping.declined(error)
                if issue:
                    raise PaymentDeclined(f"PayPal declined: {issue}", status=response.status)
                if response.status == 422:
                    raise PermanentError(f"PayPal: {method} {path} answered 422: {response.text[:300]}",
                                         status=422)
                return error, response.status
            return body, response.status
        raise AssertionError("unreachable")

    # --- orders ------------------------------------------------------------------------------------------------
    def create_order(self, order: dict[str, Any], request_id: str) -> dict[str, Any]:
        """POST /v2/checkout/orders — https://developer.paypal.com/docs/api/orders/v2/#orders_create"""
        body, _ = self._call("POST", "/v2/checkout/orders", json_body=order, request_id=request_id)
        return body

    def get_order(self, order_id: str) -> dict[str, Any]:
        """GET /v2/checkout/orders/{id} — https://developer.paypal.com/docs/api/orders/v2/#orders_get"""
        body, _ = self._call("GET", f"/v2/checkout/orders/{order_id}")
        return body

    def capture_order(self, order_id: str, request_id: str) -> dict[str, Any]:
        """POST /v2/checkout/orders/{id}/capture — https://developer.paypal.com/docs/api/orders/v2/#orders_capture"""
        body, _ = self._call("POST", f"/v2/checkout/orders/{order_id}/capture", request_id=request_id)
        return body

    def authorize_order(self, order_id: str, request_id: str) -> dict[str, Any]:
        """POST /v2/checkout/orders/{id}/authorize —
        https://developer.paypal.com/docs/api/orders/v2/#orders_authorize"""
        body, _ = self._call("POST", f"/v2/checkout/orders/{order_id}/authorize", request_id=request_id)
        return body

    # --- payments ----------------------------------------------------------------------------------------------
    def capture_authorization(self, authorization_id: str, amount: Money | None, request_id: str,
                              final: bool = True) -> dict[str, Any]:
        """POST /v2/payments/authorizations/{id}/capture —
        https://developer.paypal.com/docs/api/payments/v2/#authorizations_capture"""
        payload: dict[str, Any] = {"final_capture": final}
        if amount is not None:
            payload["amount"] = mapping.amount(amount)
        body, _ = self._call("POST", f"/v2/payments/authorizations/{authorization_id}/capture", json_body=payload,
                             request_id=request_id)
        return body

    def void_authorization(self, authorization_id: str, request_id: str) -> dict[str, Any] | None:
        """POST /v2/payments/authorizations/{id}/void (204, or 200 with the authorization) —
        https://developer.paypal.com/docs/api/payments/v2/#authorizations_void"""
        body, _ = self._call("POST", f"/v2/payments/authorizations/{authorization_id}/void", request_id=request_id)
        return body

    def refund_capture(self, capture_id: str, amount: Money | None, request_id: str,
                       invoice_id: str | None = None) -> dict[str, Any]:
        """POST /v2/payments/captures/{id}/refund; no amount refunds what is left —
        https://developer.paypal.com/docs/api/payments/v2/#captures_refund"""
        payload: dict[str, Any] = {}
        if amount is not None:
            payload["amount"] = mapping.amount(amount)
        if invoice_id:
            payload["invoice_id"] = invoice_id
        body, _ = self._call("POST", f"/v2/payments/captures/{capture_id}/refund", json_body=payload,
                             request_id=request_id)
        return body

    # --- webhooks ----------------------------------------------------------------------------------------------
    def verify_webhook_signature(self, verification: dict[str, Any]) -> str:
        """POST /v1/notifications/verify-webhook-signature -> verification_status —
        https://developer.paypal.com/docs/api/webhooks/v1/#verify-webhook-signature_post"""
        body, status = self._call("POST", "/v1/notifications/verify-webhook-signature", json_body=verification,
                                  ok=(400,))
        if status != 200 or not isinstance(body, dict):
            return "FAILURE"
        return str(body.get("verification_status") or "FAILURE")
