"""The worker's payment jobs, run as the scheduler runs them: no arguments, the worker's environment."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
import sqlalchemy as sa
from flask import Flask

from hub.errors import TransientError
from hub.orders.models import Order
from hub.orders.status import OrderStatus
from hub.payments import jobs, services
from hub.payments.models import AttemptStatus, Payment, PaymentNotification
from hub.payments.port import PaymentStatus
from hub.sandbox.server import running
from hub.sandbox.stripe import create_app
from hub.sync import worker
from hub.sync.env import SyncEnv
from tests.payments.conftest import stripe_account


@pytest.fixture
def worker_env(app: Flask, monkeypatch: pytest.MonkeyPatch) -> SyncEnv:
    monkeypatch.setattr(worker, "_runtime", None)  # restored after the test: no runtime leaks to others
    hub = app.extensions["hub"]
    env = SyncEnv.build(hub.engine, hub.sessions, app.config)
    worker.Worker(env, app.config).make_scheduler()  # sets the runtime the jobs read, as the leader does
    return env


@pytest.fixture
def sandbox() -> Iterator[tuple[Flask, str]]:
    stripe = create_app()
    with running(stripe) as base:
        yield stripe, base


def test_the_jobs_reconcile_a_lost_charge_and_apply_its_webhooks_once(
        session, alice, box, place_order, providers, sandbox, worker_env, client, monkeypatch):
    stripe, base = sandbox
    account_id = stripe_account(session, alice.actor, box, base)
    order = place_order("10.00", 1)
    stripe.extensions["faults"].update(fail_after_processing=5, fail_mode="drop")
    with pytest.raises(TransientError):
        services.pay_order(session, alice.actor, order["id"], account_id, providers=providers.provider,
                           payment_method="pm_card_visa")
    session.rollback()

    jobs.reconcile_payments_job()  # too soon: a payment gets RECONCILE_AFTER_MINUTES to settle by itself
    assert session.scalars(sa.select(Payment.status)).one() is PaymentStatus.PENDING
    session.commit()  # SQLite: let the job have the write lock
    monkeypatch.setattr(jobs, "RECONCILE_AFTER_MINUTES", 0)
    jobs.reconcile_payments_job()
    session.expire_all()
    payment = session.scalars(sa.select(Payment)).one()
    assert payment.status is PaymentStatus.CAPTURED
    assert [a.status for a in payment.attempts] == [AttemptStatus.SUCCEEDED]
    assert len(stripe.extensions["sandbox"].charges) == 1
    session.commit()

    for delivery in requests.get(f"{base}/_sandbox/deliveries", timeout=5).json() * 2:
        response = client.post(f"/webhooks/payments/stripe/{account_id}", data=delivery["body"].encode(),
                               headers=delivery["headers"])
        assert response.status_code == 200
        assert response.get_json() == {"received": True}
    jobs.apply_notifications_job()
    jobs.apply_notifications_job()
    session.expire_all()
    notes = session.scalars(sa.select(PaymentNotification)).all()
    assert notes and all(n.applied_at is not None for n in notes)
    order_row = session.get(Order, order["id"])
    assert order_row.status is OrderStatus.PAID
    assert [e.to_status for e in order_row.events if e.kind == "status"] == [OrderStatus.PAID]
