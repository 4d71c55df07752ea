"""Fixtures for the JSON API tests: a seller's small world of goods, stock and orders, other roles'
tokens, and a snapshot of the database to prove that refused requests change nothing."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from hub.accounts import services as accounts
from hub.accounts.models import Role
from hub.accounts.schemas import NewToken, NewUser
from hub.db import Base
from tests.api.api_support import ADDRESS

STAFF_PASSWORD = "copper-lantern-meadow-58"


@dataclass(frozen=True)
class World:
    """Alice's goods: warehouse MAIN, TEA-1 (50 in stock) and TEA-2 (5), a pending and a paid order."""

    product_id: int
    other_product_id: int
    warehouse_id: int
    pending_order_id: int
    paid_order_id: int
    paid_line_id: int
    payment_account_id: int = 0  # a Stripe account on the sandbox (build_world given its URL)
    customer_id: int = 0  # a customer profile of Alice's (the recommendations read one)


def build_world(api: Any, stripe_url: str | None = None) -> World:
    def ok(response: Any, status: int) -> dict[str, Any]:
        assert response.status_code == status, response.get_data(as_text=True)
        return response.get_json()

    warehouse = ok(api.post("/warehouses", {"code": "MAIN", "name": "Main", "country": "DE", "priority": 10}), 201)
    tea1 = ok(api.post("/products", {"sku": "TEA-1", "title": "Sencha", "base_price": "10.00"}), 201)
    tea2 = ok(api.post("/products", {"sku": "TEA-2", "title": "Matcha", "base_price": "5.00"}), 201)
    ok(api.post("/stock/receipts", {"sku": "TEA-1", "warehouse": "MAIN", "quantity": 50}), 201)
    ok(api.post("/stock/receipts", {"sku": "TEA-2", "warehouse": "MAIN", "quantity": 5}), 201)
    line = {"sku": "TEA-1", "quantity": 1, "unit_price": "10.00"}
    pending = ok(api.post("/orders", {"external_id": "WEB-1", "buyer": {"name": "Pat"},
                                      "shipping_address": ADDRESS, "lines": [line]}), 201)
    paid = ok(api.post("/orders", {"external_id": "WEB-2", "buyer": {"name": "Sam"}, "shipping_address": ADDRESS,
                                   "lines": [{**line, "quantity": 2}]}), 201)
    ok(api.post(f"/orders/{paid['id']}/status", {"status": "paid"}), 200)
    world = World(tea1["id"], tea2["id"], warehouse["id"], pending["id"], paid["id"], paid["lines"][0]["id"],
                  customer_id=_customer(api))
    return replace(world, payment_account_id=_stripe_account(api, stripe_url)) if stripe_url else world


def _customer(api: Any) -> int:
    """A customer profile of the token's seller (no API makes one: orders and the buyer API do)."""
    from hub.customers.services import customer_for_email

    app = api.client.application
    with app.extensions["hub"].sessions() as session:
        seller_id = accounts.user_for_token(session, api.token).seller_id
        customer = customer_for_email(session, seller_id, f"regular{seller_id}@example.com", "Regular Buyer")
        session.commit()
        return customer.id


def _stripe_account(api: Any, base_url: str) -> int:
    """A Stripe account of the token's seller on the sandbox (no API adds payment accounts: the dashboard does)."""
    from hub.channels.secrets import CredentialBox
    from hub.payments import services as payments
    from hub.sandbox.stripe import SECRET_KEY, WEBHOOK_SECRET

    app = api.client.application
    with app.extensions["hub"].sessions() as session:
        actor = accounts.actor_for(accounts.user_for_token(session, api.token))
        session.info["seller_id"] = actor.seller_id
        account = payments.add_account(session, actor, CredentialBox.from_settings(app.config), "stripe",
                                       {"secret_key": SECRET_KEY, "webhook_secret": WEBHOOK_SECRET}, base_url=base_url)
        session.commit()
        return account.id


@pytest.fixture(scope="session")
def stripe_url() -> Iterator[str]:
    """The Stripe sandbox, served once for the session: payments made in it never clash (keys are random)."""
    from hub.sandbox.server import running
    from hub.sandbox.stripe import create_app

    with running(create_app()) as base:
        yield base


@pytest.fixture
def world(alice: Any, api_for: Callable[[Any], Any], stripe_url: str) -> World:
    return build_world(api_for(alice), stripe_url)


@pytest.fixture
def member_of(sessions: sessionmaker[Session], security: accounts.Security) -> Callable[..., SimpleNamespace]:
    """Add a user of `role` to the account's seller and give them an API token."""
    counter = itertools.count(1)

    def make(account: Any, role: Role = Role.VIEWER) -> SimpleNamespace:
        n = next(counter)
        with sessions.begin() as session:
            user = accounts.add_user(session, security, account.actor, NewUser(
                name=f"{role} {n}", email=f"{role}{n}.{account.seller_id}@example.com", role=role,
                password=STAFF_PASSWORD))
            actor = accounts.actor_for(user)
            token_row, token = accounts.create_token(session, actor, NewToken(name=f"{role} token"))
            return SimpleNamespace(user_id=user.id, seller_id=user.seller_id, actor=actor, token=token,
                                   token_id=token_row.id)

    return make


def snapshot(sessions: sessionmaker[Session]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every hub table except tokens (whose last_used_at moves on each request)."""
    state: dict[str, list[tuple[Any, ...]]] = {}
    with sessions() as session:
        for table in Base.metadata.sorted_tables:
            if table.name == "api_tokens":
                continue
            rows = session.execute(sa.select(table).order_by(*table.primary_key.columns)).all()
            state[table.name] = [tuple(row) for row in rows]
    return state


@pytest.fixture
def db_state(sessions: sessionmaker[Session]) -> Callable[[], dict[str, list[tuple[Any, ...]]]]:
    return lambda: snapshot(sessions)
