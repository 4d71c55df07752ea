"""The order page's payments against the Stripe sandbox over real HTTP: connect an account in the settings, take a
payment, refund part of it, authorize and cancel; the order's events; what viewers and marketplace orders see."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from hub.orders.models import Order
from hub.orders.status import OrderStatus
from hub.payments.models import Payment, PaymentAccount
from hub.payments.port import PaymentStatus
from hub.sandbox.server import Mount, running_mount
from hub.sandbox.stripe import SECRET_KEY, WEBHOOK_SECRET, create_app
from tests.web.channels_support import make_sync_records
from tests.web.support import add_user, browser, make_shop, text


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Mount, str]]:
    with running_mount("stripe") as mounted:
        yield mounted


@pytest.fixture
def stripe(served: tuple[Mount, str]) -> Iterator[tuple[Flask, str]]:
    mount, base = served
    mount.app = create_app()
    yield mount.app, base
    mount.app = None


def connect_stripe(owner, base: str) -> int:
    """Connect the sandbox through the settings page, as a seller would; the new account's id."""
    response = owner.post("/settings/payments", {"provider": "stripe", "name": "Stripe sandbox", "base_url": base,
                                                 "credentials.secret_key": SECRET_KEY,
                                                 "credentials.webhook_secret": WEBHOOK_SECRET})
    assert response.status_code == 302, text(response)
    match = re.search(r'<tr data-account="(\d+)">', text(owner.get("/settings/payments")))
    assert match
    return int(match.group(1))


def order_status(sessions, order_id: int) -> OrderStatus:
    with sessions() as session:
        return session.get(Order, order_id).status


def payment_of(sessions, order_id: int) -> Payment:
    with sessions() as session:
        payment = session.scalars(sa.select(Payment).where(Payment.order_id == order_id)).one()
        session.expunge(payment)
        return payment


def test_a_direct_order_is_paid_through_stripe_and_part_of_it_refunded_from_its_page(app, sessions, alice, stripe):
    shop = make_shop(sessions, alice.actor)
    owner = browser(app, alice)
    account_id = connect_stripe(owner, stripe[1])
    page = text(owner.get(f"/orders/{shop.order_id}"))
    assert "Take payment" in page and "Stripe sandbox (stripe)" in page

    paid = owner.post(f"/orders/{shop.order_id}/payments",
                      {"account_id": str(account_id), "payment_method": "pm_card_visa", "capture": "1"})
    assert paid.status_code == 302, text(paid)
    payment = payment_of(sessions, shop.order_id)
    assert payment.status is PaymentStatus.CAPTURED and payment.captured == payment.amount
    assert order_status(sessions, shop.order_id) is OrderStatus.PAID

    refunded = owner.post(f"/orders/{shop.order_id}/payments/{payment.id}/refund", {"amount": "5.00"})
    assert refunded.status_code == 302, text(refunded)
    page = text(owner.get(f"/orders/{shop.order_id}"))
    assert "partially_refunded" in page and "€5.00" in re.search(r"<dd data-refunded>([^<]+)</dd>", page).group(1)
    assert order_status(sessions, shop.order_id) is OrderStatus.PARTIALLY_REFUNDED
    keys = re.findall(r"<code>(hub-(?:create|refund)-[0-9a-f]+)</code>", page)
    assert len(keys) == 2 and keys[0].startswith("hub-create-") and keys[1].startswith("hub-refund-")
    assert "Take payment" not in page  # paid already
    events = re.findall(r'<tr data-event="([a-z._]+)">', page)
    assert events == ["order.imported", "order.paid", "order.refunded"]
    assert len(stripe[0].extensions["sandbox"].charges) == 1


def test_refunding_more_than_was_captured_is_refused_next_to_the_amount(app, sessions, alice, stripe):
    shop = make_shop(sessions, alice.actor)
    owner = browser(app, alice)
    account_id = connect_stripe(owner, stripe[1])
    owner.post(f"/orders/{shop.order_id}/payments", {"account_id": str(account_id), "payment_method": "pm_card_visa",
                                                     "capture": "1"})
    payment = payment_of(sessions, shop.order_id)

    refused = owner.post(f"/orders/{shop.order_id}/payments/{payment.id}/refund", {"amount": "999.00"})

    assert refused.status_code == 422
    assert "cannot refund" in text(refused)
    assert payment_of(sessions, shop.order_id).refunded == 0


def test_an_authorized_payment_is_captured_in_part_and_a_declined_card_is_shown_as_failed(app, sessions, alice, stripe):
    shop = make_shop(sessions, alice.actor)
    declined = make_shop(sessions, alice.actor, sku="MUG-1")
    owner = browser(app, alice)
    account_id = connect_stripe(owner, stripe[1])

    owner.post(f"/orders/{shop.order_id}/payments", {"account_id": str(account_id), "payment_method": "pm_card_visa"})
    payment = payment_of(sessions, shop.order_id)
    assert payment.status is PaymentStatus.AUTHORIZED  # the capture box left unticked
    assert "Capture" in text(owner.get(f"/orders/{shop.order_id}"))
    captured = owner.post(f"/orders/{shop.order_id}/payments/{payment.id}/capture", {"amount": "10.00"})
    assert captured.status_code == 302, text(captured)
    assert payment_of(sessions, shop.order_id).captured == 10

    failed = owner.post(f"/orders/{declined.order_id}/payments",
                        {"account_id": str(account_id), "payment_method": "pm_card_chargeDeclined", "capture": "1"},
                        follow_redirects=True)
    assert "failed" in text(failed)
    assert payment_of(sessions, declined.order_id).status is PaymentStatus.FAILED
    assert order_status(sessions, declined.order_id) is OrderStatus.PENDING


