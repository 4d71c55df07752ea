"""The order page's carrier labels against the EasyPost sandbox over real HTTP: connect a carrier in the settings,
get quotes, buy a label (once, however often the form is sent), download it, follow tracking to delivered; cancel
an unscanned label; what a viewer sees."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
import requests
import sqlalchemy as sa

from hub.channels.secrets import CredentialBox
from hub.logistics import services
from hub.logistics.carriers import carrier_for
from hub.logistics.models import CarrierAccount, Shipment
from hub.orders.models import Order
from hub.orders.status import OrderStatus
from hub.outbound.http import RetryPolicy
from hub.sandbox.easypost.app import API_KEY, create_app
from hub.sandbox.server import Mount, running_mount
from tests.logistics.helpers import paid_order, shop
from tests.web.support import add_user, browser, text

US_ORIGIN = {"origin.name": "Alice", "origin.line1": "1 Main St", "origin.city": "Austin",
             "origin.postal_code": "78701", "origin.state": "TX", "origin.country": "us"}


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[Mount, str]]:
    with running_mount("easypost") as mounted:
        yield mounted


@pytest.fixture
def sandbox(server: tuple[Mount, str]) -> str:
    mount, base = server
    mount.app = create_app()
    return base


def connect_easypost(owner, base: str) -> int:
    response = owner.post("/settings/carriers", {"kind": "easypost", "name": "EasyPost sandbox", "base_url": base,
                                                 "credentials.api_key": API_KEY, **US_ORIGIN})
    assert response.status_code == 302, text(response)
    match = re.search(r'<tr data-account="(\d+)">', text(owner.get("/settings/carriers")))
    assert match
    return int(match.group(1))


def quote(owner, order_id: int, account_id: int) -> tuple[str, dict[str, str]]:
    """The quotes page and the buy form of its first rate."""
    page = owner.post(f"/orders/{order_id}/labels/quote", {"account_id": str(account_id)})
    assert page.status_code == 200, text(page)
    body = page.get_data(as_text=True)
    form = re.search(r'<form method="post" action="/orders/\d+/labels" class="inline">(.*?)</form>', body, re.S)
    assert form, "no rate offered"
    hidden = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.group(1))
    fields = {name: html.unescape(value) for name, value in hidden if name != "csrf_token"}
    return text(page), fields


def poll(app) -> int:
    box = CredentialBox.from_settings(app.config)

    def carriers(account: CarrierAccount):
        return carrier_for(account, box, sleep=lambda _: None, retry=RetryPolicy(attempts=3))

    return services.poll_tracking(app.extensions["hub"].sessions, carriers)


def test_a_label_is_bought_once_downloaded_and_tracked_to_delivered_on_the_order_page(app, sessions, alice, sandbox):
    shop(sessions, alice, country="US")
    order_id = paid_order(sessions, alice, to="US")
    owner = browser(app, alice)
    account_id = connect_easypost(owner, sandbox)

    page, buy = quote(owner, order_id, account_id)
    assert "Buy label" in page and buy["key"].startswith("web-") and buy["account_id"] == str(account_id)
    first = owner.post(f"/orders/{order_id}/labels", buy)
    again = owner.post(f"/orders/{order_id}/labels", buy)  # a double submit

    assert first.status_code == again.status_code == 302, text(first)
    assert requests.get(f"{sandbox}/_sandbox/stats", timeout=5).json()["labels_bought"] == 1
    with sessions() as session:
        shipment = session.scalars(sa.select(Shipment)).one()
        assert session.get(Order, order_id).status is OrderStatus.FULFILLED
    page = text(owner.get(f"/orders/{order_id}"))
    assert shipment.tracking_code in page and "Cancel label" in page
    pdf = owner.get(f"/orders/{order_id}/shipments/{shipment.id}/label.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.get_data().startswith(b"%PDF")

    requests.post(f"{sandbox}/_sandbox/advance", json={"tracking_code": shipment.tracking_code,
                                                         "status": "delivered"}, timeout=5)
    assert poll(app) == 1

    page = text(owner.get(f"/orders/{order_id}"))
    assert re.search(r'data-tracking-status>delivered<', page)
    assert re.search(r'id="order-status">delivered<', page)
    assert "out for delivery" in page  # the timeline of the parcel's scans
    assert "Cancel label" not in page
    events = re.findall(r'<tr data-event="([a-z._]+)">', page)
    assert events == ["order.imported", "order.paid", "order.shipped", "order.delivered"]


def test_an_unscanned_label_is_cancelled_from_the_order_page(app, sessions, alice, sandbox):
    shop(sessions, alice, country="US")
    order_id = paid_order(sessions, alice, to="US")
    owner = browser(app, alice)
    account_id = connect_easypost(owner, sandbox)
    _, buy = quote(owner, order_id, account_id)
    owner.post(f"/orders/{order_id}/labels", buy)
    with sessions() as session:
        shipment_id = session.scalars(sa.select(Shipment.id)).one()

    cancelled = owner.post(f"/orders/{order_id}/shipments/{shipment_id}/cancel")

    assert cancelled.status_code == 302, text(cancelled)
    with sessions() as session:
        assert session.get(Shipment, shipment_id).state == "cancelled"
    assert "Cancel label" not in text(owner.get(f"/orders/{order_id}"))


def test_buying_without_the_forms_key_buys_nothing(app, sessions, alice, sandbox):
    shop(sessions, alice, country="US")
    order_id = paid_order(sessions, alice, to="US")
    owner = browser(app, alice)
    account_id = connect_easypost(owner, sandbox)
    _, buy = quote(owner, order_id, account_id)

    refused = owner.post(f"/orders/{order_id}/labels", {**buy, "key": ""})

    assert refused.status_code == 422 and "get the quotes again" in text(refused)
    assert requests.get(f"{sandbox}/_sandbox/stats", timeout=5).json()["labels_bought"] == 0


def test_a_pending_order_offers_no_label_and_a_viewer_only_the_download(app, sessions, security, alice, sandbox):
    shop(sessions, alice, country="US")
    order_id = paid_order(sessions, alice, to="US")
    owner = browser(app, alice)
    account_id = connect_easypost(owner, sandbox)
    _, buy = quote(owner, order_id, account_id)
    owner.post(f"/orders/{order_id}/labels", buy)
    add_user(sessions, security, alice, "viewer", "viewer@teas.example.com")
    viewer = browser(app, "viewer@teas.example.com")

    page = text(viewer.get(f"/orders/{order_id}"))

    assert "Download label (PDF)" in page
    assert re.findall(r'<form method="post"[^>]*>', page) == ['<form method="post" action="/logout" class="inline">']
    assert viewer.post(f"/orders/{order_id}/labels/quote", {"account_id": str(account_id)}).status_code == 403
