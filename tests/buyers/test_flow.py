"""A buyer's whole order over the buyer API, against the Stripe and EasyPost sandboxes over real HTTP: place, pay
(declined first, then paid), the seller buys a label, the buyer follows the tracking, confirms receipt, reviews."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
import requests
import sqlalchemy as sa
from flask import Flask

from hub.channels.secrets import CredentialBox
from hub.logistics import services as logistics
from hub.logistics.carriers import carrier_for
from hub.logistics.models import CarrierAccount
from hub.orders.models import Order
from hub.outbound.http import RetryPolicy
from hub.payments import services as payments
from hub.payments.models import Payment
from hub.payments.registry import Providers
from hub.reviews.models import Review
from hub.sandbox.easypost.app import API_KEY
from hub.sandbox.easypost.app import create_app as easypost_app
from hub.sandbox.server import Mount, running_mount
from hub.sandbox.stripe import SECRET_KEY, WEBHOOK_SECRET
from hub.sandbox.stripe import create_app as stripe_app
from tests.buyers.conftest import Shop, order_body
from tests.logistics.helpers import BOX, carrier_account

NO_WAIT = RetryPolicy(attempts=5, initial_seconds=0, max_seconds=0, jitter_seconds=0)


@pytest.fixture(scope="module")
def stripe_server() -> Iterator[tuple[Mount, str]]:
    with running_mount("stripe") as mounted:
        yield mounted


@pytest.fixture(scope="module")
def easypost_server() -> Iterator[tuple[Mount, str]]:
    with running_mount("easypost") as mounted:
        yield mounted


@pytest.fixture
def stripe(stripe_server: tuple[Mount, str]) -> Iterator[tuple[Flask, str]]:
    mount, base = stripe_server
    mount.app = stripe_app()
    yield mount.app, base
    mount.app = None


@pytest.fixture
def easypost(easypost_server: tuple[Mount, str]) -> Iterator[str]:
    mount, base = easypost_server
    mount.app = easypost_app()
    yield base
    mount.app = None


@pytest.fixture
def store_takes_stripe(app: Flask, sessions, alice_shop: Shop, stripe: tuple[Flask, str]) -> int:
    """Alice connects her Stripe account; the app's payment adapters retry at once (the tests wait for nothing)."""
    box = CredentialBox.from_settings(app.config)
    app.extensions["payments"] = Providers(box, sessions=sessions, timeout=(2.0, 5.0), retry=NO_WAIT,
                                           sleep=lambda _s: None)
    with sessions() as session:
        session.info["seller_id"] = alice_shop.account.seller_id
        account = payments.add_account(session, alice_shop.account.actor, box, "stripe",
                                       {"secret_key": SECRET_KEY, "webhook_secret": WEBHOOK_SECRET},
                                       base_url=stripe[1])
        session.commit()
        return account.id


def carriers(account: CarrierAccount):
    return carrier_for(account, BOX, sleep=lambda _: None, retry=NO_WAIT)


def test_a_buyer_places_pays_follows_confirms_and_reviews_an_order(
        alice_shop, sessions, store_takes_stripe, stripe, easypost):
    me = alice_shop.store.sign_up_and_login("jo@example.com")
    address = me.post("/addresses", order_body()["shipping_address"]).get_json()
    placed = me.post("/orders", {"lines": order_body()["lines"], "address_id": address["id"]})
    assert placed.status_code == 201, placed.get_data(as_text=True)
    order = placed.get_json()
    assert Decimal(order["grand_total"]) == Decimal("30.00")

    declined = me.post(f"/orders/{order['id']}/pay", {"payment_method": "pm_card_chargeDeclined"})
    assert declined.status_code == 200 and declined.get_json()["status"] == "failed"
    assert declined.get_json()["failure_reason"] == "generic_decline"
    paid = me.post(f"/orders/{order['id']}/pay", {"payment_method": "pm_card_visa"})
    assert paid.status_code == 200, paid.get_data(as_text=True)
    assert (paid.get_json()["status"], Decimal(paid.get_json()["captured"])) == ("captured", Decimal("30.00"))
    again = me.post(f"/orders/{order['id']}/pay", {"payment_method": "pm_card_visa"})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_paid"
    assert len(stripe[0].extensions["sandbox"].charges) == 1
    assert me.get(f"/orders/{order['id']}").get_json()["status"] == "paid"

    # The seller ships with a label from EasyPost; the carrier scans the parcel on its way.
    carrier_id = carrier_account(sessions, alice_shop.account, "easypost", easypost, {"api_key": API_KEY})
    shipment = logistics.buy_label(sessions, alice_shop.account.actor, order["id"], carrier_id,
                                   "PriorityMailInternational", carriers)
    requests.post(f"{easypost}/_sandbox/advance", json={"tracking_code": shipment.tracking_code,
                                                         "status": "out_for_delivery"}, timeout=5)
    assert logistics.poll_tracking(sessions, carriers) == 1

    followed = me.get(f"/orders/{order['id']}").get_json()
    assert followed["status"] == "fulfilled"
    [parcel] = followed["shipments"]
    assert parcel["tracking_code"] == shipment.tracking_code and parcel["tracking_status"] == "out_for_delivery"
    assert [e["status"] for e in parcel["events"]] == ["pre_transit", "in_transit", "out_for_delivery"]
    assert [p["status"] for p in followed["payments"]] == ["failed", "captured"]

    confirmed = me.post(f"/orders/{order['id']}/confirm-receipt")
    assert confirmed.get_json()["status"] == "delivered"
    line = followed["lines"][0]
    reviewed = me.post(f"/orders/{order['id']}/lines/{line['id']}/review",
                       {"rating": 5, "title": "Lovely tea", "body": "Arrived quickly."})
    assert reviewed.status_code == 201, reviewed.get_data(as_text=True)

    # The carrier's own delivery scan afterwards changes nothing: the order is delivered already.
    requests.post(f"{easypost}/_sandbox/advance", json={"tracking_code": shipment.tracking_code}, timeout=5)
    logistics.poll_tracking(sessions, carriers)
    with sessions() as session:
        row = session.get(Order, order["id"])
        assert row.status == "delivered"
        assert session.scalars(sa.select(Payment.status).order_by(Payment.id)).all() == ["failed", "captured"]
        review = session.scalars(sa.select(Review)).one()
        assert (review.rating, review.customer_id, review.order_line_id) == (5, row.customer_id, line["id"])


def test_a_buyer_can_name_the_stores_payment_account_but_not_another_sellers(
        alice_shop, bob, sessions, store_takes_stripe, stripe, app):
    box = CredentialBox.from_settings(app.config)
    with sessions() as session:
        session.info["seller_id"] = bob.seller_id
        bobs = payments.add_account(session, bob.actor, box, "stripe",
                                    {"secret_key": SECRET_KEY, "webhook_secret": WEBHOOK_SECRET}, base_url=stripe[1])
        session.commit()
        bobs_id = bobs.id
    me = alice_shop.store.sign_up_and_login("jo@example.com")
    order = me.post("/orders", order_body()).get_json()

    refused = me.post(f"/orders/{order['id']}/pay", {"account_id": bobs_id, "payment_method": "pm_card_visa"})
    assert refused.status_code == 404 and "account_id" in refused.get_json()["error"]["fields"]
    paid = me.post(f"/orders/{order['id']}/pay", {"account_id": store_takes_stripe, "payment_method": "pm_card_visa"})
    assert paid.get_json()["status"] == "captured"
