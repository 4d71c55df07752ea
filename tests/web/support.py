"""Helpers for dashboard tests: a logged-in browser, objects made through the services, page scraping."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.routing import Rule

from hub.accounts import services as accounts
from hub.accounts.actor import Actor
from hub.accounts.models import ApiToken, Role
from hub.accounts.schemas import NewInvitation, NewUser
from hub.catalog import products, stock
from hub.catalog.schemas import ProductIn, StockReceipt, WarehouseIn
from hub.orders import services as orders
from hub.orders.schemas import OrderIn
from tests.conftest import PASSWORD, Account, csrf_token, login

# Blueprints that are not the dashboard: sign-up/login pages and the token-authenticated JSON API.
NOT_DASHBOARD = {"auth", "api", "webhooks", "store"}  # webhooks: signed; store: the buyer API (bearer tokens)
ADDRESS = {"name": "Anna Schmidt", "line1": "Torstraße 1", "city": "Berlin", "postal_code": "10119", "country": "DE"}


class Browser:
    """A test client that logs in through the login form and sends the CSRF token with every POST."""

    def __init__(self, client: FlaskClient):
        self.client = client
        self._token: str | None = None

    def login(self, email: str, password: str = PASSWORD) -> Browser:
        response = login(self.client, email, password)
        assert response.status_code == 302, response.get_data(as_text=True)
        return self

    @property
    def token(self) -> str:
        if self._token is None:  # every page has one (the logout form); the login page before logging in
            logged_in = self.client.get("/login").status_code == 302
            self._token = csrf_token(self.client, "/overview" if logged_in else "/login")
        return self._token

    def get(self, path: str, **kw: object):
        return self.client.get(path, **kw)

    def post(self, path: str, data: dict[str, object] | None = None, **kw: object):
        return self.client.post(path, data={"csrf_token": self.token, **(data or {})}, **kw)


def browser(app: Flask, account: Account | str | None = None) -> Browser:
    b = Browser(app.test_client())
    if account is not None:
        b.login(account if isinstance(account, str) else account.email)
    return b


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def dashboard_rules(app: Flask) -> list[Rule]:
    """Every dashboard URL rule: each route of a blueprint other than auth and the API."""
    return [rule for rule in app.url_map.iter_rules()
            if "." in rule.endpoint and rule.endpoint.split(".")[0] not in NOT_DASHBOARD]


def methods(rule: Rule) -> list[str]:
    return sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})


def stock_row(page: str, sku: str, warehouse: str) -> tuple[int, int, int]:
    """(on hand, reserved, available) as the stock page or a product page shows them."""
    attrs = f'data-sku="{sku}" data-warehouse="{warehouse}"' if sku else f'data-warehouse="{warehouse}"'
    match = re.search(rf'<tr {attrs}>.*?<td class="num on-hand">([\d,]+)</td>\s*<td class="num reserved">([\d,]+)'
                      rf'</td>\s*<td class="num available">([\d,]+)</td>', page, re.S)
    assert match, f"no stock row for {sku} in {warehouse}"
    on_hand, reserved, available = (int(g.replace(",", "")) for g in match.groups())
    return on_hand, reserved, available


def field_error(page: str, name: str) -> str:
    """The error message shown next to the input called `name`."""
    match = re.search(rf'name="{re.escape(name)}"[^>]*aria-invalid="true".*?<small class="error">([^<]+)</small>',
                      page, re.S)
    assert match, f"no error shown next to {name}"
    return match.group(1)


@dataclass
class Shop:
    """One seller's objects, made through the services."""

    product_id: int
    order_id: int
    sku: str


def scoped(sessions: sessionmaker[Session], actor: Actor) -> Session:
    session = sessions()
    session.info["seller_id"] = actor.seller_id
    return session


def make_shop(sessions: sessionmaker[Session], actor: Actor, sku: str = "TEA-1", on_hand: int = 10,
              ordered: int = 2) -> Shop:
    """A warehouse MAIN, a product with stock in it and a pending order for some of it."""
    with scoped(sessions, actor) as session, session.begin():
        if not stock.list_warehouses(session, actor):
            stock.create_warehouse(session, actor, WarehouseIn(code="MAIN", name="Main", country="DE"))
        product = products.create_product(session, actor, ProductIn(sku=sku, title=f"Title of {sku}",
                                                                    base_price=Decimal("12.90")))
        stock.receive(session, actor, StockReceipt(sku=sku, warehouse="MAIN", quantity=on_hand))
        order = orders.create_order(session, actor, OrderIn.model_validate({
            "buyer": {"name": "Anna Schmidt", "email": "anna@example.com"}, "shipping_address": ADDRESS,
            "lines": [{"sku": sku, "quantity": ordered, "unit_price": "12.90", "tax_rate": "19"}]}))
        return Shop(product.id, order.id, sku)


