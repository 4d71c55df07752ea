"""The payment state machine and its order effects, with a hand-written provider at the port."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.channels.secrets import CredentialBox
from hub.errors import Conflict, NotFound, TransientError, ValidationError
from hub.orders.models import Order
from hub.orders.status import OrderStatus
from hub.outbox.models import OutboxEvent
from hub.payments import services
from hub.payments.models import AttemptStatus, Payment, PaymentAttempt, PaymentNotification
from hub.payments.port import PaymentStatus, SignatureInvalid
from hub.payments.schemas import PaymentOut
from hub.timeutil import utcnow
from tests.payments.conftest import stripe_account
from tests.payments.fakes import FakeNotifications, FakeProvider

P = PaymentStatus


@pytest.fixture
def fake() -> FakeProvider:
    return FakeProvider()


@pytest.fixture
def account_id(session: Session, alice: Any, box: CredentialBox) -> int:
    return stripe_account(session, alice.actor, box, "http://127.0.0.1:9")


def order_status(session: Session, order_id: int) -> OrderStatus:
    session.flush()
    session.expire_all()
    return session.get(Order, order_id).status


def test_paying_a_direct_order_captures_it_and_marks_the_order_paid(session, alice, place_order, account_id, fake):
    order = place_order("10.00", 2)
    payment = services.pay_order(session, alice.actor, order["id"], account_id, providers=lambda _a: fake,
                                 payment_method="pm_card_visa")
    session.commit()
    assert payment.status is P.CAPTURED
    assert payment.captured == Decimal("20.00") and payment.amount == Decimal("20.00")
    assert order_status(session, order["id"]) is OrderStatus.PAID
    assert [a.status for a in payment.attempts] == [AttemptStatus.SUCCEEDED]
    shown = PaymentOut.of(payment).model_dump(mode="json")
    assert (shown["status"], shown["captured"], shown["order_id"]) == ("captured", "20.0000", order["id"])


def test_an_authorization_captured_in_part_captures_only_that_part(session, alice, place_order, account_id, fake):
    order = place_order("10.00", 3)
    payment = services.pay_order(session, alice.actor, order["id"], account_id, providers=lambda _a: fake,
                                 capture=False)
    assert payment.status is P.AUTHORIZED
    assert order_status(session, order["id"]) is OrderStatus.PENDING

    services.capture(session, alice.actor, payment.id, Decimal("25.00"), providers=lambda _a: fake)
    session.commit()
    assert payment.status is P.CAPTURED and payment.captured == Decimal("25.00")
    assert order_status(session, order["id"]) is OrderStatus.PAID


def test_capturing_more_than_was_authorized_is_refused(session, alice, place_order, account_id, fake):
    order = place_order("10.00", 1)
    payment = services.pay_order(session, alice.actor, order["id"], account_id, providers=lambda _a: fake,
                                 capture=False)
    with pytest.raises(ValidationError):
        services.capture(session, alice.actor, payment.id, Decimal("10.01"), providers=lambda _a: fake)


def test_partial_refunds_that_add_up_to_the_capture_make_payment_and_order_refunded(
        session, alice, place_order, account_id, fake):
    order = place_order("10.00", 3)
    payment = services.pay_order(session, alice.actor, order["id"], account_id, providers=lambda _a: fake)
    session.commit()

    services.refund(session, alice.actor, payment.id, Decimal("10.00"), providers=lambda _a: fake)
    session.commit()
    assert payment.status is P.PARTIALLY_REFUNDED and payment.refunded == Decimal("10.00")
    assert order_status(session, order["id"]) is OrderStatus.PARTIALLY_REFUNDED

    services.refund(session, alice.actor, payment.id, Decimal("5.50"), providers=lambda _a: fake)
    services.refund(session, alice.actor, payment.id, Decimal("14.50"), providers=lambda _a: fake)
    session.commit()
    assert payment.status is P.REFUNDED and payment.refunded == Decimal("30.00")
    assert order_status(session, order["id"]) is OrderStatus.REFUNDED
    assert session.get(Order, order["id"]).refunded_total == Decimal("30.00")
    with pytest.raises(Conflict):
        services.refund(session, alice.actor, payment.id, Decimal("1.00"), providers=lambda _a: fake)


def test_refunding_more_than_is_left_is_refused(session, alice, place_order, account_id, fake):
    order = place_order("10.00", 1)
    payment = services.pay_order(session, alice.actor, order["id"], account_id, providers=lambda _a: fake)
    services.refund(session, alice.actor, payment.id, Decimal("4.00"), providers=lambda _a: fake)
    with pytest.raises(ValidationError):
        services.refund(session, alice.actor, payment.id, Decimal("6.01"), providers=lambda _a: fake)


def test_cancelling_a_pending_order_voids_its_authorized_payment(session, alice, place_order, account_id, fake):
    order = place_order("10.00", 1)
    payment = services.pay_order(session, alice.actor, order["id"], account_id, providers=lambda _a: fake,
                                 capture=False)
    services.cancel_order(session, alice.actor, order["id"], providers=lambda _a: fake, note="buyer changed mind")
    session.commit()
    assert payment.status is P.VOIDED
    assert order_status(session, order["id"]) is OrderStatus.CANCELLED
    assert [op for op, _ in fake.calls] == ["create", "void"]


def test_an_order_with_a_captured_payment_cannot_be_cancelled(session, alice, place_order, account_id, fake):
    order = place_order("10.00", 1)
    services.pay_order(session, alice.actor, order["id"], account_id, providers=lambda _a: fake)
    with pytest.raises(Conflict):
        services.cancel_order(session, alice.actor, order["id"], providers=lambda _a: fake)


def test_a_declined_payment_fails_emits_payment_failed_and_leaves_the_order_pending(
        session, alice, place_order, account_id, fake):
    order = place_order("10.00", 1)
    fake.decline = True
    payment = services.pay_order(session, alice.actor, order["id"], account_id, providers=lambda _a: fake)
    session.commit()
    assert payment.status is P.FAILED
    assert order_status(session, order["id"]) is OrderStatus.PENDING
    events = session.scalars(sa.select(OutboxEvent).where(OutboxEvent.kind == "payment.failed")).all()
    assert [(e.subject, e.payload["payment_id"]) for e in events] == [(f"order:{order['id']}", payment.id)]

    fake.decline = False  # the buyer tries another card: a new payment, a new key
    second = services.pay_order(session, alice.actor, order["id"], account_id, providers=lambda _a: fake)
    assert second.id != payment.id and second.status is P.CAPTURED
    assert fake.calls[0][1] != fake.calls[1][1]


def test_a_lost_answer_keeps_the_key_and_the_next_try_reuses_it_without_charging_twice(
        session, alice, place_order, account_id, fake, sessions):
    order = place_order("10.00", 1)
    fake.lose_answers = 1
    with pytest.raises(TransientError):
        services.pay_order(session, alice.actor, order["id"], account_id, providers=lambda _a: fake)
    session.rollback()  # as the web layer does on an error: only what the service committed stays
    with sessions() as other:
        attempt = other.scalars(sa.select(PaymentAttempt)).one()
        assert attempt.status is AttemptStatus.UNKNOWN  # committed before the error reached the caller
        key = attempt.idempotency_key

    payment = services.pay_order(session, alice.actor, order["id"], account_id, providers=lambda _a: fake)
    session.commit()
    assert payment.status is P.CAPTURED
    assert [k for _, k in fake.calls] == [key, key]
    assert len(fake.charges) == 1
    assert order_status(session, order["id"]) is OrderStatus.PAID


def test_reconcile_re_sends_a_create_left_unknown_and_settles_the_payment(
        session, alice, place_order, account_id, fake):
    order = place_order("10.00", 1)
    fake.lose_answers = 1
    with pytest.raises(TransientError):
        services.pay_order(session, alice.actor, order["id"], account_id, providers=lambda _a: fake)
    session.rollback()

    too_soon = services.reconcile_pending(session, providers=lambda _a: fake, older_than_minutes=15)
    assert too_soon.checked == 0
    later = utcnow() + timedelta(minutes=16)
    result = services.reconcile_pending(session, providers=lambda _a: fake, older_than_minutes=15, now=later)
    assert (result.checked, result.changed, result.failed) == (1, 1, 0)
    payment = session.scalars(sa.select(Payment)).one()
    assert payment.status is P.CAPTURED and len(fake.charges) == 1
    assert order_status(session, order["id"]) is OrderStatus.PAID


def test_a_marketplace_order_is_not_paid_through_the_hub(session, alice, place_order, account_id, fake):
    order = place_order("10.00", 1)
    session.execute(sa.update(Order).where(Order.id == order["id"]).values(channel_id=_marketplace_channel(
        session, alice.seller_id)))
    session.commit()
    with pytest.raises(Conflict):
        services.pay_order(session, alice.actor, order["id"], account_id, providers=lambda _a: fake)
    assert fake.calls == []


def _marketplace_channel(session: Session, seller_id: int) -> int:
    from hub.channels.models import Channel

    channel = Channel(seller_id=seller_id, kind="woocommerce", name="Shop", currency="EUR")
    session.add(channel)
    session.flush()
    return channel.id


def test_an_order_already_paid_cannot_be_paid_again(session, alice, place_order, account_id, fake):
    order = place_order("10.00", 1)
    services.pay_order(session, alice.actor, order["id"], account_id, providers=lambda _a: fake)
    with pytest.raises(Conflict):
        services.pay_order(session, alice.actor, order["id"], account_id, providers=lambda _a: fake)
    assert len(fake.charges) == 1


def test_another_sellers_payment_is_not_found(session, alice, bob, place_order, account_id, fake):
    order = place_order("10.00", 1)
    payment = services.pay_order(session, alice.actor, order["id"], account_id, providers=lambda _a: fake)
    with pytest.raises(NotFound):
        services.refund(session, bob.actor, payment.id, providers=lambda _a: fake)
    with pytest.raises(NotFound):
        services.pay_order(session, bob.actor, order["id"], account_id, providers=lambda _a: fake)


# --- notifications --------------------------------------------------------------------------------------------

def _delivery(event_id: str, payment: str, status: str, amount: str | None = None, minutes: int = 0,
              signed: bool = True) -> tuple[dict[str, str], bytes]:
    body = {"id": event_id, "payment": payment, "status": status, "amount": amount, "currency": "EUR",
            "at": (utcnow() + timedelta(minutes=minutes)).isoformat()}
    return ({"X-Ok": "yes"} if signed else {}), json.dumps(body).encode()


def test_duplicated_and_reordered_notifications_make_one_change_and_never_move_a_payment_back(
        session, alice, place_order, account_id, fake):
    order = place_order("10.00", 1)
    payment = services.pay_order(session, alice.actor, order["id"], account_id, providers=lambda _a: fake,
                                 capture=False)
    session.commit()
    pid = payment.provider_id
    parsers: Callable[[Any], FakeNotifications] = lambda _a: FakeNotifications()  # noqa: E731
    deliveries = [
        _delivery("ev_refund", pid, "refunded", "10.00", minutes=2),
        _delivery("ev_captured", pid, "captured", "10.00", minutes=1),
        _delivery("ev_captured", pid, "captured", "10.00", minutes=1),
        _delivery("ev_authorized", pid, "authorized", "10.00", minutes=0),
    ]
    stored = [services.receive_notification(session, "stripe", account_id, h, b, parsers=parsers).stored
              for h, b in deliveries]
    session.commit()
    assert stored == [True, True, False, True]

    first = services.apply_pending_notifications(session)
    session.commit()
    assert (first.applied, first.unchanged) == (2, 1)  # captured, refunded; the authorization is old news
    assert payment.status is P.REFUNDED
    again = services.apply_pending_notifications(session)
    assert (again.applied, again.unchanged) == (0, 0)

    late = _delivery("ev_captured_late", pid, "captured", "10.00", minutes=3)
    services.receive_notification(session, "stripe", account_id, *late, parsers=parsers)
    assert services.apply_pending_notifications(session).unchanged == 1
    session.commit()
    session.expire_all()
    assert session.get(Payment, payment.id).status is P.REFUNDED
    order_row = session.get(Order, order["id"])
    assert order_row.status is OrderStatus.REFUNDED
    assert [(e.from_status, e.to_status) for e in order_row.events if e.kind == "status"] == [
        (OrderStatus.PENDING, OrderStatus.PAID), (OrderStatus.PAID, OrderStatus.REFUNDED)]


def test_an_unsigned_notification_is_refused_and_nothing_is_stored(session, alice, account_id):
    headers, body = _delivery("ev_1", "fake_1", "captured", signed=False)
    with pytest.raises(SignatureInvalid):
        services.receive_notification(session, "stripe", account_id, headers, body,
                                      parsers=lambda _a: FakeNotifications())
    assert session.scalars(sa.select(PaymentNotification)).all() == []


def test_a_notification_for_a_payment_not_yet_known_waits_for_it(session, alice, place_order, account_id, fake):
    headers, body = _delivery("ev_early", "fake_1", "captured", "10.00")
    services.receive_notification(session, "stripe", account_id, headers, body,
                                  parsers=lambda _a: FakeNotifications())
    assert services.apply_pending_notifications(session).waiting == 1
    session.commit()

    order = place_order("10.00", 1)
    payment = services.pay_order(session, alice.actor, order["id"], account_id, providers=lambda _a: fake,
                                 capture=False)
    session.commit()
    assert payment.provider_id == "fake_1"
    assert services.apply_pending_notifications(session).applied == 1
    session.commit()
    assert payment.status is P.CAPTURED
    assert order_status(session, order["id"]) is OrderStatus.PAID


def test_a_charge_left_unknown_past_the_key_lifetime_is_never_re_sent(session, alice, place_order, account_id, fake):
    order = place_order("10.00", 1)
    fake.lose_answers = 1
    with pytest.raises(TransientError):
        services.pay_order(session, alice.actor, order["id"], account_id, providers=lambda _a: fake)
    session.rollback()
    session.execute(sa.update(PaymentAttempt).values(created_at=utcnow() - timedelta(hours=24)))
    session.commit()

    with pytest.raises(Conflict):
        services.pay_order(session, alice.actor, order["id"], account_id, providers=lambda _a: fake)
    session.rollback()
    services.reconcile_pending(session, providers=lambda _a: fake, older_than_minutes=0)
    session.commit()
    assert len(fake.calls) == 1  # only the first: a forgotten key could charge again
    attempt = session.scalars(sa.select(PaymentAttempt)).one()
    assert attempt.status is AttemptStatus.UNKNOWN and "expired" in attempt.error


class _FakeProviders:
    """Stands in for the app's hub.payments.registry.Providers: every account's notifications are the fake's."""

    def notifications(self, _account: Any) -> FakeNotifications:
        return FakeNotifications()


def test_the_webhook_route_answers_with_the_providers_own_acknowledgement(session, alice, box, app, client):
    account = services.add_account(session, alice.actor, box, "alipay",
                                   {"app_id": "2021", "app_private_key": "k", "alipay_public_key": "p"},
                                   base_url="http://127.0.0.1:9")
    session.commit()
    app.extensions["payments"] = _FakeProviders()
    headers, body = _delivery("ev_a", "trade_1", "captured", "10.00")
    first = client.post(f"/webhooks/payments/alipay/{account.id}", data=body, headers=headers)
    again = client.post(f"/webhooks/payments/alipay/{account.id}", data=body, headers=headers)
    assert (first.status_code, first.mimetype, first.get_data(as_text=True)) == (200, "text/plain", "success")
    assert again.get_data(as_text=True) == "success"  # a duplicate is acknowledged too, or it comes back for a day
    refused = client.post(f"/webhooks/payments/alipay/{account.id}", data=body)
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "signature_invalid"
    assert len(session.scalars(sa.select(PaymentNotification)).all()) == 1
