"""The Alipay adapter against its sandbox over real HTTP: page pay, payment, refunds, close, idempotency
under dropped connections, and notifies signed by the sandbox's Alipay key."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from hub.money import Money
from hub.outbound.audit import MemoryAudit
from hub.outbound.http import HttpClient, RetryPolicy
from hub.payments import alipay
from hub.payments.alipay import signing
from hub.payments.alipay.client import AlipayError
from hub.payments.port import PaymentDeclined, PaymentRequest, PaymentStatus, SignatureInvalid
from hub.sandbox.alipay import create_app, credentials
from hub.sandbox.server import Mount, running_mount

NO_WAIT = RetryPolicy(attempts=5, initial_seconds=0, max_seconds=0, jitter_seconds=0)
CNY = "CNY"


def cny(value: str) -> Money:
    return Money(Decimal(value), CNY)


@pytest.fixture(scope="module")
def front() -> Iterator[tuple[Mount, str]]:
    with running_mount("alipay-front") as mounted:
        yield mounted


@pytest.fixture
def sandbox(front: tuple[Mount, str]) -> tuple[Any, str]:
    mount, base = front
    mount.app = create_app()
    return mount.app, base


def adapter(base: str, **changes: str) -> tuple[Any, Any, MemoryAudit]:
    audit = MemoryAudit()
    http = HttpClient(base, "alipay", timeout=(2.0, 5.0), retry=NO_WAIT, audit=audit, sleep=lambda _s: None)
    creds = {**credentials(), **changes}
    return alipay.provider(base, creds, http), alipay.notifications(base, creds, http), audit


def open_and_pay(base: str, payment: Any, decline: bool = False) -> None:
    """The payer opens the cashier page, then pays (or gives up)."""
    assert requests.get(payment.action_url, timeout=5).status_code == 200
    paid = requests.post(f"{base}/_sandbox/pay", json={"out_trade_no": payment.provider_id, "decline": decline},
                         timeout=5)
    assert paid.status_code == 200


def notifies(base: str) -> list[dict[str, str]]:
    return requests.get(f"{base}/_sandbox/notifications", timeout=5).json()


def test_a_payment_is_paid_captured_partly_refunded_and_read_back(sandbox):
    app, base = sandbox
    provider, _, _ = adapter(base)

    created = provider.create(PaymentRequest("pay_a1", cny("88.80"), notify_url="https://hub.example/n"), "c-1")
    open_and_pay(base, created)
    captured = provider.capture(created.provider_id, None, "cap-1")
    refund = provider.refund(created.provider_id, cny("10.00"), "refund-1")
    read = provider.query(created.provider_id)

    assert created.status is PaymentStatus.PENDING
    assert captured.status is PaymentStatus.CAPTURED and captured.captured == cny("88.80")
    assert refund.succeeded and refund.provider_id == "refund-1" and refund.amount == cny("10.00")
    assert read.status is PaymentStatus.CAPTURED  # alipay.trade.query tells no refund total
    assert app.extensions["sandbox"].trades["pay_a1"]["refunded"] == Decimal("10.00")


def test_refunding_the_rest_leaves_the_trade_refunded(sandbox):
    _, base = sandbox
    provider, _, _ = adapter(base)
    created = provider.create(PaymentRequest("pay_a2", cny("50.00")), "c-2")
    open_and_pay(base, created)

    provider.refund(created.provider_id, cny("20.00"), "refund-2a")
    provider.refund(created.provider_id, cny("30.00"), "refund-2b")

    read = provider.query(created.provider_id)
    assert read.status is PaymentStatus.REFUNDED and read.refunded == cny("50.00")


def test_a_refund_whose_connection_drops_three_times_after_the_sandbox_refunded_refunds_once(sandbox):
    app, base = sandbox
    provider, _, audit = adapter(base)
    created = provider.create(PaymentRequest("pay_a3", cny("88.80")), "c-3")
    open_and_pay(base, created)
    app.extensions["faults"].update(drop_after_processing=3)

    refund = provider.refund(created.provider_id, cny("10.00"), "refund-3")

    assert refund.succeeded and refund.raw["fund_change"] == "N"  # the answer to the repeat: money moved once
    assert app.extensions["faults"].dropped == 3
    assert app.extensions["sandbox"].refunds_made == 1
    assert app.extensions["sandbox"].trades["pay_a3"]["refunded"] == Decimal("10.00")
    assert [c.status for c in audit.calls] == [None, None, None, 200]


def test_creating_the_same_payment_twice_is_one_trade_and_another_amount_is_refused(sandbox):
    app, base = sandbox
    provider, _, _ = adapter(base)
    first = provider.create(PaymentRequest("pay_a4", cny("12.00")), "c-4")
    again = provider.create(PaymentRequest("pay_a4", cny("12.00")), "c-4")
    other = provider.create(PaymentRequest("pay_a4", cny("99.00")), "c-4b")

    assert requests.get(first.action_url, timeout=5).status_code == 200
    assert requests.get(again.action_url, timeout=5).status_code == 200
    refused = requests.get(other.action_url, timeout=5)
    assert refused.status_code == 400 and "ACQ.CONTEXT_INCONSISTENT" in refused.text
    assert list(app.extensions["sandbox"].trades) == ["pay_a4"]


def test_an_unpaid_trade_is_voided_by_closing_it_and_closing_twice_is_still_voided(sandbox):
    _, base = sandbox
    provider, _, _ = adapter(base)
    created = provider.create(PaymentRequest("pay_a5", cny("12.00")), "c-5")
    assert requests.get(created.action_url, timeout=5).status_code == 200

    assert provider.void(created.provider_id, "void-5").status is PaymentStatus.VOIDED
    assert provider.void(created.provider_id, "void-5").status is PaymentStatus.VOIDED


def test_a_payer_who_gives_up_makes_the_capture_a_payment_declined(sandbox):
    _, base = sandbox
    provider, _, _ = adapter(base)
    created = provider.create(PaymentRequest("pay_a6", cny("12.00")), "c-6")
    open_and_pay(base, created, decline=True)

    with pytest.raises(PaymentDeclined):
        provider.capture(created.provider_id, None, "cap-6")


def test_the_sandbox_refuses_a_request_signed_with_another_key(sandbox):
    _, base = sandbox
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = stranger.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                 serialization.NoEncryption()).decode()
    provider, _, _ = adapter(base, app_private_key=pem)

    with pytest.raises(AlipayError) as refused:
        provider.query("pay_a7")
    assert refused.value.sub_code == "isv.invalid-signature"


def test_genuine_notifies_are_read_as_the_capture_and_the_partial_refund(sandbox):
    _, base = sandbox
    provider, parser, _ = adapter(base)
    created = provider.create(PaymentRequest("pay_a8", cny("88.80"), notify_url="https://hub.example/n"), "c-8")
    open_and_pay(base, created)
    provider.refund(created.provider_id, cny("8.80"), "refund-8")

    events = [parser.parse({"Content-Type": "application/x-www-form-urlencoded"}, n["body"].encode(),
                           datetime.now(UTC)) for n in notifies(base)]

    assert [(e.provider_id, e.status, e.amount) for e in events] == [
        ("pay_a8", PaymentStatus.CAPTURED, cny("88.80")), ("pay_a8", PaymentStatus.PARTIALLY_REFUNDED, cny("8.80"))]
    assert notifies(base)[0]["notify_url"] == "https://hub.example/n"
    assert len({e.event_id for e in events}) == 2


def test_a_tampered_or_forged_notify_is_signature_invalid(sandbox):
    _, base = sandbox
    provider, parser, _ = adapter(base)
    created = provider.create(PaymentRequest("pay_a9", cny("88.80")), "c-9")
    open_and_pay(base, created)
    fields = dict(parse_qsl(notifies(base)[0]["body"]))
    tampered = {**fields, "out_trade_no": "pay_someone_else"}
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = {**fields, "total_amount": "0.01"}
    forged["sign"] = signing.sign(signing.notify_content(forged), forger)

    for body in (tampered, forged):
        with pytest.raises(SignatureInvalid):
            parser.parse({}, urlencode(body).encode(), datetime.now(UTC))
