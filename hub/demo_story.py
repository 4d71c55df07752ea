"""`hub demo story`: one direct order of the demo seller, from checkout to the buyer's door, each step printed.

    1. a direct order (the seller's own site) for two demo products, shipped to Hamburg
    2. paid through the Stripe sandbox with the test card pm_card_visa (captured at once)
    3. the cheapest EasyPost rate quoted, and a label bought (a PDF, a tracking code)
    4. the EasyPost sandbox's tracker advanced to delivered (its control endpoint, as a courier's scans would)
    5. the order moves to delivered: by the carrier's webhook to the dashboard when `make demo` runs (the sandbox
       posts it as soon as the tracker moves), else by a tracking poll, the worker's job run here once
    6. the order's dashboard URL, its tracking events and its outbox events (order.imported, order.paid,
       order.shipped, order.delivered) with their delivery state

Everything goes through the services the dashboard and the worker use (hub.payments.services, hub.logistics.services,
the outbox emitted by hub.orders.services), with the accounts `hub demo seed` made (hub.demo.DemoAccounts). Against a
running `make demo` the sandboxes answer on 127.0.0.1:5106-5107; `--in-process` serves them here instead (then
`make demo` must not run). The integration test runs `run_story` against sandboxes on free ports.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from decimal import Decimal

import click
import requests
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from hub.accounts.actor import Actor
from hub.accounts.models import User
from hub.accounts.services import actor_for
from hub.channels.secrets import CredentialBox
from hub.demo import DASHBOARD_URL, DemoAccounts, DemoServices, demo_accounts
from hub.extensions import Hub
from hub.logistics import services as logistics
from hub.logistics.carriers import CarrierFactory, carrier_for
from hub.logistics.models import CarrierAccount, Shipment, TrackingEvent
from hub.logistics.port import CarrierPort
from hub.money import Money
from hub.orders import services as orders
from hub.orders.models import Order
from hub.orders.schemas import OrderIn
from hub.orders.status import OrderStatus
from hub.outbound.audit import AuditSink, MemoryAudit
from hub.outbound.audit_store import DbAudit
from hub.outbox.models import OutboxDelivery, OutboxEvent
from hub.payments import services as payments
from hub.payments.registry import Providers
from hub.payments.states import PaymentStatus

BUYER = {"name": "Mia Wagner", "email": "mia.wagner@example.de", "phone": "+49 40 5550199"}
ADDRESS = {"name": "Mia Wagner", "line1": "Schanzenstraße 12", "city": "Hamburg", "postal_code": "20357",
           "country": "DE"}
LINES = (("TEA-SENCHA-100", 2, "12.90"), ("MUG-STONE-BLUE", 1, "18.00"))
CARD = "pm_card_visa"  # Stripe's test card that always succeeds (the sandbox knows it)
SANDBOX_TIMEOUT = 10  # seconds for a call to a sandbox's control endpoint
WAITING = "waiting for the dispatcher"


class StoryFailed(click.ClickException):
    """A step did not come out as the story expects: said in one line, with what came out instead."""


@dataclass
class StoryResult:
    order_id: int
    order_url: str
    payment_id: int
    shipment_id: int
    tracking_code: str
    delivered_by: str  # "webhook" (the carrier told the dashboard) or "poll" (the tracking job asked)
    events: list[tuple[str, str]] = field(default_factory=list)  # (kind, delivery state) in the order written


def _carriers(hub: Hub, box: CredentialBox, audit: AuditSink | None = None) -> CarrierFactory:
    def build(account: CarrierAccount) -> CarrierPort:
        return carrier_for(account, box, audit=audit or DbAudit(hub.sessions, seller_id=account.seller_id))

    return build


def _actor(hub: Hub, accounts: DemoAccounts) -> Actor:
    with hub.sessions() as session:
        return actor_for(session.get_one(User, accounts.user_id))


def _status(hub: Hub, order_id: int) -> OrderStatus:
    with hub.sessions() as session:
        return session.get_one(Order, order_id).status


def run_story(hub: Hub, box: CredentialBox, *, services: DemoServices | None = None, dashboard: str = DASHBOARD_URL,
              webhook_wait: float = 0.0, publish_wait: float = 0.0, echo: Callable[[str], None] = click.echo,
              sleep: Callable[[float], None] = time.sleep) -> StoryResult:
    """Walk one order through payment, label and delivery. `webhook_wait`: seconds to let the carrier's webhook
    deliver the order before polling; `publish_wait`: seconds to let the worker publish the outbox events."""
    services = services or DemoServices()
    try:
        accounts = demo_accounts(hub, services)
    except LookupError as exc:
        raise StoryFailed(str(exc)) from None
    actor = _actor(hub, accounts)
    carriers = _carriers(hub, box)

    # 1. the order
    with hub.sessions.begin() as session:
        session.info["seller_id"] = accounts.seller_id
        order = orders.create_order(session, actor, OrderIn.model_validate({
            "currency": "EUR", "buyer": BUYER, "shipping_address": ADDRESS, "shipping_total": "4.90",
            "note": "hub demo story", "lines": [{"sku": sku, "quantity": qty, "unit_price": Decimal(price),
                                                 "tax_rate": Decimal(19)} for sku, qty, price in LINES]}))
        order_id, external_id = order.id, order.external_id
        total = Money(order.grand_total, order.currency)
    echo(f"1. order {external_id} (id {order_id}) created on the direct channel: {total}, "
         f"{_status(hub, order_id)}")

    # 2. payment: a plain session, since the service commits before each provider call (its idempotency key)
    with hub.sessions() as session:
        session.info["seller_id"] = accounts.seller_id
        payment = payments.pay_order(session, actor, order_id, accounts.stripe_id,
                                     providers=Providers(box, sessions=hub.sessions).provider, payment_method=CARD,
                                     capture=True)
        session.commit()
        payment_id, paid, intent = payment.id, payment.status, payment.provider_id
        captured = Money(payment.captured, payment.currency)
    if paid is not PaymentStatus.CAPTURED:
        raise StoryFailed(f"the Stripe payment {payment_id} is {paid}, not captured")
    echo(f"2. paid through Stripe with {CARD}: payment {payment_id} {paid}, {captured} captured "
         f"(PaymentIntent {intent}); the order is {_status(hub, order_id)}")

    # 3. the label: the cheapest rate of the EasyPost account, bought under an idempotency key
    # The quote reads in a session that stays open over the carrier call: on SQLite (BEGIN IMMEDIATE) the audit's
    # own transaction would wait for it, so the calls are kept in memory and stored after, as the dashboard does.
    quoted = MemoryAudit()
    with hub.sessions() as session:
        session.info["seller_id"] = accounts.seller_id
        rates = logistics.quote(session, actor, order_id, accounts.easypost_id, _carriers(hub, box, quoted))
    store = DbAudit(hub.sessions, seller_id=accounts.seller_id)
    for call in quoted.calls:
        store.record(call)
    if not rates:
        raise StoryFailed("EasyPost quoted no rate for the parcel")
    rate = rates[0]
    shipment = logistics.buy_label(hub.sessions, actor, order_id, accounts.easypost_id, rate.service, carriers)
    shipment_id, code = shipment.id, shipment.tracking_code
    with hub.sessions() as session:
        label = session.get_one(Shipment, shipment_id).label_pdf or b""
    echo(f"3. label bought through EasyPost: {rate.carrier} {rate.service} for {rate.amount}, tracking {code}, "
         f"a {len(label):,}-byte PDF; the order is {_status(hub, order_id)}")

    # 4. the courier's scans, as the sandbox's control endpoint plays them
    answer = requests.post(f"{services.easypost_url}/_sandbox/advance", timeout=SANDBOX_TIMEOUT,
                           json={"tracking_code": code, "status": "delivered"})
    answer.raise_for_status()
    echo(f"4. the EasyPost sandbox moved tracker {code} to delivered")

    # 5. delivered, by the webhook the sandbox posted to the dashboard, or else by polling
    delivered_by = "webhook"
    deadline = time.monotonic() + webhook_wait
    while _status(hub, order_id) is not OrderStatus.DELIVERED and time.monotonic() < deadline:
        sleep(0.2)
    if _status(hub, order_id) is not OrderStatus.DELIVERED:
        delivered_by = "poll"
        logistics.poll_tracking(hub.sessions, carriers)
    status = _status(hub, order_id)
    if status is not OrderStatus.DELIVERED:
        raise StoryFailed(f"order {order_id} is {status} after the tracker reached delivered")
    how = "the carrier's webhook to the dashboard" if delivered_by == "webhook" else "a tracking poll"
    echo(f"5. the order is {status}, by {how}")

    # 6. where to see it, and what was announced
    url = f"{dashboard}/orders/{order_id}"
    deadline = time.monotonic() + publish_wait
    while time.monotonic() < deadline and any(state == WAITING for _k, state in _events(hub, order_id)):
        sleep(0.5)
    events = _events(hub, order_id)
    echo(f"6. on the dashboard: {url} (log in as the demo owner)")
    for status_, occurred_at, where in _tracking(hub, shipment_id):
        echo(f"   tracking  {occurred_at:%Y-%m-%d %H:%M:%S}  {status_:<17} {where}")
    for kind, state in events:
        echo(f"   event     {kind:<17} {state}")
    return StoryResult(order_id=order_id, order_url=url, payment_id=payment_id, shipment_id=shipment_id,
                       tracking_code=code, delivered_by=delivered_by, events=events)


def _tracking(hub: Hub, shipment_id: int) -> list[tuple[str, object, str]]:
    with hub.sessions() as session:
        return [tuple(row) for row in session.execute(
            sa.select(TrackingEvent.status, TrackingEvent.occurred_at, TrackingEvent.location)
            .where(TrackingEvent.shipment_id == shipment_id).order_by(TrackingEvent.occurred_at, TrackingEvent.id))]


def _events(hub: Hub, order_id: int) -> list[tuple[str, str]]:
    """(kind, state) of the order's outbox events: "published", "delivered to n" (destinations), or WAITING (for
    the worker's dispatch job, every OUTBOX_DISPATCH_SECONDS)."""
    with hub.sessions() as session:
        rows = session.execute(sa.select(OutboxEvent.event_id, OutboxEvent.kind, OutboxEvent.published_at)
                               .where(OutboxEvent.subject == f"order:{order_id}").order_by(OutboxEvent.id)).all()
        done = dict(session.execute(
            sa.select(OutboxDelivery.event_id, sa.func.count(OutboxDelivery.delivered_at))
            .where(OutboxDelivery.event_id.in_([r.event_id for r in rows])).group_by(OutboxDelivery.event_id)).all())
    return [(kind, "published" if published else (f"delivered to {done[event_id]}" if done.get(event_id)
                                                 else WAITING))
            for event_id, kind, published in rows]


