"""PaymentProvider over PayPal Orders v2. The hub's provider_id for a PayPal payment is the order id.

Flows (https://developer.paypal.com/docs/checkout/standard/integrate/):

- capture=True: create (intent CAPTURE) -> the payer approves at `action_url` -> capture() captures the order.
- capture=False: create (intent AUTHORIZE) -> the payer approves -> capture() authorizes the order if that
  was not done yet (PayPal-Request-Id `<key>:authorize`) and captures the authorization, in part if an
  amount is given; void() voids the authorization.
- refund() refunds the order's (first) capture, in part when an amount is given.

An order that was approved but never authorized or captured cannot be cancelled through the API (it expires
after 3 hours, 72 for AUTHORIZE orders held…): void() answers it VOIDED without a call, since no money moved.
"""

from __future__ import annotations

from typing import Any

from hub.errors import PermanentError
from hub.money import Money
from hub.payments.paypal import mapping
from hub.payments.paypal.client import PayPalClient
from hub.payments.port import PaymentDeclined, PaymentRequest, PaymentStatus, ProviderPayment, ProviderRefund


class PayPalProvider:
    name = "paypal"

    def __init__(self, client: PayPalClient) -> None:
        self.client = client

    def create(self, request: PaymentRequest, idempotency_key: str) -> ProviderPayment:
        unit: dict[str, Any] = {"reference_id": request.reference[:256], "invoice_id": request.reference[:127],
                                "amount": mapping.amount(request.amount)}
        if request.description:
            unit["description"] = request.description[:127]
        order: dict[str, Any] = {"intent": "CAPTURE" if request.capture else "AUTHORIZE", "purchase_units": [unit]}
        if request.return_url:
            order["payment_source"] = {"paypal": {"experience_context": {
                "return_url": request.return_url, "cancel_url": request.return_url}}}
        return mapping.payment(self.client.create_order(order, idempotency_key))

    def capture(self, provider_id: str, amount: Money | None, idempotency_key: str) -> ProviderPayment:
        order = self.client.get_order(provider_id)
        if order.get("intent") == "CAPTURE":
            if amount is not None and amount != mapping.money(mapping.unit(order).get("amount")):
                raise PermanentError("PayPal captures a CAPTURE order in full; authorize to capture in part")
            if order.get("status") != "COMPLETED":
                order = self.client.capture_order(provider_id, idempotency_key)
            return self._settled(order)
        auths = mapping.authorizations(order)
        if not auths:
            order = self.client.authorize_order(provider_id, f"{idempotency_key}:authorize")
            auths = mapping.authorizations(order)
        if not auths:
            raise PermanentError(f"PayPal order {provider_id}: authorized without an authorization")
        capture = self.client.capture_authorization(str(auths[-1]["id"]), amount, idempotency_key)
        if capture.get("status") in ("DECLINED", "FAILED"):
            raise PaymentDeclined(f"PayPal declined the capture: {capture.get('status')}")
        return mapping.payment(self.client.get_order(provider_id))

    def refund(self, provider_id: str, amount: Money | None, idempotency_key: str) -> ProviderRefund:
        order = self.client.get_order(provider_id)
        captures = [c for c in mapping.captures(order) if c.get("status") in ("COMPLETED", "PARTIALLY_REFUNDED")]
        if not captures:
            raise PermanentError(f"PayPal order {provider_id}: nothing captured to refund")
        capture = captures[0]
        requested = amount if amount is not None else mapping.money(capture.get("amount"))
        raw = self.client.refund_capture(str(capture["id"]), amount, idempotency_key,
                                         invoice_id=mapping.unit(order).get("invoice_id"))
        return mapping.refund(raw, requested)

    def void(self, provider_id: str, idempotency_key: str) -> ProviderPayment:
        order = self.client.get_order(provider_id)
        live = [a for a in mapping.authorizations(order) if a.get("status") in ("CREATED", "PENDING")]
        if live:
            self.client.void_authorization(str(live[-1]["id"]), idempotency_key)
            return mapping.payment(self.client.get_order(provider_id))
        current = mapping.payment(order)
        if current.status is PaymentStatus.PENDING:  # approved or not, nothing is held: it lapses on its own
            return ProviderPayment(provider_id=current.provider_id, status=PaymentStatus.VOIDED,
                                   amount=current.amount, captured=current.captured, refunded=current.refunded,
                                   raw=order)
        if current.status is PaymentStatus.VOIDED:
            return current
        raise PermanentError(f"PayPal order {provider_id} is {current.status}: nothing to void")

    def query(self, provider_id: str) -> ProviderPayment:
        return mapping.payment(self.client.get_order(provider_id))

    def _settled(self, order: dict[str, Any]) -> ProviderPayment:
        result = mapping.payment(order)
        if result.status is PaymentStatus.FAILED:
            raise PaymentDeclined(f"PayPal declined the capture: {result.failure_reason}")
        return result
