"""`hub demo story` end to end, in-process: the demo seed, then one direct order paid through the Stripe sandbox,
shipped with an EasyPost label and delivered, over real HTTP against sandboxes on free ports.

The first test delivers by a tracking poll (no dashboard is served); the second serves the hub too and points the
sandboxes' webhooks at it, as `hub demo run` does, so delivery comes by the carrier's webhook."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
import sqlalchemy as sa
from flask import Flask

from hub.channels.secrets import CredentialBox
from hub.demo import DemoServices, demo_accounts, easypost_webhook_url, seed, stripe_webhook_url
from hub.demo_run import receiver_app
from hub.demo_story import run_story
from hub.logistics.models import Shipment, TrackingEvent
from hub.orders.models import Order
from hub.orders.status import OrderStatus
from hub.outbox.dispatch import Dispatcher
from hub.outbox.models import OutboxEvent, WebhookEndpoint
from hub.payments import services as payments
from hub.payments.models import Payment, PaymentNotification
from hub.payments.states import PaymentStatus
from hub.sandbox import stripe
from hub.sandbox.easypost import app as easypost
from hub.sandbox.server import Mount, running, running_mount

ORDER_EVENTS = ["order.imported", "order.paid", "order.shipped", "order.delivered"]


class Sandboxes:
    def __init__(self, stripe_url: str, easypost_url: str, receiver: Mount, receiver_url: str) -> None:
        self.services = DemoServices(stripe_url=stripe_url, easypost_url=easypost_url,
                                     dhl_url="http://127.0.0.1:9", receiver_url=f"{receiver_url}/events")
        self.stripe = stripe.create_app()
        self.easypost = easypost.create_app()
        self.receiver = receiver


@pytest.fixture
def sandboxes() -> Iterator[Sandboxes]:
    with (running_mount("stripe") as (stripe_mount, stripe_url),
          running_mount("easypost") as (easypost_mount, easypost_url),
          running_mount("receiver") as (receiver, receiver_url)):
        boxes = Sandboxes(stripe_url, easypost_url, receiver, receiver_url)
        stripe_mount.app, easypost_mount.app = boxes.stripe, boxes.easypost
        yield boxes


@pytest.fixture
def seeded(app: Flask, sandboxes: Sandboxes) -> CredentialBox:
    """The demo seed with the payment and carrier accounts on the sandboxes' ports, and the demo's receiver (which
    checks signatures with the endpoint's secret) serving its webhook endpoint."""
    box = CredentialBox.from_settings(app.config)
    hub = app.extensions["hub"]
    assert seed(hub, box, sandboxes.services) is True
    with hub.sessions() as session:
        endpoint = session.scalars(sa.select(WebhookEndpoint)).one()
        sandboxes.receiver.app = receiver_app(box.open(endpoint.secret_sealed)["secret"])
    return box


def order_events(sessions, order_id: int) -> list[str]:
    with sessions() as session:
        return list(session.scalars(sa.select(OutboxEvent.kind).where(OutboxEvent.subject == f"order:{order_id}")
                                    .order_by(OutboxEvent.id)))


def test_the_story_pays_ships_and_delivers_one_order_and_announces_each_step_once(app, sandboxes, seeded, capsys):
    hub = app.extensions["hub"]
    result = run_story(hub, seeded, services=sandboxes.services, dashboard="http://dashboard.test")

    with hub.sessions() as session:
        order = session.get(Order, result.order_id)
        assert order.status is OrderStatus.DELIVERED and order.channel.kind == "direct"
        paid = session.scalars(sa.select(Payment).where(Payment.order_id == order.id)).all()
        assert [(p.status, p.captured, p.provider) for p in paid] == [(PaymentStatus.CAPTURED, order.grand_total,
                                                                      "stripe")]
        shipments = session.scalars(sa.select(Shipment).where(Shipment.order_id == order.id)).all()
        assert len(shipments) == 1 and shipments[0].state == "purchased"
        assert shipments[0].label_pdf.startswith(b"%PDF") and shipments[0].tracking_code == result.tracking_code
        tracked = session.scalars(sa.select(TrackingEvent.status).where(TrackingEvent.shipment_id == shipments[0].id)
                                  .order_by(TrackingEvent.occurred_at)).all()
        assert tracked[0] == "pre_transit" and tracked[-1] == "delivered"
    assert order_events(hub.sessions, result.order_id) == ORDER_EVENTS
    assert result.delivered_by == "poll"  # no dashboard was served for the carrier's webhook
    assert [kind for kind, _state in result.events] == ORDER_EVENTS

    printed = capsys.readouterr().out
    assert [line[:2] for line in printed.splitlines() if line[:1].isdigit()] == ["1.", "2.", "3.", "4.", "5.", "6."]
    assert f"http://dashboard.test/orders/{result.order_id}" in printed
    assert all(kind in printed for kind in ORDER_EVENTS)

    # The worker's dispatch job, run once: the demo's receiver gets each order event, signed with its secret.
    dispatcher = Dispatcher.build(hub.sessions, app.config, seeded)
    dispatcher.drain()
    received = requests.get(f"{sandboxes.services.receiver_url}", timeout=5).json()["events"]
    mine = [e for e in received if e["subject"] == f"order:{result.order_id}"]
    assert [e["kind"] for e in mine] == ORDER_EVENTS
    assert all(e["verified"] for e in received)


def test_with_the_hub_served_the_carriers_webhook_delivers_the_order_and_stripes_notifications_change_nothing(
        app, sandboxes, seeded):
    hub = app.extensions["hub"]
    accounts = demo_accounts(hub, sandboxes.services)
    with running(app) as dashboard:
        # What `hub demo run` tells the sandboxes through their control endpoints.
        requests.post(f"{sandboxes.services.stripe_url}/_sandbox/webhook", timeout=5,
                      json={"url": stripe_webhook_url(accounts.stripe_id, dashboard)}).raise_for_status()
        requests.post(f"{sandboxes.services.easypost_url}/_sandbox/config", timeout=5, json={
            "webhook_url": easypost_webhook_url(accounts.easypost_id, dashboard),
            "webhook_secret": easypost.WEBHOOK_SECRET}).raise_for_status()
        result = run_story(hub, seeded, services=sandboxes.services, dashboard=dashboard, webhook_wait=10)
        pushed = sandboxes.stripe.extensions["sandbox"].wait_for_webhooks()

    assert result.delivered_by == "webhook"
    assert pushed and all(status == 200 for _event, status in pushed)
    with hub.sessions() as session:
        applied = payments.apply_pending_notifications(session)
        session.commit()
        assert session.scalar(sa.select(sa.func.count()).select_from(PaymentNotification)) == len(pushed)
        payment = session.get(Payment, result.payment_id)
        assert payment.status is PaymentStatus.CAPTURED
        assert session.get(Order, result.order_id).status is OrderStatus.DELIVERED
    assert applied.applied == 0 and applied.failed == 0  # the API's answers said it all already
    assert order_events(hub.sessions, result.order_id) == ORDER_EVENTS
