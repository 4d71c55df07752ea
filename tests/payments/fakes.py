"""A hand-written payment provider for service tests: in memory, with the provider's idempotency (a repeated
key replays the first answer) and knobs to fail after acting, as a dropped connection does."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hub.errors import TransientError
from hub.money import Money
from hub.payments.port import (
    PaymentDeclined,
    PaymentRequest,
    PaymentStatus,
    ProviderEvent,
    ProviderPayment,
    ProviderRefund,
    SignatureInvalid,
)

P = PaymentStatus


@dataclass
class FakeCharge:
    provider_id: str
    amount: Money
    status: PaymentStatus
    captured: Money
    refunded: Money

    def view(self) -> ProviderPayment:
        return ProviderPayment(provider_id=self.provider_id, status=self.status, amount=self.amount,
                               captured=self.captured, refunded=self.refunded, raw={"id": self.provider_id})


@dataclass
class FakeProvider:
    name: str = "stripe"
    charges: dict[str, FakeCharge] = field(default_factory=dict)
    answers: dict[str, object] = field(default_factory=dict)  # idempotency key -> first answer
    calls: list[tuple[str, str]] = field(default_factory=list)  # (operation, key)
    lose_answers: int = 0  # the next N calls act, then fail in transport
    decline: bool = False

    def _once(self, operation: str, key: str, act: Callable[[], object]) -> Any:
        self.calls.append((operation, key))
        if key not in self.answers:
            self.answers[key] = act()
        if self.lose_answers:
            self.lose_answers -= 1
            raise TransientError("fake: connection dropped after the provider acted")
        answer = self.answers[key]
        if isinstance(answer, Exception):
            raise answer
        return answer

    def create(self, request: PaymentRequest, idempotency_key: str) -> ProviderPayment:
        def act() -> ProviderPayment | Exception:
            if self.decline:
                return PaymentDeclined("fake: card declined")
            charge = FakeCharge(f"fake_{len(self.charges) + 1}", request.amount,
                                P.CAPTURED if request.capture else P.AUTHORIZED,
                                request.amount if request.capture else Money.zero(request.amount.currency),
                                Money.zero(request.amount.currency))
            self.charges[charge.provider_id] = charge
            return charge.view()
        return self._once("create", idempotency_key, act)

    def capture(self, provider_id: str, amount: Money | None, idempotency_key: str) -> ProviderPayment:
        def act() -> ProviderPayment:
            charge = self.charges[provider_id]
            charge.captured = amount or charge.amount
            charge.status = P.CAPTURED
            return charge.view()
        return self._once("capture", idempotency_key, act)

    def refund(self, provider_id: str, amount: Money | None, idempotency_key: str) -> ProviderRefund:
        def act() -> ProviderRefund:
            charge = self.charges[provider_id]
            money = amount or (charge.captured - charge.refunded)
            charge.refunded = charge.refunded + money
            charge.status = P.REFUNDED if charge.refunded >= charge.captured else P.PARTIALLY_REFUNDED
            return ProviderRefund(provider_id=f"refund_{idempotency_key[-6:]}", amount=money, succeeded=True)
        return self._once("refund", idempotency_key, act)

    def void(self, provider_id: str, idempotency_key: str) -> ProviderPayment:
        def act() -> ProviderPayment:
            charge = self.charges[provider_id]
            charge.status = P.VOIDED
            return charge.view()
        return self._once("void", idempotency_key, act)

    def query(self, provider_id: str) -> ProviderPayment:
        self.calls.append(("query", ""))
        return self.charges[provider_id].view()


@dataclass
class FakeNotifications:
    """Reads `{"id", "payment", "status", "amount", "currency", "at"}` JSON; the signature is header X-Ok: yes."""

    def parse(self, headers: dict[str, str], body: bytes, now: datetime) -> ProviderEvent:
        import json

        if headers.get("X-Ok") != "yes":
            raise SignatureInvalid("fake: unsigned")
        data = json.loads(body)
        return ProviderEvent(event_id=data["id"], provider_id=data["payment"], status=P(data["status"]),
                             occurred_at=datetime.fromisoformat(data["at"]),
                             amount=Money(data["amount"], data["currency"]) if data.get("amount") else None)

    def acknowledgement(self) -> tuple[int, str, str]:
        return 200, "text/plain", "success"
