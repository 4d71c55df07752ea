"""Fixtures for the payment tests: a seller with goods, a way to place direct orders, and a Stripe account."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from hub.channels.secrets import CredentialBox
from hub.outbound.http import RetryPolicy
from hub.payments import services
from hub.payments.registry import Providers

ADDRESS = {"name": "Dana Buyer", "line1": "Hauptstr. 1", "city": "Berlin", "postal_code": "10115", "country": "DE"}
# Retries at once: the tests prove what is retried, not how long the client waits.
NO_WAIT = RetryPolicy(attempts=5, initial_seconds=0, max_seconds=0, jitter_seconds=0)


@pytest.fixture
def box(app: Flask) -> CredentialBox:
    return CredentialBox.from_settings(app.config)


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A plain session, as the services want it: they commit before each provider call."""
    with sessions() as s:
        yield s
        s.commit()


@pytest.fixture
def place_order(alice: Any, api_for: Callable[[Any], Any]) -> Callable[..., dict[str, Any]]:
    """Alice's shop: one product in stock; each call places a pending direct order of `quantity` x `price`."""
    api = api_for(alice)
    made: dict[str, bool] = {}

    def place(price: str = "10.00", quantity: int = 2, currency: str | None = None) -> dict[str, Any]:
        if not made:
            assert api.post("/warehouses", {"code": "MAIN", "name": "Main", "country": "DE"}).status_code == 201
            assert api.post("/products", {"sku": "TEA-1", "title": "Sencha", "base_price": "10.00"}).status_code == 201
            receipt = {"sku": "TEA-1", "warehouse": "MAIN", "quantity": 500}
            assert api.post("/stock/receipts", receipt).status_code == 201
            made["yes"] = True
        body: dict[str, Any] = {"buyer": {"name": "Pat"}, "shipping_address": ADDRESS,
                                "lines": [{"sku": "TEA-1", "quantity": quantity, "unit_price": price}]}
        if currency:
            body["currency"] = currency
        response = api.post("/orders", body)
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.get_json()

    return place


def stripe_account(session: Session, actor: Any, box: CredentialBox, base_url: str, **credentials: str) -> int:
    from hub.sandbox.stripe import SECRET_KEY, WEBHOOK_SECRET

    account = services.add_account(session, actor, box, "stripe",
                                   {"secret_key": SECRET_KEY, "webhook_secret": WEBHOOK_SECRET, **credentials},
                                   base_url=base_url)
    session.commit()
    return account.id


@pytest.fixture
def providers(box: CredentialBox, sessions: sessionmaker[Session]) -> Providers:
    return Providers(box, sessions=sessions, timeout=(2.0, 5.0), retry=NO_WAIT, sleep=lambda _s: None)
