"""The hub against the Stripe sandbox over real HTTP: lost answers, repeated and reordered webhooks, forged ones."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from flask import Flask

from hub.errors import TransientError
from hub.orders.models import Order
from hub.orders.status import OrderStatus
from hub.outbound.models import ExternalCall
from hub.outbox.models import OutboxEvent
from hub.payments import services
from hub.payments.models import AttemptStatus, Payment, PaymentAttempt, PaymentNotification
from hub.payments.port import PaymentStatus
from hub.payments.stripe.notifications import sign
from hub.sandbox.server import Mount, running, running_mount
from hub.sandbox.stripe import SECRET_KEY, WEBHOOK_SECRET, create_app
from tests.payments.conftest import stripe_account

P = PaymentStatus


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Mount, str]]:
    with running_mount("stripe") as mounted:
        yield mounted


@pytest.fixture
def stripe_sandbox(served: tuple[Mount, str]) -> Iterator[tuple[Flask, str]]:
    mount, base = served
    mount.app = create_app()
    yield mount.app, base
    mount.app = None


@pytest.fixture
def account_id(session, alice, box, stripe_sandbox) -> int:
    return stripe_account(session, alice.actor, box, stripe_sandbox[1])


def sandbox_state(app: Flask) -> Any:
    return app.extensions["sandbox"]


def deliveries(base: str) -> list[dict[str, Any]]:
    return requests.get(f"{base}/_sandbox/deliveries", timeout=5).json()


def post_webhook(client: Any, account_id: int, delivery: dict[str, Any]) -> Any:
    return client.post(f"/webhooks/payments/stripe/{account_id}", data=delivery["body"].encode(),
                       headers=delivery["headers"])


@pytest.mark.parametrize("mode", ["drop", "500"])
def test_a_charge_whose_answer_is_lost_three_times_in_a_row_is_charged_once_and_captured_once(
        mode, session, alice, place_order, account_id, providers, stripe_sandbox):
    app, _ = stripe_sandbox
    order = place_order("10.00", 2)
    app.extensions["faults"].update(fail_after_processing=3, fail_mode=mode)

    payment = services.pay_order(session, alice.actor, order["id"], account_id, providers=providers.provider,
                                 payment_method="pm_card_visa")
    session.commit()

    state = sandbox_state(app)
    assert (len(state.intents), len(state.charges)) == (1, 1)
    assert state.requests == 4  # the charge, two replays lost on the way, the replay that arrived
    assert payment.status is P.CAPTURED and payment.captured == 20
    assert session.scalars(sa.select(sa.func.count(Payment.id))).one() == 1
    assert session.get(Order, order["id"]).status is OrderStatus.PAID
    calls = session.scalars(sa.select(ExternalCall).where(ExternalCall.service == "stripe")
                            .order_by(ExternalCall.id)).all()
    assert [c.attempt for c in calls] == [1, 2, 3, 4]


def test_a_charge_lost_beyond_the_retry_budget_is_settled_by_the_next_try_with_the_same_key(
        session, alice, place_order, account_id, providers, stripe_sandbox, sessions):
    app, _ = stripe_sandbox
    order = place_order("10.00", 1)
    app.extensions["faults"].update(fail_after_processing=7, fail_mode="drop")

    with pytest.raises(TransientError):  # five tries, all lost: the hub cannot know whether Stripe charged
        services.pay_order(session, alice.actor, order["id"], account_id, providers=providers.provider,
                           payment_method="pm_card_visa")
    session.rollback()
    with sessions() as other:
        attempt = other.scalars(sa.select(PaymentAttempt)).one()
        assert (attempt.status, attempt.tries) == (AttemptStatus.UNKNOWN, 1)

    payment = services.pay_order(session, alice.actor, order["id"], account_id, providers=providers.provider,
                                 payment_method="pm_card_visa")  # two more lost, then the replay arrives
    session.commit()
    state = sandbox_state(app)
    assert (len(state.intents), len(state.charges)) == (1, 1)
    assert payment.status is P.CAPTURED
    assert [a.idempotency_key for a in payment.attempts] == [attempt.idempotency_key]
    assert session.get(Order, order["id"]).status is OrderStatus.PAID


def test_webhooks_settle_a_payment_whose_answer_never_came_and_reconcile_then_charges_nothing_more(
        session, alice, place_order, account_id, providers, stripe_sandbox, client):
    app, base = stripe_sandbox
    order = place_order("10.00", 1)
    app.extensions["faults"].update(fail_after_processing=5, fail_mode="500")
    with pytest.raises(TransientError):
        services.pay_order(session, alice.actor, order["id"], account_id, providers=providers.provider,
                           payment_method="pm_card_visa")
    session.rollback()

    for delivery in deliveries(base):
        assert post_webhook(client, account_id, delivery).status_code == 200
    assert services.apply_pending_notifications(session).applied >= 1  # found by our reference in the metadata
    session.commit()
    payment = session.scalars(sa.select(Payment)).one()
    assert payment.status is P.CAPTURED and payment.provider_id in sandbox_state(app).intents

    services.reconcile_pending(session, providers=providers.provider, older_than_minutes=0)
    session.commit()
    assert len(sandbox_state(app).charges) == 1
    assert [a.status for a in payment.attempts] == [AttemptStatus.SUCCEEDED]


def test_duplicated_and_reordered_webhooks_change_the_payment_once(
        session, alice, place_order, account_id, providers, stripe_sandbox, client):
    _, base = stripe_sandbox
    order = place_order("10.00", 3)
    payment = services.pay_order(session, alice.actor, order["id"], account_id, providers=providers.provider,
                                 payment_method="pm_card_visa", capture=False)
    session.commit()
    assert payment.status is P.AUTHORIZED
    # Captured and refunded in Stripe's dashboard: the hub hears of it only through webhooks.
    auth = {"Authorization": f"Bearer {SECRET_KEY}"}
    assert requests.post(f"{base}/v1/payment_intents/{payment.provider_id}/capture", headers=auth, timeout=5,
                         data={"amount_to_capture": "3000"}).status_code == 200
    assert requests.post(f"{base}/v1/refunds", headers=auth, timeout=5,
                         data={"payment_intent": payment.provider_id, "amount": "1000"}).status_code == 200

    events = deliveries(base)
    kinds = [d["type"] for d in events]
    assert "payment_intent.succeeded" in kinds and "charge.refunded" in kinds
    answers = [post_webhook(client, account_id, d).status_code for d in list(reversed(events)) + events]
    assert set(answers) == {200}
    stored = session.scalars(sa.select(PaymentNotification)).all()
    assert sorted(n.event_id for n in stored) == sorted(d["event_id"] for d in events)  # each stored once

    services.apply_pending_notifications(session)
    services.apply_pending_notifications(session)
    session.commit()
    session.expire_all()
    payment = session.get(Payment, payment.id)
    assert (payment.status, payment.captured, payment.refunded) == (P.PARTIALLY_REFUNDED, 30, 10)
    order_row = session.get(Order, order["id"])
    assert order_row.status is OrderStatus.PARTIALLY_REFUNDED and order_row.refunded_total == 10
    assert [(e.from_status, e.to_status) for e in order_row.events if e.kind == "status"] == [
        (OrderStatus.PENDING, OrderStatus.PAID), (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED)]


def test_a_forged_or_stale_signature_is_refused_with_400_and_changes_nothing(
        session, alice, place_order, account_id, providers, stripe_sandbox, client):
    order = place_order("10.00", 1)
    payment = services.pay_order(session, alice.actor, order["id"], account_id, providers=providers.provider,
                                 payment_method="pm_card_visa", capture=False)
    session.commit()
    body = json.dumps({"id": "evt_forged", "object": "event", "type": "payment_intent.succeeded",
                       "created": int(time.time()), "data": {"object": {
                           "id": payment.provider_id, "object": "payment_intent", "amount": 1000,
                           "amount_received": 1000, "currency": "eur", "status": "succeeded"}}}).encode()
    now = int(time.time())
    attempts = {
        "wrong secret": sign("whsec_guessed", now, body),
        "stale": sign(WEBHOOK_SECRET, now - 301, body),
        "from the future": sign(WEBHOOK_SECRET, now + 600, body),
        "tampered": sign(WEBHOOK_SECRET, now, body.replace(b"1000", b"9999", 1)),
        "no v1": f"t={now}",
    }
    for why, header in attempts.items():
        response = client.post(f"/webhooks/payments/stripe/{account_id}", data=body,
                               headers={"Stripe-Signature": header, "Content-Type": "application/json"})
        assert response.status_code == 400, why
        assert response.get_json()["error"]["code"] == "signature_invalid"
    unsigned = client.post(f"/webhooks/payments/stripe/{account_id}", data=body)
    assert unsigned.status_code == 400

    assert session.scalars(sa.select(PaymentNotification)).all() == []
    services.apply_pending_notifications(session)
    session.expire_all()
    assert session.get(Payment, payment.id).status is P.AUTHORIZED
    session.commit()  # SQLite: an open transaction holds the write lock the webhook needs
    good = client.post(f"/webhooks/payments/stripe/{account_id}", data=body,
                       headers={"Stripe-Signature": sign(WEBHOOK_SECRET, now, body)})
    assert good.status_code == 200  # the same body, signed with the account's secret, is taken


def test_a_webhook_for_an_unknown_account_or_provider_is_not_found(client, account_id):
    body = b"{}"
    header = sign(WEBHOOK_SECRET, int(time.time()), body)
    assert client.post(f"/webhooks/payments/stripe/{account_id + 1}", data=body,
                       headers={"Stripe-Signature": header}).status_code == 404
    assert client.post(f"/webhooks/payments/paypal/{account_id}", data=body,
                       headers={"Stripe-Signature": header}).status_code == 404


def test_a_declined_test_card_fails_the_payment_without_retrying_and_emits_payment_failed(
        session, alice, place_order, account_id, providers, stripe_sandbox):
    app, _ = stripe_sandbox
    order = place_order("10.00", 1)
    payment = services.pay_order(session, alice.actor, order["id"], account_id, providers=providers.provider,
                                 payment_method="pm_card_chargeDeclined")
    session.commit()
    assert payment.status is P.FAILED and payment.failure_reason == "generic_decline"
    assert sandbox_state(app).requests == 1
    assert session.get(Order, order["id"]).status is OrderStatus.PENDING
    failed = session.scalars(sa.select(OutboxEvent).where(OutboxEvent.kind == "payment.failed")).all()
    assert [(e.subject, e.payload["reason"]) for e in failed] == [(f"order:{order['id']}", "generic_decline")]


def test_authorize_capture_refund_and_void_round_trip_through_the_sandbox(
        session, alice, place_order, account_id, providers, stripe_sandbox):
    app, _ = stripe_sandbox
    first = place_order("10.00", 3)
    payment = services.pay_order(session, alice.actor, first["id"], account_id, providers=providers.provider,
                                 payment_method="pm_card_visa", capture=False)
    services.capture(session, alice.actor, payment.id, 25, providers=providers.provider)
    services.refund(session, alice.actor, payment.id, 5, providers=providers.provider)
    services.refund(session, alice.actor, payment.id, providers=providers.provider)
    session.commit()
    assert (payment.status, payment.captured, payment.refunded) == (P.REFUNDED, 25, 25)
    assert session.get(Order, first["id"]).status is OrderStatus.REFUNDED

    second = place_order("10.00", 1)
    other = services.pay_order(session, alice.actor, second["id"], account_id, providers=providers.provider,
                               payment_method="pm_card_visa", capture=False)
    services.cancel_order(session, alice.actor, second["id"], providers=providers.provider)
    session.commit()
    assert other.status is P.VOIDED
    assert sandbox_state(app).intents[other.provider_id]["status"] == "canceled"
    assert session.get(Order, second["id"]).status is OrderStatus.CANCELLED
    refreshed = services.refresh(session, alice.actor, payment.id, providers=providers.provider)
    assert refreshed.status is P.REFUNDED


def test_a_zero_decimal_currency_is_charged_in_whole_yen(session, alice, place_order, account_id, providers,
                                                         stripe_sandbox):
    app, _ = stripe_sandbox
    order = place_order("1500", 2, currency="JPY")
    payment = services.pay_order(session, alice.actor, order["id"], account_id, providers=providers.provider,
                                 payment_method="pm_card_visa")
    session.commit()
    assert sandbox_state(app).intents[payment.provider_id]["amount"] == 3000
    assert payment.status is P.CAPTURED and payment.captured == 3000


def test_the_sandbox_refuses_a_key_reused_with_other_parameters(stripe_sandbox):
    _, base = stripe_sandbox
    headers = {"Authorization": f"Bearer {SECRET_KEY}", "Idempotency-Key": "same"}
    first = requests.post(f"{base}/v1/payment_intents", headers=headers, timeout=5,
                          data={"amount": "1000", "currency": "eur"})
    replay = requests.post(f"{base}/v1/payment_intents", headers=headers, timeout=5,
                           data={"amount": "1000", "currency": "eur"})
    other = requests.post(f"{base}/v1/payment_intents", headers=headers, timeout=5,
                          data={"amount": "2000", "currency": "eur"})
    assert first.status_code == replay.status_code == 200
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.json()["id"] == first.json()["id"]
    assert other.status_code == 400 and other.json()["error"]["type"] == "idempotency_error"


def test_webhooks_pushed_by_the_sandbox_to_the_served_hub_are_stored_once_and_change_nothing_twice(
        session, alice, place_order, account_id, providers, stripe_sandbox, app):
    stripe, base = stripe_sandbox
    order = place_order("10.00", 1)
    with running(app) as hub_url:
        assert requests.post(f"{base}/_sandbox/webhook", timeout=5,
                             json={"url": f"{hub_url}/webhooks/payments/stripe/{account_id}"}).status_code == 200
        payment = services.pay_order(session, alice.actor, order["id"], account_id, providers=providers.provider,
                                     payment_method="pm_card_visa")
        session.commit()  # SQLite: the deliveries wait for the write lock
        delivered = sandbox_state(stripe).wait_for_webhooks()
    assert delivered and {status for _, status in delivered} == {200}
    assert services.apply_pending_notifications(session).applied == 0  # the answer had told the hub already
    session.commit()
    assert payment.status is P.CAPTURED
    order_row = session.get(Order, order["id"])
    assert [e.to_status for e in order_row.events if e.kind == "status"] == [OrderStatus.PAID]


def test_the_same_webhook_delivered_many_times_at_once_is_stored_once(
        session, alice, place_order, account_id, providers, stripe_sandbox, app):
    from concurrent.futures import ThreadPoolExecutor

    _, base = stripe_sandbox
    order = place_order("10.00", 1)
    services.pay_order(session, alice.actor, order["id"], account_id, providers=providers.provider,
                       payment_method="pm_card_visa")
    session.commit()
    succeeded = next(d for d in deliveries(base) if d["type"] == "payment_intent.succeeded")
    with running(app) as hub_url, ThreadPoolExecutor(max_workers=6) as pool:
        url = f"{hub_url}/webhooks/payments/stripe/{account_id}"
        answers = list(pool.map(lambda _: requests.post(url, data=succeeded["body"].encode(),
                                                        headers=succeeded["headers"], timeout=30).status_code,
                                range(12)))
    assert answers == [200] * 12
    rows = session.scalars(sa.select(PaymentNotification).where(
        PaymentNotification.event_id == succeeded["event_id"])).all()
    assert len(rows) == 1
