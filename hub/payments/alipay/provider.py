"""PaymentProvider over Alipay page pay (电脑网站支付, product FAST_INSTANT_TRADE_PAY).

https://opendocs.alipay.com/open/270/105898 — the payer opens the signed page-pay URL, pays in Alipay, and
Alipay notifies `notify_url`; the trade is captured the moment it is paid (there is no authorize-only in
this product, so a PaymentRequest with capture=False is refused).

Idempotency is Alipay's own: `out_trade_no` is unique per app (our PaymentRequest.reference: a repeated
create is the same trade) and `out_request_no` per refund (the idempotency key passed in). The hub's
provider_id is the out_trade_no. alipay.trade.close has no key of its own; closing twice is answered
ACQ.TRADE_STATUS_ERROR, which void() reads back through a query.
"""

from __future__ import annotations

from hub.errors import PermanentError
from hub.money import Money
from hub.payments.alipay import mapping
from hub.payments.alipay.client import AlipayClient, AlipayError
from hub.payments.port import PaymentDeclined, PaymentRequest, PaymentStatus, ProviderPayment, ProviderRefund

MAX_OUT_TRADE_NO = 64


class AlipayProvider:
    name = "alipay"

    def __init__(self, client: AlipayClient) -> None:
        self.client = client

    def create(self, request: PaymentRequest, idempotency_key: str) -> ProviderPayment:
        if not request.capture:
            raise PermanentError("Alipay page pay captures when the payer pays: it cannot authorize only")
        if not request.reference or len(request.reference) > MAX_OUT_TRADE_NO:
            raise PermanentError("Alipay out_trade_no (the payment's reference) must be 1 to 64 characters")
        total = mapping.amount_text(request.amount)
        url = self.client.page_pay_url(request.reference, total, (request.description or request.reference)[:256],
                                       request.notify_url, request.return_url)
        zero = Money.zero(mapping.CURRENCY)
        return ProviderPayment(provider_id=request.reference, status=PaymentStatus.PENDING, amount=request.amount,
                               captured=zero, refunded=zero, action_url=url)

    def capture(self, provider_id: str, amount: Money | None, idempotency_key: str) -> ProviderPayment:
        """Nothing to call: a paid trade is captured. Confirms it, so the service may treat it as a capture."""
        current = self.query(provider_id)
        if amount is not None and amount != current.amount:
            raise PermanentError("Alipay page pay captures the whole amount only")
        if current.status is PaymentStatus.PENDING:
            raise PermanentError(f"Alipay trade {provider_id} is not paid yet")
        if current.status is PaymentStatus.VOIDED:
            raise PaymentDeclined(f"Alipay trade {provider_id} closed without being paid")
        return current

    def refund(self, provider_id: str, amount: Money | None, idempotency_key: str) -> ProviderRefund:
        requested = amount if amount is not None else self.query(provider_id).amount
        raw = self.client.refund(provider_id, mapping.amount_text(requested), idempotency_key)
        return mapping.refund(raw, idempotency_key, requested)

    def void(self, provider_id: str, idempotency_key: str) -> ProviderPayment:
        try:
            self.client.close(provider_id)
        except AlipayError as exc:
            if exc.sub_code != "ACQ.TRADE_STATUS_ERROR":
                raise
        current = self.query(provider_id)
        if current.status is not PaymentStatus.VOIDED:
            raise PermanentError(f"Alipay trade {provider_id} is {current.status}: it cannot be closed")
        return current

    def query(self, provider_id: str) -> ProviderPayment:
        return mapping.payment(self.client.query(provider_id))
