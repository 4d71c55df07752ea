"""Alipay trade answers and notifies -> the payment port's dataclasses. Pure: no I/O, no clock.

References: alipay.trade.query https://opendocs.alipay.com/apis/api_1/alipay.trade.query and the async
notify of page pay https://opendocs.alipay.com/open/270/105902.

- Amounts are yuan strings with at most two decimals ("88.88"), always CNY here: the hub's provider_id for
  an Alipay payment is our out_trade_no, which is known before the payer ever reaches Alipay (trade_no is
  not).
- trade_status: WAIT_BUYER_PAY (pending), TRADE_SUCCESS (paid, refundable), TRADE_FINISHED (paid, no longer
  refundable), TRADE_CLOSED (closed unpaid, or refunded in full). A refund leaves a partly refunded trade
  TRADE_SUCCESS; its notify then carries `refund_fee` (all refunded so far), `out_biz_no` (our
  out_request_no) and `gmt_refund`.
- Times are Beijing time without an offset ("2026-11-30 18:04:05").
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from hub.errors import PermanentError
from hub.money import Money
from hub.payments.port import PaymentStatus, ProviderEvent, ProviderPayment, ProviderRefund

CURRENCY = "CNY"
BEIJING = ZoneInfo("Asia/Shanghai")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
MAX_AMOUNT = Decimal("100000000")


def amount_text(money: Money) -> str:
    """`total_amount` / `refund_amount`: yuan with two decimals, 0.01 to 100000000."""
    if money.currency != CURRENCY:
        raise PermanentError(f"Alipay page pay charges CNY, not {money.currency}")
    cents = money.amount.quantize(Decimal("0.01"))
    if cents != money.amount or not Decimal("0.01") <= cents <= MAX_AMOUNT:
        raise PermanentError(f"Alipay cannot charge {money.amount} CNY (0.01 to 100000000, two decimals)")
    return format(cents, "f")


def money(raw: object, where: str) -> Money:
    if not isinstance(raw, str):
        raise PermanentError(f"Alipay {where}: not an amount string: {raw!r}")
    try:
        return Money(Decimal(raw), CURRENCY)
    except (InvalidOperation, ValueError):
        raise PermanentError(f"Alipay {where}: not an amount: {raw!r}") from None


def beijing_time(raw: object, where: str) -> datetime:
    if not isinstance(raw, str):
        raise PermanentError(f"Alipay {where}: not a time: {raw!r}")
    try:
        return datetime.strptime(raw, TIME_FORMAT).replace(tzinfo=BEIJING).astimezone(UTC)
    except ValueError:
        raise PermanentError(f"Alipay {where}: not a time: {raw!r}") from None


def timestamp(now: datetime) -> str:
    """The request `timestamp`: Beijing time."""
    return now.astimezone(BEIJING).strftime(TIME_FORMAT)


def status(trade_status: object, paid: bool, refunded: Money) -> PaymentStatus:
    if trade_status in ("TRADE_SUCCESS", "TRADE_FINISHED"):
        return PaymentStatus.PARTIALLY_REFUNDED if refunded else PaymentStatus.CAPTURED
    if trade_status == "TRADE_CLOSED":
        return PaymentStatus.REFUNDED if paid or refunded else PaymentStatus.VOIDED
    if trade_status == "WAIT_BUYER_PAY":
        return PaymentStatus.PENDING
    raise PermanentError(f"Alipay trade_status {trade_status!r} is unknown")


def payment(raw: dict[str, Any]) -> ProviderPayment:
    """An alipay.trade.query answer. It tells no refund total: a partly refunded trade reads CAPTURED, one
    refunded in full (closed after payment, `send_pay_date` set) REFUNDED."""
    total = money(raw.get("total_amount"), "total_amount")
    paid = bool(raw.get("send_pay_date"))
    trade_status = raw.get("trade_status")
    result = status(trade_status, paid, Money.zero(CURRENCY))
    captured = total if paid or trade_status in ("TRADE_SUCCESS", "TRADE_FINISHED") else Money.zero(CURRENCY)
    refunded = total if result is PaymentStatus.REFUNDED else Money.zero(CURRENCY)
    return ProviderPayment(provider_id=str(raw.get("out_trade_no")), status=result, amount=total,
                           captured=captured, refunded=refunded, raw=raw)


def refund(raw: dict[str, Any], out_request_no: str, requested: Money) -> ProviderRefund:
    """An alipay.trade.refund answer (code 10000). `fund_change` N on a repeated out_request_no means the
    refund was made by the first call: it still succeeded. The answer's `refund_fee` is the trade's total
    refunded, so the refund's own amount is the one asked for."""
    return ProviderRefund(provider_id=out_request_no, amount=requested, succeeded=True, raw=raw)


def event(fields: dict[str, str]) -> ProviderEvent:
    """A verified notify (form fields)."""
    for name in ("notify_id", "out_trade_no", "trade_status", "total_amount"):
        if not fields.get(name):
            raise PermanentError(f"Alipay notify without {name}")
    total = money(fields["total_amount"], "total_amount")
    refunded = money(fields["refund_fee"], "refund_fee") if fields.get("refund_fee") else Money.zero(CURRENCY)
    result = status(fields["trade_status"], bool(fields.get("gmt_payment")), refunded)
    when_field = {PaymentStatus.PARTIALLY_REFUNDED: "gmt_refund", PaymentStatus.REFUNDED: "gmt_refund",
                  PaymentStatus.VOIDED: "gmt_close", PaymentStatus.CAPTURED: "gmt_payment"}.get(result, "")
    when = fields.get(when_field) or fields.get("notify_time")
    reported = refunded if result in (PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED) else total
    return ProviderEvent(event_id=fields["notify_id"], provider_id=fields["out_trade_no"], status=result,
                         occurred_at=beijing_time(when, when_field or "notify_time"), amount=reported,
                         reference=fields["out_trade_no"], raw=dict(fields))
