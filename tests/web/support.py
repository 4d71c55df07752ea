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
NOT_DASHBOARD = {"auth", "api", "webhooks"}  # webhooks: signed, not logged in, no CSRF
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
