"""PayPal Orders v2 / Payments v2 JSON -> the payment port's dataclasses. Pure: no I/O, no clock.

Reference: https://developer.paypal.com/docs/api/orders/v2/ (order, purchase_unit, payments.captures[] /
authorizations[] / refunds[]), https://developer.paypal.com/docs/api/payments/v2/ (capture, refund),
https://developer.paypal.com/api/rest/webhooks/event-names/ (event types) and
https://developer.paypal.com/docs/api/reference/currency-codes/ (decimals).

- Amounts are `{currency_code, value}` with `value` a string in the currency's decimals: "10.50" EUR,
  "1500" JPY. PayPal refuses decimals for HUF and TWD although ISO 4217 gives them two: those are sent and
  read as whole units, and an amount with a fraction is refused before it leaves.
- One purchase unit per order: the hub charges one payment per order, `invoice_id` = our reference.
- An order's money: captures COMPLETED add to `captured`; its refunds (COMPLETED) to `refunded`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from hub.errors import PermanentError
from hub.money import Money, minor_units
from hub.payments.port import PaymentStatus, ProviderEvent, ProviderPayment, ProviderRefund

# Currencies PayPal takes without decimals although ISO 4217 has some (its currency-codes page).
WHOLE_UNITS = frozenset({"HUF", "JPY", "TWD"})

# Issues (error `details[].issue`) that mean the payer's side refused, not our request.
DECLINE_ISSUES = frozenset({
    "INSTRUMENT_DECLINED", "CARD_EXPIRED", "PAYER_CANNOT_PAY", "TRANSACTION_REFUSED", "PAYER_ACTION_REQUIRED",
    "REDIRECT_PAYER_FOR_ALTERNATE_FUNDING", "MAX_NUMBER_OF_PAYMENT_ATTEMPTS_EXCEEDED", "COMPLIANCE_VIOLATION",
})


def decimals(currency: str) -> int:
    return 0 if currency in WHOLE_UNITS else minor_units(currency)


def value(money: Money) -> str:
    """The `value` string PayPal wants: exactly its decimals, never a float, never exponent notation."""
    places = decimals(money.currency)
    quantum = Decimal(1).scaleb(-places)
    if money.amount != money.amount.quantize(quantum):
        raise PermanentError(f"PayPal takes {money.currency} with {places} decimals, not {money.amount}")
    return format(money.amount.quantize(quantum), "f")


def amount(money: Money) -> dict[str, str]:
    return {"currency_code": money.currency, "value": value(money)}


def money(raw: object, where: str = "amount") -> Money:
    if not isinstance(raw, dict) or not isinstance(raw.get("value"), str):
        raise PermanentError(f"PayPal {where}: not an amount object: {raw!r}")
    try:
        return Money(Decimal(raw["value"]), str(raw.get("currency_code")))
    except (InvalidOperation, ValueError) as exc:
        raise PermanentError(f"PayPal {where}: {exc}") from None


def link(raw: dict[str, Any], rel: str) -> str | None:
    for item in raw.get("links") or []:
        if isinstance(item, dict) and item.get("rel") == rel:
            return str(item.get("href"))
    return None


def unit(order: dict[str, Any]) -> dict[str, Any]:
    units = order.get("purchase_units") or []
    if not units or not isinstance(units[0], dict):
        raise PermanentError(f"PayPal order {order.get('id')}: no purchase unit")
    return units[0]


def captures(order: dict[str, Any]) -> list[dict[str, Any]]:
    return list((unit(order).get("payments") or {}).get("captures") or [])


def authorizations(order: dict[str, Any]) -> list[dict[str, Any]]:
    return list((unit(order).get("payments") or {}).get("authorizations") or [])


def refunds(order: dict[str, Any]) -> list[dict[str, Any]]:
    return list((unit(order).get("payments") or {}).get("refunds") or [])


def _sum(items: list[dict[str, Any]], statuses: set[str], zero: Money) -> Money:
    total = zero
    for item in items:
        if item.get("status") in statuses:
            total = total + money(item.get("amount"))
    return total


def payment(order: dict[str, Any]) -> ProviderPayment:
    """A full order (GET, or a create/capture/authorize answer with Prefer: return=representation)."""
    pu = unit(order)
    total = money(pu.get("amount"), "purchase_units[0].amount")
    zero = Money.zero(total.currency)
    captured = _sum(captures(order), {"COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED"}, zero)
    refunded = _sum(refunds(order), {"COMPLETED"}, zero)
    auths = authorizations(order)
    denied = [c for c in captures(order) if c.get("status") in ("DECLINED", "FAILED")]
    order_status = order.get("status")
    failure = ""
    if refunded and refunded >= captured:
        status = PaymentStatus.REFUNDED
    elif refunded:
        status = PaymentStatus.PARTIALLY_REFUNDED
    elif captured:
        status = PaymentStatus.CAPTURED
    elif denied:
        status = PaymentStatus.FAILED
        failure = str((denied[-1].get("status_details") or {}).get("reason") or denied[-1].get("status"))
    elif auths and auths[-1].get("status") in ("VOIDED", "EXPIRED"):
        status = PaymentStatus.VOIDED
    elif auths and auths[-1].get("status") in ("CREATED", "PENDING", "PARTIALLY_CAPTURED"):
        status = PaymentStatus.AUTHORIZED
    elif order_status == "VOIDED":
        status = PaymentStatus.VOIDED
    else:
        status = PaymentStatus.PENDING  # CREATED, SAVED, APPROVED, PAYER_ACTION_REQUIRED: not yet our money
    action = link(order, "approve") or link(order, "payer-action")
    return ProviderPayment(
        provider_id=str(order["id"]), status=status, amount=total, captured=captured, refunded=refunded,
        action_url=action if status is PaymentStatus.PENDING else None, failure_reason=failure, raw=order)


def refund(raw: dict[str, Any], requested: Money) -> ProviderRefund:
    """A refund answer; `amount` is absent under Prefer: return=minimal, then the requested amount stands."""
    got = money(raw["amount"]) if isinstance(raw.get("amount"), dict) else requested
    return ProviderRefund(provider_id=str(raw["id"]), amount=got, succeeded=raw.get("status") == "COMPLETED",
                          raw=raw)


def declined(error: object) -> str | None:
    """The issue that makes an error body a decline (422 INSTRUMENT_DECLINED …), or None."""
    if not isinstance(error, dict):
        return None
    for detail in error.get("details") or []:
        if isinstance(detail, dict) and detail.get("issue") in DECLINE_ISSUES:
            return str(detail["issue"])
    return None


# --- webhooks ------------------------------------------------------------------------------------------------

EVENT_STATUS: dict[str, PaymentStatus] = {
    "CHECKOUT.ORDER.APPROVED": PaymentStatus.PENDING,  # the payer approved; the hub captures or authorizes next
    "PAYMENT.AUTHORIZATION.CREATED": PaymentStatus.AUTHORIZED,
    "PAYMENT.CAPTURE.COMPLETED": PaymentStatus.CAPTURED,
    "PAYMENT.CAPTURE.DENIED": PaymentStatus.FAILED,
    "PAYMENT.CAPTURE.DECLINED": PaymentStatus.FAILED,
    "PAYMENT.CAPTURE.REFUNDED": PaymentStatus.PARTIALLY_REFUNDED,  # see event(): no capture total here
    "PAYMENT.AUTHORIZATION.VOIDED": PaymentStatus.VOIDED,
}


def _time(raw: object) -> datetime:
    if not isinstance(raw, str):
        raise PermanentError(f"PayPal event: create_time is not a time: {raw!r}")
    parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise PermanentError(f"PayPal event: create_time without an offset: {raw!r}")
    return parsed


def event(raw: dict[str, Any]) -> ProviderEvent:
    """A verified webhook event. `provider_id` is always the order id, the hub's id for a PayPal payment: for
    captures, authorizations and refunds it comes from `supplementary_data.related_ids.order_id`.

    PAYMENT.CAPTURE.REFUNDED carries the refund, not the capture, and no capture total: it is reported as
    PARTIALLY_REFUNDED with `seller_payable_breakdown.total_refunded_amount` (everything refunded so far) as
    its amount when present, the refund's own amount otherwise. Whether that is all of it is for the service
    to tell against the captured amount it holds (or by query())."""
    kind = raw.get("event_type")
    if kind not in EVENT_STATUS:
        raise PermanentError(f"PayPal event type {kind!r} is not one the hub handles")
    resource = raw.get("resource")
    if not isinstance(resource, dict) or not raw.get("id"):
        raise PermanentError("PayPal event without an id or a resource")
    status = EVENT_STATUS[kind]
    if kind == "CHECKOUT.ORDER.APPROVED":
        provider_id = str(resource.get("id"))
        pu = (resource.get("purchase_units") or [{}])[0]
        reference = pu.get("invoice_id") or pu.get("reference_id")
        total = money(pu["amount"]) if isinstance(pu.get("amount"), dict) else None
    else:
        related = (resource.get("supplementary_data") or {}).get("related_ids") or {}
        provider_id = str(related.get("order_id") or "")
        if not provider_id:
            raise PermanentError(f"PayPal event {raw.get('id')}: no related order id")
        reference = resource.get("invoice_id")
        total = money(resource["amount"]) if isinstance(resource.get("amount"), dict) else None
        if kind == "PAYMENT.CAPTURE.REFUNDED":
            breakdown = resource.get("seller_payable_breakdown") or {}
            if isinstance(breakdown.get("total_refunded_amount"), dict):
                total = money(breakdown["total_refunded_amount"], "total_refunded_amount")
    return ProviderEvent(event_id=str(raw["id"]), provider_id=provider_id, status=status,
                         occurred_at=_time(raw.get("create_time")), amount=total,
                         reference=str(reference) if reference else None, raw=raw)
