"""What the API takes and gives for payments (for POST /api/v1/orders/<id>/payments and friends)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from hub.accounts.schemas import Strict
from hub.db import MAX_ID
from hub.payments.models import Payment


class PaymentIn(Strict):
    account_id: int = Field(gt=0, le=MAX_ID, description="The seller's payment account to charge through")
    payment_method: str | None = Field(default=None, min_length=1, max_length=128,
                                       description="A provider token, e.g. Stripe's pm_card_visa")
    capture: bool = Field(default=True, description="False: authorize only, capture later")
    return_url: str | None = Field(default=None, max_length=1000, description="Where a redirect flow returns")


class AmountIn(Strict):
    amount: Decimal | None = Field(default=None, gt=0, max_digits=15, decimal_places=4,
                                   description="Omit for all of it (capture) or all that is left (refund)")


class PaymentOut(BaseModel):
    id: int
    order_id: int
    provider: str
    provider_id: str | None
    reference: str
    status: str
    currency: str
    amount: Decimal
    captured: Decimal
    refunded: Decimal
    action_url: str | None
    failure_reason: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, payment: Payment) -> PaymentOut:
        return cls(id=payment.id, order_id=payment.order_id, provider=payment.provider,
                   provider_id=payment.provider_id, reference=payment.reference, status=str(payment.status),
                   currency=payment.currency, amount=payment.amount, captured=payment.captured,
                   refunded=payment.refunded, action_url=payment.action_url, failure_reason=payment.failure_reason,
                   created_at=payment.created_at, updated_at=payment.updated_at)