def test_cancelling_an_order_voids_its_authorized_payment(app, sessions, alice, stripe):
    shop = make_shop(sessions, alice.actor)
    owner = browser(app, alice)
    account_id = connect_stripe(owner, stripe[1])
    owner.post(f"/orders/{shop.order_id}/payments", {"account_id": str(account_id), "payment_method": "pm_card_visa"})

    cancelled = owner.post(f"/orders/{shop.order_id}/cancel", {"note": "buyer changed their mind"})

    assert cancelled.status_code == 302, text(cancelled)
    assert order_status(sessions, shop.order_id) is OrderStatus.CANCELLED
    assert payment_of(sessions, shop.order_id).status is PaymentStatus.VOIDED


def test_a_marketplace_order_shows_where_it_was_paid_and_offers_no_payment(app, sessions, alice):
    shop = make_shop(sessions, alice.actor)
    channel_id = make_sync_records(app, alice.actor)["channel_id"]
    with sessions.begin() as session:
        session.get(Order, shop.order_id).channel_id = channel_id

    page = text(browser(app, alice).get(f"/orders/{shop.order_id}"))

    assert "Paid on Woo EU" in page
    assert "Take payment" not in page and f"/orders/{shop.order_id}/payments" not in page


def test_a_viewer_sees_the_payments_without_any_payment_form(app, sessions, security, alice, stripe):
    shop = make_shop(sessions, alice.actor)
    owner = browser(app, alice)
    account_id = connect_stripe(owner, stripe[1])
    owner.post(f"/orders/{shop.order_id}/payments", {"account_id": str(account_id), "payment_method": "pm_card_visa",
                                                     "capture": "1"})
    add_user(sessions, security, alice, "viewer", "viewer@teas.example.com")

    page = text(browser(app, "viewer@teas.example.com").get(f"/orders/{shop.order_id}"))

    assert "captured" in page and "hub-create-" in page
    assert re.findall(r'<form method="post"[^>]*>', page) == ['<form method="post" action="/logout" class="inline">']


def test_a_disabled_payment_account_is_not_offered(app, sessions, alice, stripe):
    shop = make_shop(sessions, alice.actor)
    owner = browser(app, alice)
    account_id = connect_stripe(owner, stripe[1])
    assert owner.post(f"/settings/payments/{account_id}/disable").status_code == 302
    with sessions() as session:
        assert not session.get(PaymentAccount, account_id).enabled

    page = text(owner.get(f"/orders/{shop.order_id}"))
    refused = owner.post(f"/orders/{shop.order_id}/payments", {"account_id": str(account_id),
                                                               "payment_method": "pm_card_visa"})

    assert "Stripe sandbox (stripe)" not in page and "No payment account is connected yet." in page
    assert refused.status_code == 404


def test_an_authorized_payment_is_asked_about_again_and_voided_from_the_order_page(app, sessions, alice, stripe):
    shop = make_shop(sessions, alice.actor)
    owner = browser(app, alice)
    account_id = connect_stripe(owner, stripe[1])
    owner.post(f"/orders/{shop.order_id}/payments", {"account_id": str(account_id), "payment_method": "pm_card_visa"})
    payment = payment_of(sessions, shop.order_id)

    refreshed = owner.post(f"/orders/{shop.order_id}/payments/{payment.id}/refresh", follow_redirects=True)
    assert f"Payment {payment.id} is now authorized." in text(refreshed)
    voided = owner.post(f"/orders/{shop.order_id}/payments/{payment.id}/void", follow_redirects=True)

    assert f"Payment {payment.id} is now voided." in text(voided)
    assert payment_of(sessions, shop.order_id).status is PaymentStatus.VOIDED
    assert order_status(sessions, shop.order_id) is OrderStatus.PENDING  # it may be paid another way
    assert "Take payment" in text(voided)


def test_a_payment_of_another_order_is_not_found_through_this_one(app, sessions, alice, stripe):
    shop = make_shop(sessions, alice.actor)
    other = make_shop(sessions, alice.actor, sku="MUG-1")
    owner = browser(app, alice)
    account_id = connect_stripe(owner, stripe[1])
    owner.post(f"/orders/{shop.order_id}/payments", {"account_id": str(account_id), "payment_method": "pm_card_visa",
                                                     "capture": "1"})
    payment = payment_of(sessions, shop.order_id)

    assert owner.post(f"/orders/{other.order_id}/payments/{payment.id}/refund", {"amount": "1.00"}).status_code == 404
    assert payment_of(sessions, shop.order_id).refunded == 0
