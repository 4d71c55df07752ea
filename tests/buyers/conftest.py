"""Fixtures for the buyer API: two sellers' stores with goods in stock, and clients of a store's buyer API."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import Account
from tests.logistics.helpers import shop

BUYER_PASSWORD = "amber-lantern-fjord-58"
US_ADDRESS = {"name": "Jo Buyer", "line1": "350 5th Ave", "city": "New York", "region": "NY",
              "postal_code": "10118", "country": "US", "phone": "+1 212 555 0100"}


class Store:
    """A JSON client of one seller's buyer API, optionally with a buyer's token."""

    def __init__(self, client: FlaskClient, seller_id: int, token: str | None = None):
        self.client, self.seller_id, self.token = client, seller_id, token

    def as_(self, token: str | None) -> Store:
        return Store(self.client, self.seller_id, token)

    def call(self, method: str, path: str, json: object = None, **kw: Any):
        headers = {**({"Authorization": f"Bearer {self.token}"} if self.token else {}), **kw.pop("headers", {})}
        return self.client.open(f"/api/store/v1/{self.seller_id}{path}", method=method, json=json, headers=headers,
                                **kw)

    def get(self, path: str, **kw: Any):
        return self.call("GET", path, **kw)

    def post(self, path: str, json: object = None, **kw: Any):
        return self.call("POST", path, json, **kw)

    def put(self, path: str, json: object = None, **kw: Any):
        return self.call("PUT", path, json, **kw)

    def delete(self, path: str, **kw: Any):
        return self.call("DELETE", path, **kw)

    def sign_up_and_login(self, email: str, name: str = "Jo Buyer", password: str = BUYER_PASSWORD) -> Store:
        created = self.post("/buyers", {"email": email, "name": name, "password": password})
        assert created.status_code == 201, created.get_data(as_text=True)
        logged_in = self.post("/login", {"email": email, "password": password})
        assert logged_in.status_code == 201, logged_in.get_data(as_text=True)
        return self.as_(logged_in.get_json()["token"])


@dataclass
class Shop:
    account: Account
    store: Store


@pytest.fixture
def open_shop(sessions: sessionmaker[Session], client: FlaskClient) -> Callable[[Account], Shop]:
    """The seller's goods (TEA-1, MUG-1 at 10.00, 100 each in stock) and an anonymous client of its store."""
    def make(account: Account) -> Shop:
        shop(sessions, account)
        return Shop(account, Store(client, account.seller_id))

    return make


@pytest.fixture
def alice_shop(open_shop: Callable[[Account], Shop], alice: Account) -> Shop:
    return open_shop(alice)


@pytest.fixture
def bob_shop(open_shop: Callable[[Account], Shop], bob: Account) -> Shop:
    return open_shop(bob)


def order_body(**extra: Any) -> dict[str, Any]:
    return {"lines": [{"sku": "TEA-1", "quantity": 2}, {"sku": "MUG-1", "quantity": 1}],
            "shipping_address": US_ADDRESS, **extra}
