"""The worker's logistics pass (hub.logistics.jobs): interrupted purchases finished, tracking polled, and every
carrier call on the audit trail under the account's seller."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest
import requests
import sqlalchemy as sa

from hub.errors import TransientError
from hub.logistics import services
from hub.logistics.jobs import carriers_of, run_logistics
from hub.orders.status import OrderStatus
from hub.outbound.models import ExternalCall
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


def test_one_pass_finishes_an_interrupted_purchase_polls_tracking_and_audits_every_call(sessions, alice, sandbox):
    env = SimpleNamespace(sessions=sessions, box=BOX, sleep=lambda _: None, timeout=(5.0, 30.0))
    shop(sessions, alice)
    order_id = paid_order(sessions, alice, to="US")
    account_id = carrier_account(sessions, alice, "easypost", sandbox, {"api_key": API_KEY})
    requests.post(f"{sandbox}/_sandbox/faults", json={"drop_buy": 5}, timeout=5)
    with pytest.raises(TransientError):
        services.buy_label(sessions, alice.actor, order_id, account_id, "PriorityMailInternational", carriers_of(env))

    assert run_logistics(env) == (1, 1)
    assert order_status(sessions, order_id) is OrderStatus.FULFILLED
    assert requests.get(f"{sandbox}/_sandbox/stats", timeout=5).json()["labels_bought"] == 1

    with sessions() as session:
        shipment_code = session.scalar(sa.text("SELECT tracking_code FROM shipments"))
    requests.post(f"{sandbox}/_sandbox/advance", json={"tracking_code": shipment_code, "status": "delivered"},
                  timeout=5)
    assert run_logistics(env) == (0, 1)
    assert order_status(sessions, order_id) is OrderStatus.DELIVERED

    with sessions() as session:
        calls = session.execute(sa.select(ExternalCall.method, ExternalCall.url, ExternalCall.seller_id,
                                          ExternalCall.status).where(ExternalCall.service == "easypost")).all()
    assert {seller for _, _, seller, _ in calls} == {alice.seller_id}
    dropped = [c for c in calls if c.url.endswith("/buy") and c.status is None]
    assert len(dropped) == 5  # each lost answer is on the record
    assert any(method == "GET" and "/v2/trackers/trk_" in url for method, url, _, _ in calls)
    assert all(API_KEY not in c.url for c in calls)
