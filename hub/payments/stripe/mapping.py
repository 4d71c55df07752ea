"""Stripe's objects to the port's dataclasses, and amounts to and from Stripe's minor units. Pure: no I/O.

Stripe takes every amount as an integer in the currency's smallest unit, with its own list of zero-decimal
currencies (https://docs.stripe.com/currencies#zero-decimal), which is not ISO 4217's in every case (ISK, HUF
and UGX are two-decimal or zero-decimal there in ways the ISO table does not say), and three-decimal currencies
whose minor amount must end in 0 (https://docs.stripe.com/currencies#three-decimal).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hub.errors import ValidationError
from hub.money import Money, minor_units
from hub.payments.port import PaymentStatus, ProviderEvent, ProviderPayment, ProviderRefund

ZERO_DECIMAL = frozenset({"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV",
                          "XAF", "XOF", "XPF"})
THREE_DECIMAL = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})

# The events the hub listens to, and the status each reports (charge.refunded is read from its charge).
EVENT_STATUS = {
    "payment_intent.succeeded": PaymentStatus.CAPTURED,
    "payment_intent.amount_capturable_updated": PaymentStatus.AUTHORIZED,
    "payment_intent.payment_failed": PaymentStatus.FAILED,
    "payment_intent.canceled": PaymentStatus.VOIDED,
    "payment_intent.processing": PaymentStatus.PENDING,
    "payment_intent.created": PaymentStatus.PENDING,
}


def exponent(currency: str) -> int:
    return 0 if currency in ZERO_DECIMAL else minor_units(currency)


def to_minor(money: Money) -> int:
    """The integer Stripe wants: 10.50 EUR -> 1050, 1200 JPY -> 1200. Refuses what would lose a fraction."""
    scaled = money.amount.scaleb(exponent(money.currency))
    if scaled != scaled.to_integral_value():
        raise ValidationError(f"{money} has more decimals than Stripe takes for {money.currency}",
                              fields={"amount": "too many decimals"})
    minor = int(scaled)
    if money.currency in THREE_DECIMAL and minor % 10:
        raise ValidationError(f"Stripe takes {money.currency} amounts in steps of 0.010 only: {money}",
                              fields={"amount": "must end in 0 in the third decimal"})
    return minor


def from_minor(minor: int | str | Decimal, currency: str) -> Money:
    code = currency.upper()  # Stripe writes currencies in lower case
    return Money(Decimal(int(minor)).scaleb(-exponent(code)), code).rounded()


def _charge(intent: dict[str, Any]) -> dict[str, Any]:
    charge = intent.get("latest_charge")
    return charge if isinstance(charge, dict) else {}


def intent_status(intent: dict[str, Any]) -> PaymentStatus:
    """https://docs.stripe.com/payments/paymentintents/lifecycle"""
    status = intent.get("status")
    if status == "succeeded":
        charge = _charge(intent)
        refunded = int(charge.get("amount_refunded") or 0)
        if refunded:
            captured = int(charge.get("amount_captured") or intent.get("amount_received") or 0)
            return PaymentStatus.REFUNDED if refunded >= captured else PaymentStatus.PARTIALLY_REFUNDED
        return PaymentStatus.CAPTURED
    if status == "requires_capture":
        return PaymentStatus.AUTHORIZED
    if status == "canceled":
        return PaymentStatus.VOIDED
    if status == "requires_payment_method" and intent.get("last_payment_error"):
        return PaymentStatus.FAILED  # the payment method was declined; the intent waits for another
    return PaymentStatus.PENDING  # requires_payment_method, requires_confirmation, requires_action, processing


def payment(intent: dict[str, Any]) -> ProviderPayment:
    currency = str(intent["currency"]).upper()
    charge = _charge(intent)
    error = intent.get("last_payment_error") or {}
    action = (intent.get("next_action") or {}).get("redirect_to_url") or {}
    return ProviderPayment(
        provider_id=str(intent["id"]),
        status=intent_status(intent),
        amount=from_minor(intent["amount"], currency),
        captured=from_minor(intent.get("amount_received") or 0, currency),
        refunded=from_minor(charge.get("amount_refunded") or 0, currency),
        action_url=action.get("url"),
        failure_reason=str(error.get("decline_code") or error.get("code") or error.get("message") or ""),
        raw=summary(intent),
    )


def refund(body: dict[str, Any]) -> ProviderRefund:
    # pending: the bank has not confirmed yet, but Stripe accepted it; failed and canceled did not happen.
    return ProviderRefund(provider_id=str(body["id"]), amount=from_minor(body["amount"], str(body["currency"]).upper()),
                          succeeded=body.get("status") in ("succeeded", "pending"), raw=summary(body))


def summary(obj: dict[str, Any]) -> dict[str, Any]:
    """What an attempt row keeps of an answer: ids, status and amounts, never payment-method details."""
    keep = ("id", "object", "status", "amount", "amount_received", "amount_capturable", "currency", "capture_method",
            "payment_intent")
    out = {k: obj[k] for k in keep if k in obj}
    charge = _charge(obj)
    if charge:
        out["latest_charge"] = {k: charge.get(k) for k in ("id", "amount_captured", "amount_refunded", "refunded")}
    error = obj.get("last_payment_error")
    if error:
        out["last_payment_error"] = {k: error.get(k) for k in ("code", "decline_code", "message")}
    return out


def event(body: dict[str, Any]) -> ProviderEvent | None:
    """A Stripe Event (https://docs.stripe.com/api/events/object) as the port's event; None for kinds the hub
    does not follow."""
    kind = body.get("type")
    obj = (body.get("data") or {}).get("object") or {}
    occurred_at = datetime.fromtimestamp(int(body.get("created") or 0), UTC)
    currency = str(obj.get("currency") or "").upper() or None
    if kind == "charge.refunded":
        refunded = int(obj.get("amount_refunded") or 0)
        status = (PaymentStatus.REFUNDED if obj.get("refunded") or refunded >= int(obj.get("amount_captured") or 0)
                  else PaymentStatus.PARTIALLY_REFUNDED)
        return ProviderEvent(event_id=str(body["id"]), provider_id=str(obj.get("payment_intent") or ""),
                             status=status, occurred_at=occurred_at,
                             amount=from_minor(refunded, currency) if currency else None,
                             reference=(obj.get("metadata") or {}).get("reference"), raw=body)
    if kind in EVENT_STATUS:
        status = EVENT_STATUS[kind]
        field = "amount_received" if status is PaymentStatus.CAPTURED else "amount"
        return ProviderEvent(event_id=str(body["id"]), provider_id=str(obj.get("id") or ""), status=status,
                             occurred_at=occurred_at,
                             amount=from_minor(obj.get(field) or 0, currency) if currency else None,
                             reference=(obj.get("metadata") or {}).get("reference"), raw=body)
    return None
