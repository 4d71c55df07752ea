"""The EasyPost adapter and the shipping services over real HTTP against the EasyPost sandbox: quote, buy a label,
track to delivered (the order follows), cancel, and a purchase whose answer is lost several times."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
import sqlalchemy as sa

from hub.errors import Conflict, TransientError
from hub.logistics import services
from hub.logistics.carriers import carrier_for
from hub.logistics.models import CarrierAccount, Shipment, TrackingEvent
from hub.orders.models import Order
from hub.orders.status import OrderStatus
from hub.outbound.http import RetryPolicy
from hub.sandbox.easypost.app import API_KEY, create_app
from hub.sandbox.server import Mount, running_mount
from tests.logistics.helpers import BOX, carrier_account, order_status, paid_order, shop


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[Mount, str]]:
    with running_mount("easypost") as mounted:
        yield mounted


@pytest.fixture
def sandbox(server: tuple[Mount, str]) -> str:
    mount, base = server
    mount.app = create_app()
    return base


def carriers(account: CarrierAccount):
    return carrier_for(account, BOX, sleep=lambda _: None, retry=RetryPolicy(attempts=5))


def test_a_label_is_bought_tracked_to_delivery_and_the_order_follows(sessions, alice, sandbox):
    shop(sessions, alice)
    order_id = paid_order(sessions, alice, to="US")
    account_id = carrier_account(sessions, alice, "easypost", sandbox, {"api_key": API_KEY})

    with sessions() as session:
        rates = services.quote(session, alice.actor, order_id, account_id, carriers)
    assert [r.service for r in rates] == ["PriorityMailInternational", "ExpressWorldwideNonDoc"]
    assert rates[0].amount.currency == "USD"

    shipment = services.buy_label(sessions, alice.actor, order_id, account_id, "USPS:PriorityMailInternational",
                                  carriers)
    assert shipment.state == "purchased" and shipment.tracking_code.startswith("9400")
    assert shipment.label_pdf.startswith(b"%PDF") and shipment.label_pdf.rstrip().endswith(b"%%EOF")
    assert shipment.customs["items"][0]["hs_code"] == "0902300000"
    assert order_status(sessions, order_id) is OrderStatus.FULFILLED
    with sessions() as session:
        order = session.get(Order, order_id)
        assert [(f.carrier, f.tracking_number) for f in order.fulfillments] == [("USPS", shipment.tracking_code)]
        assert shipment.fulfillment_id == order.fulfillments[0].id

    requests.post(f"{sandbox}/_sandbox/advance", json={"tracking_code": shipment.tracking_code,
                                                         "status": "out_for_delivery"}, timeout=5)
    assert services.poll_tracking(sessions, carriers) == 1
    assert order_status(sessions, order_id) is OrderStatus.FULFILLED
    requests.post(f"{sandbox}/_sandbox/advance", json={"tracking_code": shipment.tracking_code}, timeout=5)
    services.poll_tracking(sessions, carriers)

    assert order_status(sessions, order_id) is OrderStatus.DELIVERED
    with sessions() as session:
        statuses = session.scalars(sa.select(TrackingEvent.status).order_by(TrackingEvent.occurred_at)).all()
        assert statuses == ["pre_transit", "in_transit", "out_for_delivery", "delivered"]
        assert session.get(Shipment, shipment.id).tracking_status == "delivered"
    assert services.poll_tracking(sessions, carriers) == 0  # delivered parcels are not polled again


def test_a_domestic_label_carries_no_customs_and_an_unscanned_one_can_be_cancelled(sessions, alice, sandbox):
    shop(sessions, alice, country="US")
    order_id = paid_order(sessions, alice, to="US")
    account_id = carrier_account(sessions, alice, "easypost", sandbox, {"api_key": API_KEY},
                                 origin={"name": "Alice", "line1": "1 Main St", "city": "Austin",
                                         "postal_code": "78701", "state": "TX", "country": "US"})
    shipment = services.buy_label(sessions, alice.actor, order_id, account_id, "Priority", carriers)
    sent = requests.get(f"{sandbox}/v2/shipments/{shipment.carrier_shipment_id}", auth=(API_KEY, ""), timeout=5).json()
    assert sent["customs_info"] is None and shipment.customs is None

    cancelled = services.cancel(sessions, alice.actor, shipment.id, carriers)
    assert cancelled.state == "cancelled"
    with pytest.raises(Conflict):
        services.cancel(sessions, alice.actor, shipment.id, carriers)


def test_a_scanned_label_cannot_be_cancelled(sessions, alice, sandbox):
    shop(sessions, alice)
    order_id = paid_order(sessions, alice, to="US")
    account_id = carrier_account(sessions, alice, "easypost", sandbox, {"api_key": API_KEY})
    shipment = services.buy_label(sessions, alice.actor, order_id, account_id, "PriorityMailInternational", carriers)
    requests.post(f"{sandbox}/_sandbox/advance", json={"tracking_code": shipment.tracking_code}, timeout=5)
    services.poll_tracking(sessions, carriers)
    with pytest.raises(Conflict):
        services.cancel(sessions, alice.actor, shipment.id, carriers)


def test_a_purchase_whose_answer_is_lost_three_times_buys_one_label(sessions, alice, sandbox):
    shop(sessions, alice)
    order_id = paid_order(sessions, alice, to="US")
    account_id = carrier_account(sessions, alice, "easypost", sandbox, {"api_key": API_KEY})
    requests.post(f"{sandbox}/_sandbox/faults", json={"drop_buy": 3}, timeout=5)

    shipment = services.buy_label(sessions, alice.actor, order_id, account_id, "PriorityMailInternational", carriers)

    assert shipment.state == "purchased" and shipment.label_pdf.startswith(b"%PDF")
    assert requests.get(f"{sandbox}/_sandbox/stats", timeout=5).json()["labels_bought"] == 1
    with sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Shipment)) == 1


def test_a_purchase_lost_beyond_the_retries_is_finished_later_with_the_same_key(sessions, alice, sandbox):
    shop(sessions, alice)
    order_id = paid_order(sessions, alice, to="US")
    account_id = carrier_account(sessions, alice, "easypost", sandbox, {"api_key": API_KEY})
    requests.post(f"{sandbox}/_sandbox/faults", json={"drop_buy": 5}, timeout=5)

    with pytest.raises(TransientError):
        services.buy_label(sessions, alice.actor, order_id, account_id, "PriorityMailInternational", carriers)
    with sessions() as session:
        waiting = session.scalars(sa.select(Shipment)).one()
        assert (waiting.state, waiting.tracking_code) == ("buying", "")
        assert waiting.carrier_shipment_id.startswith("shp_")  # kept before the purchase was tried
    assert order_status(sessions, order_id) is OrderStatus.PAID

    assert services.resume_purchases(sessions, carriers) == 1

    assert requests.get(f"{sandbox}/_sandbox/stats", timeout=5).json() == {"labels_bought": 1, "shipments": 1,
                                                                           "trackers": 1}
    with sessions() as session:
        shipment = session.scalars(sa.select(Shipment)).one()
        assert shipment.state == "purchased" and shipment.idempotency_key == waiting.idempotency_key
    assert order_status(sessions, order_id) is OrderStatus.FULFILLED
