"""`hub demo buyer-story` in-process: the demo seed, then a buyer of the demo store orders, pays (Stripe sandbox),
follows an EasyPost parcel, confirms receipt and reviews, all through the buyer API (a test client here)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from hub.buyers.walkthrough import StoreCall, run_buyer_story
from hub.channels.secrets import CredentialBox
from hub.demo import DemoServices, seed
from hub.orders.models import Order
from hub.reviews.models import Review
from hub.sandbox import stripe
from hub.sandbox.easypost import app as easypost
from hub.sandbox.server import running_mount


@pytest.fixture
def services() -> Iterator[DemoServices]:
    with (running_mount("stripe") as (stripe_mount, stripe_url),
          running_mount("easypost") as (easypost_mount, easypost_url)):
        stripe_mount.app, easypost_mount.app = stripe.create_app(), easypost.create_app()
        yield DemoServices(stripe_url=stripe_url, easypost_url=easypost_url, dhl_url="http://127.0.0.1:9",
                           receiver_url="http://127.0.0.1:9/events")


def client_store(app: Flask) -> Any:
    client = app.test_client()

    def store_for(seller_id: int) -> StoreCall:
        def call(method: str, path: str, json: Any = None, *, token: str | None = None,
                 headers: dict[str, str] | None = None) -> tuple[int, Any]:
            sent = {**({"Authorization": f"Bearer {token}"} if token else {}), **(headers or {})}
            response = client.open(f"/api/store/v1/{seller_id}{path}", method=method, json=json, headers=sent)
            return response.status_code, response.get_json(silent=True)

        return call

    return store_for


def test_a_buyer_of_the_demo_store_places_pays_for_and_reviews_an_order(app, services):
    box = CredentialBox.from_settings(app.config)
    hub = app.extensions["hub"]
    assert seed(hub, box, services) is True
    lines: list[str] = []

    result = run_buyer_story(hub, box, client_store(app), services=services, echo=lines.append)

    assert (result.payment_status, result.status) == ("captured", "delivered")
    assert result.tracking == ["pre_transit", "in_transit", "out_for_delivery"]
    assert [line[:2] for line in lines] == ["1.", "2.", "3.", "4.", "5.", "  ", "6."]
    with hub.sessions() as session:
        order = session.get(Order, result.order_id)
        assert order.channel.kind == "direct" and order.customer_match == "buyer account"
        assert session.scalars(sa.select(Review.id)).all() == [result.review_id]