def add_user(sessions: sessionmaker[Session], security: accounts.Security, owner: Account, role: Role,
             email: str) -> int:
    with sessions.begin() as session:
        user = accounts.add_user(session, security, owner.actor,
                                 NewUser(name=f"{role} user", email=email, role=role, password=PASSWORD))
        return user.id


def token_ids(sessions: sessionmaker[Session], user_id: int) -> list[int]:
    with sessions() as session:
        return list(session.scalars(sa.select(ApiToken.id).where(ApiToken.user_id == user_id)))


def make_invitation(sessions: sessionmaker[Session], owner: Account, email: str = "invitee@example.com") -> int:
    """An open invitation of the owner's seller; its id."""
    with sessions.begin() as session:
        invitation, _ = accounts.invite(session, owner.actor, NewInvitation(email=email, role=Role.STAFF))
        return invitation.id


def make_money_records(app: Flask, actor: Actor, order_id: int) -> dict[str, int]:
    """A disabled payment account with a failed payment of `order_id`, an inactive carrier account with a
    delivered label, a webhook endpoint and a dead delivery, written straight to the tables: the ids the payment,
    label and settings routes take. Their states refuse every provider or carrier call, so no test reaches
    out to the (fake) hosts they name."""
    from datetime import UTC, datetime

    from hub.channels.secrets import CredentialBox
    from hub.logistics.models import CarrierAccount, Shipment
    from hub.outbox.models import DeliveryStatus, OutboxDelivery, OutboxEvent, WebhookEndpoint
    from hub.payments.models import AttemptStatus, Operation, Payment, PaymentAccount, PaymentAttempt
    from hub.payments.port import PaymentStatus

    box = CredentialBox.from_settings(app.config)
    now = datetime.now(UTC)
    seller_id = actor.seller_id
    with app.extensions["hub"].sessions.begin() as session:
        account = PaymentAccount(seller_id=seller_id, provider="stripe", name=f"stripe {order_id}",
                                 base_url="https://stripe.example.com", enabled=False,
                                 credentials_encrypted=box.seal({"secret_key": "sk_test_" + "s" * 20,
                                                                 "webhook_secret": "whsec_" + "w" * 20}))
        carrier = CarrierAccount(seller_id=seller_id, kind="easypost", name=f"easypost {order_id}",
                                 base_url="https://easypost.example.com", credentials=box.seal({"api_key": "EZ" * 10}),
                                 origin={"country": "DE"}, is_active=False)
        endpoint = WebhookEndpoint(seller_id=seller_id, url="https://hooks.example.com/orders",
                                   secret_sealed=box.seal({"secret": "whsec_x"}), kinds=[])
        session.add_all([account, carrier, endpoint])
        session.flush()
        payment = Payment(seller_id=seller_id, order_id=order_id, account_id=account.id, provider="stripe",
                          provider_id=None, reference=f"pay_{order_id}_{seller_id}", status=PaymentStatus.FAILED,
                          currency="EUR", amount=Decimal("25.80"), failure_reason="card declined")
        payment.attempts.append(PaymentAttempt(seller_id=seller_id, operation=Operation.CREATE,
                                               idempotency_key=f"hub-create-{order_id}-{seller_id}",
                                               status=AttemptStatus.FAILED, tries=1, error="card declined"))
        shipment = Shipment(seller_id=seller_id, order_id=order_id, account_id=carrier.id,
                            idempotency_key=f"web-{order_id}-{seller_id}", state="purchased", carrier="USPS",
                            service="Priority", tracking_code=f"9400{order_id}{seller_id}",
                            label_pdf=b"%PDF-1.4 test label", tracking_status="delivered", purchased_at=now)
        event = OutboxEvent(seller_id=seller_id, kind="order.paid", subject=f"order:{order_id}", payload={})
        session.add_all([payment, shipment, event])
        session.flush()
        delivery = OutboxDelivery(seller_id=seller_id, event_id=event.event_id, destination=f"webhook:{endpoint.id}",
                                  endpoint_id=endpoint.id, status=DeliveryStatus.DEAD, attempts=8,
                                  last_error="HTTP 500")
        session.add(delivery)
        session.flush()
        return {"payment_id": payment.id, "shipment_id": shipment.id, "payment_account_id": account.id,
                "carrier_account_id": carrier.id, "endpoint_id": endpoint.id, "delivery_id": delivery.id}
