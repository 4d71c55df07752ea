"""The DHL Express adapter and the shipping services over real HTTP against the MyDHL sandbox: quote, buy a label
(customs for an international parcel, none for a domestic one), track to delivered, and a shipment call whose
answer is lost several times."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
import sqlalchemy as sa

from hub.errors import TransientError
from hub.logistics import services
from hub.logistics.carriers import carrier_for
from hub.logistics.models import CarrierAccount, Shipment
from hub.orders.status import OrderStatus
from hub.outbound.http import RetryPolicy
from hub.sandbox.dhl.app import ACCOUNT_NUMBER, PASSWORD, USERNAME, create_app
from hub.sandbox.server import Mount, running_mount
from tests.logistics.helpers import BOX, carrier_account, order_status, paid_order, shop

CREDENTIALS = {"username": USERNAME, "password": PASSWORD, "account_number": ACCOUNT_NUMBER}


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[Mount, str]]:
    with running_mount("dhl") as mounted:
        yield mounted


@pytest.fixture
def sandbox(server: tuple[Mount, str]) -> str:
    mount, base = server
    mount.app = create_app()
    return base


def carriers(account: CarrierAccount):
    return carrier_for(account, BOX, sleep=lambda _: None, retry=RetryPolicy(attempts=5))


def sent(sandbox: str) -> list[dict]:
    return requests.get(f"{sandbox}/_sandbox/requests", timeout=5).json()


def test_an_international_label_declares_the_goods_and_tracking_to_delivery_moves_the_order(sessions, alice,
                                                                                            sandbox):
    shop(sessions, alice)
    order_id = paid_order(sessions, alice, to="CH")
    account_id = carrier_account(sessions, alice, "dhl", sandbox, CREDENTIALS)

    with sessions() as session:
        rates = services.quote(session, alice.actor, order_id, account_id, carriers)
    assert [r.service for r in rates] == ["P", "T"] and rates[0].amount.currency == "EUR"

    shipment = services.buy_label(sessions, alice.actor, order_id, account_id, "P", carriers)

    assert shipment.state == "purchased" and len(shipment.tracking_code) == 10
    assert shipment.label_pdf.startswith(b"%PDF") and shipment.rate_currency == "EUR"
    (request,) = sent(sandbox)
    content = request["body"]["content"]
    assert content["isCustomsDeclarable"] is True
    tea = content["exportDeclaration"]["lineItems"][0]
    assert (tea["commodityCodes"], tea["manufacturerCountry"], tea["quantity"]) == (
        [{"typeCode": "outbound", "value": "0902300000"}], "IN", {"value": 2, "unitOfMeasurement": "PCS"})
    assert request["headers"]["Message-Reference"] == shipment.idempotency_key
    assert order_status(sessions, order_id) is OrderStatus.FULFILLED

    requests.post(f"{sandbox}/_sandbox/advance", json={"tracking": shipment.tracking_code, "status": "WC"}, timeout=5)
    services.poll_tracking(sessions, carriers)
    assert order_status(sessions, order_id) is OrderStatus.FULFILLED
    requests.post(f"{sandbox}/_sandbox/advance", json={"tracking": shipment.tracking_code}, timeout=5)
    services.poll_tracking(sessions, carriers)

    assert order_status(sessions, order_id) is OrderStatus.DELIVERED
    with sessions() as session:
        events = session.get(Shipment, shipment.id).events
        assert [(e.status, e.carrier_status) for e in events] == [
            ("pre_transit", "SD"), ("in_transit", "PU"), ("out_for_delivery", "WC"), ("delivered", "OK")]


def test_a_domestic_label_is_not_declarable(sessions, alice, sandbox):
    shop(sessions, alice)
    order_id = paid_order(sessions, alice, to="GB")
    account_id = carrier_account(sessions, alice, "dhl", sandbox, CREDENTIALS)

    shipment = services.buy_label(sessions, alice.actor, order_id, account_id, "N", carriers)

    (request,) = sent(sandbox)
    assert request["body"]["content"]["isCustomsDeclarable"] is False
    assert "exportDeclaration" not in request["body"]["content"] and shipment.customs is None
    assert shipment.label_pdf.startswith(b"%PDF")


def test_a_cancelled_dhl_label_is_simply_not_used(sessions, alice, sandbox):
    shop(sessions, alice)
    order_id = paid_order(sessions, alice, to="GB")
    account_id = carrier_account(sessions, alice, "dhl", sandbox, CREDENTIALS)
    shipment = services.buy_label(sessions, alice.actor, order_id, account_id, "N", carriers)

    assert services.cancel(sessions, alice.actor, shipment.id, carriers).state == "cancelled"
    assert services.poll_tracking(sessions, carriers) == 0  # a cancelled label is not tracked


def test_a_shipment_call_whose_answer_is_lost_three_times_makes_one_label_with_one_reference(sessions, alice,
                                                                                            sandbox):
    shop(sessions, alice)
    order_id = paid_order(sessions, alice, to="CH")
    account_id = carrier_account(sessions, alice, "dhl", sandbox, CREDENTIALS)
    requests.post(f"{sandbox}/_sandbox/faults", json={"drop_create": 3}, timeout=5)

    shipment = services.buy_label(sessions, alice.actor, order_id, account_id, "P", carriers)

    assert shipment.label_pdf.startswith(b"%PDF")
    assert requests.get(f"{sandbox}/_sandbox/stats", timeout=5).json()["labels_made"] == 1
    references = {r["headers"]["Message-Reference"] for r in sent(sandbox)}
    assert len(sent(sandbox)) == 4 and references == {shipment.idempotency_key}
    with sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Shipment)) == 1


def test_a_shipment_call_lost_beyond_the_retries_is_finished_later_without_a_second_waybill(sessions, alice,
                                                                                           sandbox):
    shop(sessions, alice)
    order_id = paid_order(sessions, alice, to="CH")
    account_id = carrier_account(sessions, alice, "dhl", sandbox, CREDENTIALS)
    requests.post(f"{sandbox}/_sandbox/faults", json={"drop_create": 5}, timeout=5)
    with pytest.raises(TransientError):
        services.buy_label(sessions, alice.actor, order_id, account_id, "P", carriers)
    assert order_status(sessions, order_id) is OrderStatus.PAID

    assert services.resume_purchases(sessions, carriers) == 1

    assert requests.get(f"{sandbox}/_sandbox/stats", timeout=5).json() == {"labels_made": 1, "shipments": 1}
    assert len({r["headers"]["Message-Reference"] for r in sent(sandbox)}) == 1
    assert order_status(sessions, order_id) is OrderStatus.FULFILLED