def _reachable(url: str) -> bool:
    try:
        requests.get(f"{url}/_sandbox/webhooks", timeout=2)
    except requests.RequestException:
        return False
    return True


@click.command("story", help="Walk one direct order of the demo seller through a Stripe payment, an EasyPost label "
                             "and delivery, printing each step; against a running `make demo` unless --in-process.")
@click.option("--in-process", is_flag=True,
              help="Serve the Stripe and EasyPost sandboxes in this process (on 5106-5107: `make demo` must not run); "
                   "delivery then comes by a tracking poll.")
@click.option("--wait", default=15.0, show_default=True,
              help="Seconds to wait for the carrier's webhook and for the worker to publish the events.")
@with_appcontext
def demo_story(in_process: bool, wait: float) -> None:
    from hub import demo
    from hub.extensions import hub
    from hub.sandbox import stripe
    from hub.sandbox.easypost import app as easypost
    from hub.sandbox.server import running

    services = DemoServices()
    with ExitStack() as stack:
        if in_process:
            logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the story's lines, not each sandbox request
            for app, port in ((stripe.create_app(), demo.STRIPE_PORT), (easypost.create_app(), demo.EASYPOST_PORT)):
                try:
                    stack.enter_context(running(app, port))
                except OSError as exc:
                    raise StoryFailed(f"port {port} is taken ({exc}): is `make demo` running? Then leave out "
                                      "--in-process") from None
        elif not _reachable(services.easypost_url):
            raise StoryFailed("no EasyPost sandbox on 127.0.0.1:5107: start `make demo` first (or use --in-process)")
        run_story(hub(), demo.demo_box(current_app.config), services=services,
                  webhook_wait=0.0 if in_process else wait, publish_wait=0.0 if in_process else wait)
