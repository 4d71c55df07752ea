"""PaymentProvider over Stripe PaymentIntents: create-and-confirm, capture, cancel, refund, retrieve."""

from __future__ import annotations

from hub.money import Money
from hub.payments.port import PaymentRequest, ProviderPayment, ProviderRefund
from hub.payments.stripe import mapping
from hub.payments.stripe.client import StripeClient


class StripeProvider:
    name = "stripe"

    def __init__(self, client: StripeClient) -> None:
        self.client = client

    def create(self, request: PaymentRequest, idempotency_key: str) -> ProviderPayment:
        form: dict[str, object] = {
            "amount": mapping.to_minor(request.amount),
            "currency": request.amount.currency.lower(),
            "capture_method": "automatic" if request.capture else "manual",
            "metadata[reference]": request.reference,
            "expand[]": "latest_charge",
        }
        if request.description:
            form["description"] = request.description
        if request.payment_method:
            # Confirmed at once: the hub charges a payment method it already holds (a saved card, a test token).
            form["payment_method"] = request.payment_method
            form["confirm"] = "true"
            if request.return_url:
                form["return_url"] = request.return_url
        return mapping.payment(self.client.create_payment_intent(form, idempotency_key))

    def capture(self, provider_id: str, amount: Money | None, idempotency_key: str) -> ProviderPayment:
        minor = mapping.to_minor(amount) if amount is not None else None
        return mapping.payment(self.client.capture_payment_intent(provider_id, minor, idempotency_key))

    def refund(self, provider_id: str, amount: Money | None, idempotency_key: str) -> ProviderRefund:
        minor = mapping.to_minor(amount) if amount is not None else None
        return mapping.refund(self.client.create_refund(provider_id, minor, idempotency_key))

    def void(self, provider_id: str, idempotency_key: str) -> ProviderPayment:
        return mapping.payment(self.client.cancel_payment_intent(provider_id, idempotency_key))

    def query(self, provider_id: str) -> ProviderPayment:
        return mapping.payment(self.client.retrieve_payment_intent(provider_id))
