"""The PayPal adapter against its sandbox over real HTTP: the whole payment, idempotency under dropped
connections, and webhooks verified by the sandbox's verify-webhook-signature."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import requests

from hub.money import Money
from hub.outbound.audit import MemoryAudit
from hub.outbound.http import HttpClient, RetryPolicy
from hub.payments import paypal
from hub.payments.port import PaymentDeclined, PaymentRequest, PaymentStatus, SignatureInvalid
from hub.sandbox.paypal import CLIENT_ID, CLIENT_SECRET, WEBHOOK_ID, create_app
from hub.sandbox.server import Mount, running_mount

CREDENTIALS = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "webhook_id": WEBHOOK_ID}
NO_WAIT = RetryPolicy(attempts=5, initial_seconds=0, max_seconds=0, jitter_seconds=0)
JPY_1500 = Money(Decimal("1500"), "JPY")


@pytest.fixture(scope="module")
def front() -> Iterator[tuple[Mount, str]]:
    with running_mount("paypal-front") as mounted:
        yield mounted


@pytest.fixture
def sandbox(front: tuple[Mount, str]) -> tuple[Any, str]:
    mount, base = front
    mount.app = create_app()
    return mount.app, base


def adapter(base: str, **credentials: str) -> tuple[Any, Any, MemoryAudit]:
    audit = MemoryAudit()
    http = HttpClient(base, "paypal", timeout=(2.0, 5.0), retry=NO_WAIT, audit=audit, sleep=lambda _s: None)
    creds = {**CREDENTIALS, **credentials}
    return paypal.provider(base, creds, http), paypal.notifications(base, creds, http), audit


def approve(payment: Any) -> None:
    """The payer follows the approve link."""
    assert requests.get(payment.action_url, timeout=5).status_code == 200


def webhooks(base: str, event_type: str) -> list[dict[str, Any]]:
    return [d for d in requests.get(f"{base}/_sandbox/webhooks", timeout=5).json() if d["event_type"] == event_type]


def test_a_payment_is_created_approved_captured_partly_refunded_and_read_back(sandbox):
    app, base = sandbox
    provider, _, _ = adapter(base)

    created = provider.create(PaymentRequest("pay_1", JPY_1500), "create-1")
    approve(created)
    captured = provider.capture(created.provider_id, None, "capture-1")
    refund = provider.refund(created.provider_id, Money(Decimal("500"), "JPY"), "refund-1")
    read = provider.query(created.provider_id)

    assert created.status is PaymentStatus.PENDING
    assert captured.status is PaymentStatus.CAPTURED and captured.captured == JPY_1500
    assert refund.succeeded and refund.amount == Money(Decimal("500"), "JPY")
    assert read.status is PaymentStatus.PARTIALLY_REFUNDED
    assert (read.amount, read.captured, read.refunded) == (JPY_1500, JPY_1500, Money(Decimal("500"), "JPY"))
    assert app.extensions["sandbox"].orders[created.provider_id]["purchase_units"][0]["amount"] == {
        "currency_code": "JPY", "value": "1500"}


def test_an_authorized_payment_is_captured_in_part_through_its_authorization(sandbox):
    _, base = sandbox
    provider, _, _ = adapter(base)

    created = provider.create(PaymentRequest("pay_2", Money(Decimal("20.00"), "EUR"), capture=False), "create-2")
    approve(created)
    captured = provider.capture(created.provider_id, Money(Decimal("12.50"), "EUR"), "capture-2")

    assert captured.status is PaymentStatus.CAPTURED
    assert captured.captured == Money(Decimal("12.50"), "EUR")


def test_a_capture_whose_connection_drops_three_times_after_the_sandbox_charged_charges_once(sandbox):
    app, base = sandbox
    provider, _, audit = adapter(base)
    created = provider.create(PaymentRequest("pay_3", JPY_1500), "create-3")
    approve(created)
    app.extensions["faults"].update(drop_after_processing=3)

    captured = provider.capture(created.provider_id, None, "capture-3")

    state = app.extensions["sandbox"]
    assert captured.status is PaymentStatus.CAPTURED
    assert app.extensions["faults"].dropped == 3
    assert state.charges == 1
    attempts = [c for c in audit.calls if c.url.endswith("/capture")]
    assert [c.status for c in attempts] == [None, None, None, 201]


def test_a_create_whose_connection_drops_twice_makes_one_order(sandbox):
    app, base = sandbox
    provider, _, _ = adapter(base)
    provider.create(PaymentRequest("pay_0", JPY_1500), "create-0")
    app.extensions["faults"].update(drop_after_processing=2)

    created = provider.create(PaymentRequest("pay_3b", JPY_1500), "create-3b")

    orders = app.extensions["sandbox"].orders
    assert [o["purchase_units"][0]["invoice_id"] for o in orders.values()] == ["pay_0", "pay_3b"]
    assert created.provider_id in orders


def test_a_refund_whose_connection_drops_twice_refunds_once(sandbox):
    app, base = sandbox
    provider, _, _ = adapter(base)
    created = provider.create(PaymentRequest("pay_4", Money(Decimal("30.00"), "USD")), "create-4")
    approve(created)
    provider.capture(created.provider_id, None, "capture-4")
    app.extensions["faults"].update(drop_after_processing=2)

    refund = provider.refund(created.provider_id, Money(Decimal("10.00"), "USD"), "refund-4")

    assert refund.succeeded
    assert provider.query(created.provider_id).refunded == Money(Decimal("10.00"), "USD")


def test_a_payer_whose_instrument_is_declined_makes_the_capture_a_payment_declined(sandbox):
    _, base = sandbox
    provider, _, _ = adapter(base)
    created = provider.create(PaymentRequest("pay_5", JPY_1500), "create-5")
    requests.post(f"{base}/_sandbox/orders/{created.provider_id}/approve", json={"decline": True}, timeout=5)

    with pytest.raises(PaymentDeclined):
        provider.capture(created.provider_id, None, "capture-5")


def test_a_genuine_webhook_is_verified_by_the_sandbox_and_read_as_a_capture(sandbox):
    _, base = sandbox
    provider, parser, _ = adapter(base)
    created = provider.create(PaymentRequest("pay_6", JPY_1500), "create-6")
    approve(created)
    provider.capture(created.provider_id, None, "capture-6")
    delivery = webhooks(base, "PAYMENT.CAPTURE.COMPLETED")[0]

    event = parser.parse(delivery["headers"], delivery["body"].encode(), datetime.now(UTC))

    assert event.provider_id == created.provider_id
    assert event.status is PaymentStatus.CAPTURED
    assert (event.amount, event.reference) == (JPY_1500, "pay_6")
    assert event.event_id == json.loads(delivery["body"])["id"]


def test_a_webhook_whose_amount_was_changed_in_transit_is_signature_invalid(sandbox):
    _, base = sandbox
    provider, parser, _ = adapter(base)
    created = provider.create(PaymentRequest("pay_7", JPY_1500), "create-7")
    approve(created)
    provider.capture(created.provider_id, None, "capture-7")
    delivery = webhooks(base, "PAYMENT.CAPTURE.COMPLETED")[0]
    tampered = json.loads(delivery["body"])
    tampered["resource"]["amount"]["value"] = "15"

    with pytest.raises(SignatureInvalid):
        parser.parse(delivery["headers"], json.dumps(tampered).encode(), datetime.now(UTC))


def test_a_webhook_with_a_forged_signature_or_for_another_webhook_id_is_signature_invalid(sandbox):
    _, base = sandbox
    provider, parser, _ = adapter(base)
    _, other_hook, _ = adapter(base, webhook_id="WH0SOMEONEELSE")
    approve(provider.create(PaymentRequest("pay_8", JPY_1500), "create-8"))
    delivery = webhooks(base, "CHECKOUT.ORDER.APPROVED")[0]
    forged = {**delivery["headers"], "PAYPAL-TRANSMISSION-SIG": "Zm9yZ2VkIHNpZ25hdHVyZQ=="}

    with pytest.raises(SignatureInvalid):
        parser.parse(forged, delivery["body"].encode(), datetime.now(UTC))
    with pytest.raises(SignatureInvalid):
        other_hook.parse(delivery["headers"], delivery["body"].encode(), datetime.now(UTC))
    assert parser.parse(delivery["headers"], delivery["body"].encode(), datetime.now(UTC)).status is (
        PaymentStatus.PENDING)
