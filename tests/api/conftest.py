"""Fixtures for the JSON API tests: a seller's small world of goods, stock and orders, other roles'
tokens, and a snapshot of the database to prove that refused requests change nothing."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
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


def build_world(api: Any) -> World:
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
    return World(tea1["id"], tea2["id"], warehouse["id"], pending["id"], paid["id"], paid["lines"][0]["id"])


@pytest.fixture
def world(alice: Any, api_for: Callable[[Any], Any]) -> World:
    return build_world(api_for(alice))


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
