"""What the hub needs from a payment provider, in plain dataclasses: no requests, no Flask, no ORM rows.

An adapter (`hub/payments/stripe/`, `paypal/`, `alipay/`) implements `PaymentProvider` over the provider's
HTTP API and `NotificationParser` over its webhook or notify format. The service (`hub/payments/services.py`)
owns the payment's state machine and the idempotency keys: it writes a key to the database *before* the
call and passes the same key on every retry, so an adapter never invents one.

Errors an adapter raises (all from `hub.errors`):

    ExternalError
    ├── TransientError         timeout, connection reset, 429, 5xx, Stripe-Should-Retry: true
    └── PermanentError         the provider refused: card declined, bad amount, unknown payment
        ├── PaymentDeclined    the payer's side refused (declined card, insufficient funds)
        └── SignatureInvalid   a notification whose signature or timestamp does not verify
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from hub.errors import PermanentError
from hub.money import Money


class PaymentStatus(enum.StrEnum):
    PENDING = "pending"                      # created, waiting for the payer or the provider
    AUTHORIZED = "authorized"                # funds held, not yet captured
    CAPTURED = "captured"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    FAILED = "failed"
    VOIDED = "voided"


class PaymentDeclined(PermanentError):
    code = "payment_declined"


class SignatureInvalid(PermanentError):
    code = "signature_invalid"
    http_status = 400


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    """What to charge. `reference` is the hub's own id for the payment (Alipay's out_trade_no, PayPal's
    invoice_id, Stripe's metadata), so a payment can be found at the provider even if its id was lost."""

    reference: str
    amount: Money
    capture: bool = True                      # False: authorize only, capture later
    description: str = ""
    return_url: str | None = None             # where a redirect flow (PayPal, Alipay) sends the payer back
    notify_url: str | None = None             # Alipay's asynchronous notify
    payment_method: str | None = None         # a provider token such as Stripe's "pm_card_visa"


@dataclass(frozen=True, slots=True)
class ProviderPayment:
    """The provider's view of one payment after a call."""

    provider_id: str                          # pi_…, PayPal order id, Alipay trade_no (or out_trade_no)
    status: PaymentStatus
    amount: Money
    captured: Money
    refunded: Money
    action_url: str | None = None             # where the payer must go to approve (PayPal, Alipay)
    failure_reason: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ProviderRefund:
    provider_id: str                          # re_…, PayPal refund id, Alipay out_request_no
    amount: Money
    succeeded: bool
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ProviderEvent:
    """A verified notification. `event_id` is what deduplicates it; `provider_id` finds the payment."""

    event_id: str
    provider_id: str
    status: PaymentStatus                     # the payment's status the event reports
    occurred_at: datetime
    amount: Money | None = None
    reference: str | None = None              # our PaymentRequest.reference when the provider echoes it
    raw: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class PaymentProvider(Protocol):
    """One payment provider's API. Every method takes the key to send as the provider's idempotency
    header (`Idempotency-Key`, `PayPal-Request-Id`, Alipay's out_trade_no / out_request_no)."""

    name: str

    def create(self, request: PaymentRequest, idempotency_key: str) -> ProviderPayment: ...

    def capture(self, provider_id: str, amount: Money | None, idempotency_key: str) -> ProviderPayment: ...

    def refund(self, provider_id: str, amount: Money | None, idempotency_key: str) -> ProviderRefund: ...

    def void(self, provider_id: str, idempotency_key: str) -> ProviderPayment: ...

    def query(self, provider_id: str) -> ProviderPayment: ...


@runtime_checkable
class NotificationParser(Protocol):
    """Verifies and reads one provider's webhook or notify. Raises SignatureInvalid on any doubt."""

    def parse(self, headers: dict[str, str], body: bytes, now: datetime) -> ProviderEvent: ...

    def acknowledgement(self) -> tuple[int, str, str]:
        """The HTTP status, content type and body the provider expects back (Alipay: 200 text `success`)."""
        ...
