"""POST /webhooks/carriers/<carrier>/<account id>: EasyPost tracker events, signed with the account's secret, are
applied once whatever the order or repetition of their deliveries; a forged one is refused and changes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests
import sqlalchemy as sa

from hub.logistics import services
from hub.logistics.carriers import carrier_for
from hub.logistics.models import CarrierAccount, Shipment, TrackingEvent
from hub.orders.status import OrderStatus
from hub.sandbox.easypost.app import API_KEY, create_app, signature
from hub.sandbox.server import Mount, running, running_mount
from tests.logistics.helpers import BOX, carrier_account, order_status, paid_order, shop

SECRET = "whsec-alice-0123456789"


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[Mount, str]]:
    with running_mount("easypost") as mounted:
        yield mounted


@pytest.fixture
def sandbox(server: tuple[Mount, str]) -> str:
    mount, base = server
    mount.app = create_app(webhook_secret=SECRET)
    return base


def carriers(account: CarrierAccount):
    return carrier_for(account, BOX, sleep=lambda _: None)


@pytest.fixture
def shipped(sessions, alice, sandbox) -> tuple[int, int, Shipment]:
    shop(sessions, alice)
    order_id = paid_order(sessions, alice, to="US")
    account_id = carrier_account(sessions, alice, "easypost", sandbox, {"api_key": API_KEY}, webhook_secret=SECRET)
    shipment = services.buy_label(sessions, alice.actor, order_id, account_id, "PriorityMailInternational", carriers)
    return order_id, account_id, shipment


def advance(sandbox: str, code: str, status: str | None = None) -> dict:
    """The sandbox moves the parcel on and hands back the webhook delivery it made (headers and raw body)."""
    answer = requests.post(f"{sandbox}/_sandbox/advance", json={"tracking_code": code, "status": status},
                           timeout=5).json()
    return answer["webhook"]


def post(client, account_id: int, delivery: dict, carrier: str = "easypost"):
    return client.post(f"/webhooks/carriers/{carrier}/{account_id}", data=delivery["body"].encode(),
                       headers=delivery["headers"])


def stored(sessions) -> list[str]:
    with sessions() as session:
        return list(session.scalars(sa.select(TrackingEvent.status).order_by(TrackingEvent.occurred_at)))


def test_a_genuine_webhook_is_applied_once_even_when_posted_twice(client, sessions, sandbox, shipped):
    order_id, account_id, shipment = shipped
    delivered = advance(sandbox, shipment.tracking_code, "delivered")

    first = post(client, account_id, delivered)
    again = post(client, account_id, delivered)

    assert (first.status_code, first.get_json()["status"], first.get_json()["events"]) == (200, "applied", 4)
    assert (again.status_code, again.get_json()["status"]) == (200, "duplicate")
    assert stored(sessions) == ["pre_transit", "in_transit", "out_for_delivery", "delivered"]
    assert order_status(sessions, order_id) is OrderStatus.DELIVERED


def test_deliveries_out_of_order_leave_the_parcel_delivered(client, sessions, sandbox, shipped):
    order_id, account_id, shipment = shipped
    in_transit = advance(sandbox, shipment.tracking_code, "in_transit")
    delivered = advance(sandbox, shipment.tracking_code, "delivered")

    assert post(client, account_id, delivered).status_code == 200
    assert post(client, account_id, in_transit).get_json()["status"] == "duplicate"

    with sessions() as session:
        assert session.get(Shipment, shipment.id).tracking_status == "delivered"
    assert order_status(sessions, order_id) is OrderStatus.DELIVERED


def test_a_forged_webhook_is_refused_and_changes_nothing(client, sessions, sandbox, shipped):
    order_id, account_id, shipment = shipped
    delivery = advance(sandbox, shipment.tracking_code, "delivered")
    forged = {"body": delivery["body"], "headers": {**delivery["headers"],
                                                    "X-Hmac-Signature": signature(delivery["body"].encode(), "guess")}}
    unsigned = {"body": delivery["body"], "headers": {"Content-Type": "application/json"}}
    tampered = {"body": delivery["body"].replace("delivered", "returned"), "headers": delivery["headers"]}

    for attempt in (forged, unsigned, tampered):
        answer = post(client, account_id, attempt)
        assert answer.status_code == 401 and answer.get_json()["error"]["code"] == "bad_signature"

    assert stored(sessions) == []
    with sessions() as session:
        assert session.get(Shipment, shipment.id).tracking_status == "pre_transit"
    assert order_status(sessions, order_id) is OrderStatus.FULFILLED


def test_a_webhook_for_an_unknown_account_or_carrier_is_not_found(client, sandbox, shipped):
    _, account_id, shipment = shipped
    delivery = advance(sandbox, shipment.tracking_code)
    assert post(client, account_id + 1, delivery).status_code == 404
    assert post(client, account_id, delivery, carrier="dhl").status_code == 404
    assert post(client, account_id, delivery, carrier="fedex").status_code == 404


def test_a_signed_event_that_is_not_about_tracking_is_ignored(client, sessions, shipped):
    _, account_id, _ = shipped
    body = json.dumps({"object": "Event", "description": "batch.updated", "result": {}})
    answer = post(client, account_id, {"body": body, "headers": {"X-Hmac-Signature": signature(body.encode(),
                                                                                               SECRET)}})
    assert (answer.status_code, answer.get_json()["status"]) == (200, "ignored")


def test_the_webhook_needs_no_csrf_token_and_answers_json_to_other_methods(client, shipped):
    _, account_id, _ = shipped
    answer = client.get(f"/webhooks/carriers/easypost/{account_id}")
    assert answer.status_code in (404, 405) and "error" in answer.get_json()


def test_the_sandbox_posts_its_signed_webhooks_to_the_hub_over_http(app, sessions, sandbox, shipped):
    order_id, account_id, shipment = shipped
    with running(app) as hub_base:
        requests.post(f"{sandbox}/_sandbox/config",
                      json={"webhook_url": f"{hub_base}/webhooks/carriers/easypost/{account_id}"}, timeout=5)
        advance(sandbox, shipment.tracking_code, "delivered")

    assert stored(sessions) == ["pre_transit", "in_transit", "out_for_delivery", "delivered"]
    assert order_status(sessions, order_id) is OrderStatus.DELIVERED
