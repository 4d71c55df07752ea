"""POST /webhooks/<channel id>: signed deliveries made by the sandboxes' own helpers, through the Flask test client
(the endpoint) and, where the hub must call a marketplace (a Shopee push, a reconciling pull), a sandbox served
over real HTTP."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from hub.channels.models import Channel
from hub.orders.models import Order
from hub.orders.status import OrderStatus as S
from hub.sandbox.faults import Faults
from hub.sandbox.server import running
from hub.sandbox.shopee import PARTNER_KEY, SHOP_ID
from hub.sandbox.shopee import create_app as shopee_sandbox
from hub.sandbox.shopify.app import create_app as shopify_sandbox
from hub.sandbox.shopify.state import Shop
from hub.sandbox.woocommerce import CONSUMER_KEY, CONSUMER_SECRET, WEBHOOK_SECRET, signed_webhook
from hub.sandbox.woocommerce import create_app as woocommerce_sandbox
from hub.sync import webhooks
from hub.sync.env import SyncEnv
from hub.sync.jobs import run_job
from hub.sync.models import QuarantinedOrder, WebhookDelivery
from tests.channels.support import FakeClock

SEEDED_UNTIL = datetime(2026, 2, 1, tzinfo=UTC).timestamp()  # the Shopify sandbox's orders are seeded before
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
PUSH_URL = "https://hub.example.com/webhooks/shopee"


# --- helpers ---------------------------------------------------------------------------------------------------

@pytest.fixture
def shopify_clock() -> FakeClock:
    return FakeClock(SEEDED_UNTIL)


@pytest.fixture
def shopify_app(shopify_clock: FakeClock) -> Flask:
    return shopify_sandbox(seed=5, orders=8, clock=shopify_clock, faults=Faults(seed=5))


@pytest.fixture
def shop(shopify_app: Flask) -> Shop:
    return shopify_app.extensions["sandbox"]


@pytest.fixture
def shopify_channel(make_channel, alice, shop: Shop) -> Channel:
    return make_channel(alice.seller_id, "shopify", "https://sandbox.myshopify.com",
                        {"access_token": shop.access_token, "api_secret": shop.api_secret})


def post(client: FlaskClient, channel_id: int, headers: dict[str, str], body: bytes):
    return client.post(f"/webhooks/{channel_id}", data=body, headers=headers)


def orders_of(env: SyncEnv, channel_id: int) -> list[Order]:
    with env.sessions() as session:
        return list(session.scalars(sa.select(Order).where(Order.channel_id == channel_id).order_by(Order.id)))


def deliveries_of(env: SyncEnv, channel_id: int) -> list[WebhookDelivery]:
    with env.sessions() as session:
        return list(session.scalars(sa.select(WebhookDelivery).where(WebhookDelivery.channel_id == channel_id)
                                    .order_by(WebhookDelivery.id)))


def quarantined_of(env: SyncEnv, channel_id: int) -> list[QuarantinedOrder]:
    with env.sessions() as session:
        return list(session.scalars(sa.select(QuarantinedOrder).where(QuarantinedOrder.channel_id == channel_id)))


def open_order(shop: Shop) -> int:
    """An order that is pending payment, unshipped and not cancelled: one a later delivery can move on."""
    return next(n for n, o in sorted(shop.orders.items())
                if o.financial in ("PENDING", "AUTHORIZED") and not o.cancelled_at
                and o.fulfillment_status == "UNFULFILLED")


def paid_later(shop: Shop, number: int, minutes: int = 5) -> None:
    order = shop.orders[number]
    order.financial = "PAID"
    order.updated_at += timedelta(minutes=minutes)


def shopify_signed(shop: Shop, body: bytes, topic: str, webhook_id: str) -> dict[str, str]:
    """Headers for a body the sandbox cannot produce itself (not JSON at all), signed as Shopify signs."""
    signature = base64.b64encode(hmac.new(shop.api_secret.encode(), body, hashlib.sha256).digest()).decode()
    return {"Content-Type": "application/json", "X-Shopify-Topic": topic, "X-Shopify-Hmac-Sha256": signature,
            "X-Shopify-Webhook-Id": webhook_id}


# --- Shopify ---------------------------------------------------------------------------------------------------

def test_an_orders_create_then_an_orders_updated_delivery_make_one_order_in_its_newer_state(
        client, env, shop, shopify_channel):
    number = open_order(shop)
    created = post(client, shopify_channel.id, *shop.webhook(number, "orders/create"))
    assert created.status_code == 200 and created.get_json() == {"status": "applied"}
    (order,) = orders_of(env, shopify_channel.id)
    assert (order.external_id, order.status) == (str(number), S.PENDING)

    paid_later(shop, number)
    updated = post(client, shopify_channel.id, *shop.webhook(number, "orders/updated"))
    assert updated.get_json() == {"status": "applied"}
    (order,) = orders_of(env, shopify_channel.id)
    assert order.status is S.PAID and order.updated_at == shop.orders[number].updated_at.replace(microsecond=0)
    assert [(d.topic, d.outcome) for d in deliveries_of(env, shopify_channel.id)] == [
        ("orders/create", "applied"), ("orders/updated", "applied")]


def test_the_same_delivery_three_times_makes_one_order_and_two_duplicate_answers(client, env, shop, shopify_channel):
    headers, body = shop.webhook(open_order(shop), "orders/create")
    answers = [post(client, shopify_channel.id, headers, body) for _ in range(3)]
    assert [(a.status_code, a.get_json()["status"]) for a in answers] == [
        (200, "applied"), (200, "duplicate"), (200, "duplicate")]
    assert len(orders_of(env, shopify_channel.id)) == 1
    assert len(deliveries_of(env, shopify_channel.id)) == 1


def test_the_same_body_under_another_delivery_id_is_a_duplicate(client, env, shop, shopify_channel):
    headers, body = shop.webhook(open_order(shop), "orders/create")
    assert post(client, shopify_channel.id, headers, body).get_json() == {"status": "applied"}
    again = post(client, shopify_channel.id, {**headers, "X-Shopify-Webhook-Id": "another-id"}, body)
    assert again.get_json() == {"status": "duplicate"}
    assert [d.delivery_id for d in deliveries_of(env, shopify_channel.id)] == [headers["X-Shopify-Webhook-Id"]]


def test_racing_redeliveries_over_http_apply_once(app, env, shop, shopify_channel):
    number = open_order(shop)
    create = shop.webhook(number, "orders/create")
    paid_later(shop, number)
    paid = shop.webhook(number, "orders/paid")
    deliveries = [create, paid] * 4
    with running(app) as base, ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda d: requests.post(f"{base}/webhooks/{shopify_channel.id}", headers=d[0],
                                                        data=d[1], timeout=30), deliveries))
    statuses = [a.json()["status"] for a in answers]
    assert sorted(statuses) == ["applied"] * 2 + ["duplicate"] * 6, statuses
    (order,) = orders_of(env, shopify_channel.id)
    assert order.status is S.PAID
    assert len(deliveries_of(env, shopify_channel.id)) == 2


def test_a_paid_delivery_arriving_before_its_create_leaves_the_order_in_the_newer_state(
        client, env, shop, shopify_channel):
    number = open_order(shop)
    create = shop.webhook(number, "orders/create")
    paid_later(shop, number)
    paid = shop.webhook(number, "orders/paid")
    assert post(client, shopify_channel.id, *paid).get_json() == {"status": "applied"}
    assert post(client, shopify_channel.id, *create).get_json() == {"status": "applied"}  # applied: unchanged
    (order,) = orders_of(env, shopify_channel.id)
    assert order.status is S.PAID
    with env.sessions() as session:
        kinds = [e.kind for e in session.get(Order, order.id).events]
    assert kinds == ["imported"]  # the older version changed nothing


def test_a_forged_or_missing_signature_is_refused_with_401_and_nothing_is_stored(client, env, shop, shopify_channel):
    number = open_order(shop)
    post(client, shopify_channel.id, *shop.webhook(number, "orders/create"))
    paid_later(shop, number)
    headers, body = shop.webhook(number, "orders/updated")
    forged = body.replace(b'"financial_status": "paid"', b'"financial_status": "refunded"')
    assert forged != body
    unsigned = {k: v for k, v in headers.items() if k != "X-Shopify-Hmac-Sha256"}
    for answer in (post(client, shopify_channel.id, headers, forged), post(client, shopify_channel.id, unsigned, body),
                   post(client, shopify_channel.id, {**headers, "X-Shopify-Hmac-Sha256": "x" * 44}, body)):
        assert answer.status_code == 401
        assert answer.get_json()["error"]["code"] == "bad_signature"
        assert "WWW-Authenticate" not in answer.headers
    (order,) = orders_of(env, shopify_channel.id)
    assert order.status is S.PENDING
    assert len(deliveries_of(env, shopify_channel.id)) == 1 and quarantined_of(env, shopify_channel.id) == []


def test_another_sellers_channel_refuses_a_delivery_signed_with_this_sellers_secret(
        client, env, make_channel, bob, shop, shopify_channel):
    bobs = make_channel(bob.seller_id, "shopify", "https://bob.myshopify.com",
                        {"access_token": "bob-token", "api_secret": "bobs-own-app-secret"})
    answer = post(client, bobs.id, *shop.webhook(open_order(shop), "orders/create"))
    assert answer.status_code == 401 and answer.get_json()["error"]["code"] == "bad_signature"
    assert orders_of(env, bobs.id) == [] and deliveries_of(env, bobs.id) == []
    assert orders_of(env, shopify_channel.id) == []


def test_unknown_disabled_or_webhookless_channels_are_json_404s(client, env, make_channel, alice, shop,
                                                                 shopify_channel):
    headers, body = shop.webhook(open_order(shop), "orders/create")
    disabled = make_channel(alice.seller_id, "shopify", "https://x.myshopify.com",
                            {"access_token": "t", "api_secret": shop.api_secret}, name="closed shop", is_active=False)
    amazon = make_channel(alice.seller_id, "amazon", "https://sellingpartnerapi-eu.amazon.com", {}, name="amazon")
    for channel_id in (shopify_channel.id + 1000, disabled.id, amazon.id):
        answer = post(client, channel_id, headers, body)
        assert answer.status_code == 404, channel_id
        assert answer.get_json()["error"]["code"] == "unknown_channel"
    for path in ("/webhooks/99999999999", "/webhooks/0", "/webhooks/abc", "/webhooks/", "/webhooks"):
        answer = client.post(path, data=body, headers=headers)
        assert answer.status_code == 404 and answer.get_json()["error"]["code"] == "not_found", path
    wrong_method = client.get(f"/webhooks/{shopify_channel.id}")
    assert wrong_method.status_code == 405 and wrong_method.headers["Allow"] == "POST"
    assert wrong_method.get_json()["error"]["code"] == "method_not_allowed"
    assert deliveries_of(env, disabled.id) == []


def test_a_body_beyond_the_size_limit_is_a_json_413(app, client, shop, shopify_channel):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    headers, _ = shop.webhook(open_order(shop), "orders/create")
    answer = post(client, shopify_channel.id, headers, b"{" + b" " * 2000 + b"}")
    assert answer.status_code == 413 and answer.get_json()["error"]["code"] == "payload_too_large"


def test_a_topic_that_carries_no_order_is_stored_as_ignored(client, env, shop, shopify_channel):
    answer = post(client, shopify_channel.id, *shop.webhook(open_order(shop), "orders/delete"))
    assert answer.get_json() == {"status": "ignored"}
    assert [(d.topic, d.outcome) for d in deliveries_of(env, shopify_channel.id)] == [("orders/delete", "ignored")]
    assert orders_of(env, shopify_channel.id) == []


def test_a_malformed_but_signed_order_is_quarantined_with_its_raw_body_and_answered_200(
        client, env, shop, shopify_channel):
    number = open_order(shop)
    shop.orders[number].lines[0].quantity = 0  # the sandbox signs what it has: a line of quantity 0
    headers, body = shop.webhook(number, "orders/create")
    answer = post(client, shopify_channel.id, headers, body)
    assert answer.status_code == 200 and answer.get_json() == {"status": "quarantined"}
    assert orders_of(env, shopify_channel.id) == []
    (held,) = quarantined_of(env, shopify_channel.id)
    assert (held.source, held.external_id) == ("webhook", str(number))
    assert "got 0" in held.reason and held.payload["id"] == json.loads(body)["id"]
    (delivery,) = deliveries_of(env, shopify_channel.id)
    assert (delivery.outcome, delivery.body) == ("quarantined", body.decode())
    assert post(client, shopify_channel.id, headers, body).get_json() == {"status": "duplicate"}


def test_a_signed_body_that_is_not_json_is_stored_quarantined_and_answered_200(client, env, shop, shopify_channel):
    for n, body in enumerate([b"this is not JSON", b"\xff\xfe\x00 binary", b'{"id": 1, "x": "\\u0000"}']):
        answer = post(client, shopify_channel.id, shopify_signed(shop, body, "orders/create", f"odd-{n}"), body)
        assert answer.status_code == 200 and answer.get_json() == {"status": "quarantined"}, body
    deliveries = deliveries_of(env, shopify_channel.id)
    assert [webhooks.stored_body(d.body) for d in deliveries] == [
        b"this is not JSON", b"\xff\xfe\x00 binary", b'{"id": 1, "x": "\\u0000"}']
    assert {d.outcome for d in deliveries} == {"quarantined"}
    assert len(quarantined_of(env, shopify_channel.id)) == 3


def test_a_crash_while_applying_stores_nothing_so_the_redelivery_is_applied(
        client, env, shop, shopify_channel, monkeypatch):
    headers, body = shop.webhook(open_order(shop), "orders/create")
    real_apply = webhooks.apply_order

    def crash(*args: Any, **kwargs: Any):
        raise RuntimeError("the worker died mid-apply")

    monkeypatch.setattr(webhooks, "apply_order", crash)
    answer = post(client, shopify_channel.id, headers, body)
    assert answer.status_code == 500 and answer.get_json()["error"]["code"] == "internal"
    assert "Traceback" not in answer.get_data(as_text=True)
    assert deliveries_of(env, shopify_channel.id) == []

    monkeypatch.setattr(webhooks, "apply_order", real_apply)
    assert post(client, shopify_channel.id, headers, body).get_json() == {"status": "applied"}
    assert len(orders_of(env, shopify_channel.id)) == 1


def test_an_order_whose_webhook_never_arrived_shows_up_after_a_pull(
        client, env, shopify_app, shop, shopify_clock, make_channel, alice):
    env.sleep, env.clock = shopify_clock.sleep, shopify_clock  # the sandbox's cost bucket runs on this clock
    with running(shopify_app) as base:
        channel = make_channel(alice.seller_id, "shopify", base,
                               {"access_token": shop.access_token, "api_secret": shop.api_secret})
        delivered = open_order(shop)
        assert post(client, channel.id, *shop.webhook(delivered, "orders/create")).get_json() == {"status": "applied"}
        assert [o.external_id for o in orders_of(env, channel.id)] == [str(delivered)]

        result = run_job(env, channel.id, "pull", trigger="cli", since=EPOCH)
    assert result.outcome == "ok", result.message
    assert sorted(o.external_id for o in orders_of(env, channel.id)) == sorted(str(n) for n in shop.orders)
    assert result.counts["created"] == len(shop.orders) - 1 and result.counts["unchanged"] >= 1


# --- WooCommerce -----------------------------------------------------------------------------------------------

@pytest.fixture
def woo_orders() -> dict[int, dict[str, Any]]:
    return woocommerce_sandbox(seed=3, orders=6).extensions["sandbox"].orders


@pytest.fixture
def woo_channel(make_channel, alice) -> Channel:
    return make_channel(alice.seller_id, "woocommerce", "https://shop.example.com",
                        {"consumer_key": CONSUMER_KEY, "consumer_secret": CONSUMER_SECRET,
                         "webhook_secret": WEBHOOK_SECRET}, name="woo")


def woo(order: dict[str, Any], topic: str, delivery: str) -> tuple[dict[str, str], bytes]:
    headers, body = signed_webhook(order, WEBHOOK_SECRET, topic)
    return {**headers, "X-WC-Webhook-Delivery-ID": delivery}, body  # the helper's id is a hash: made certain


def test_woocommerce_deliveries_are_applied_once_and_an_update_moves_the_order_on(client, env, woo_orders,
                                                                                  woo_channel):
    raw = copy.deepcopy(next(o for o in woo_orders.values() if o["status"] in ("pending", "on-hold")))
    assert post(client, woo_channel.id, *woo(raw, "order.created", "101")).get_json() == {"status": "applied"}
    assert post(client, woo_channel.id, *woo(raw, "order.created", "101")).get_json() == {"status": "duplicate"}
    raw["status"] = "cancelled"
    later = datetime.fromisoformat(raw["date_modified_gmt"]) + timedelta(minutes=3)
    raw["date_modified_gmt"] = raw["date_modified"] = later.isoformat(timespec="seconds")
    assert post(client, woo_channel.id, *woo(raw, "order.updated", "102")).get_json() == {"status": "applied"}
    (order,) = orders_of(env, woo_channel.id)
    assert (order.external_id, order.status) == (str(raw["id"]), S.CANCELLED)
    forged = woo(raw, "order.updated", "103")
    assert post(client, woo_channel.id, forged[0], forged[1].replace(b"cancelled", b"completed")).status_code == 401


def test_the_woocommerce_verification_ping_is_answered_200_without_being_stored(client, env, woo_channel):
    answer = client.post(f"/webhooks/{woo_channel.id}", data=b"webhook_id=17",
                         headers={"Content-Type": "application/x-www-form-urlencoded", "X-WC-Webhook-ID": "17"})
    assert answer.status_code == 200 and answer.get_json() == {"status": "ignored"}
    assert deliveries_of(env, woo_channel.id) == []
    # Signed deliveries of other topics (a product changed) are stored and ignored.
    headers, body = woo({"id": 10, "name": "Tea"}, "product.updated", "201")
    assert post(client, woo_channel.id, headers, body).get_json() == {"status": "ignored"}
    assert [d.outcome for d in deliveries_of(env, woo_channel.id)] == ["ignored"]


# --- Shopee ----------------------------------------------------------------------------------------------------

@pytest.fixture
def shopee() -> Iterator[tuple[Flask, str]]:
    app = shopee_sandbox(seed=9, orders=12, faults=Faults(seed=9), rate=1000, burst=1000)
    with running(app) as base:
        yield app, base


def shopee_push(order_sn: str, code: int = 3, status: str = "READY_TO_SHIP",
                at: int = 1_700_000_000) -> tuple[dict[str, str], bytes]:
    """A push as Shopee sends it: Authorization = hex(HMAC-SHA256(partner key, callback URL | body))."""
    body = json.dumps({"data": {"ordersn": order_sn, "status": status, "update_time": at}, "shop_id": int(SHOP_ID),
                       "code": code, "timestamp": at}).encode()
    signature = hmac.new(PARTNER_KEY.encode(), PUSH_URL.encode() + b"|" + body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "Authorization": signature}, body


@pytest.fixture
def shopee_channel(shopee, make_channel: Callable[..., Channel], alice) -> Channel:
    app, base = shopee
    return make_channel(alice.seller_id, "shopee", base, app.extensions["sandbox"].credentials, name="shopee",
                        currency="SGD", options={"push_url": PUSH_URL})


def test_a_shopee_push_is_stored_at_once_and_its_order_fetched_and_applied_outside_the_request(
        client, env, shopee, shopee_channel):
    app, _ = shopee
    order_sn = next(iter(app.extensions["sandbox"].orders))
    headers, body = shopee_push(order_sn)
    assert post(client, shopee_channel.id, headers, body).get_json() == {"status": "received"}
    assert post(client, shopee_channel.id, headers, body).get_json() == {"status": "duplicate"}
    assert orders_of(env, shopee_channel.id) == []  # nothing fetched in the request
    assert post(client, shopee_channel.id, *shopee_push(order_sn, code=1, at=1_700_000_100)).get_json() == {
        "status": "received"}
    assert post(client, shopee_channel.id, {"Authorization": "0" * 64}, body).status_code == 401

    assert webhooks.process_pending(env, shopee_channel.id) == {"applied": 1, "ignored": 1}
    assert [o.external_id for o in orders_of(env, shopee_channel.id)] == [order_sn]
    assert [(d.topic, d.outcome) for d in deliveries_of(env, shopee_channel.id)] == [
        ("code 3", "applied"), ("code 1", "ignored")]
    assert webhooks.process_pending(env, shopee_channel.id) == {}  # settled: nothing applied twice


def test_a_shopee_push_for_an_order_the_shop_does_not_have_is_quarantined_when_processed(
        client, env, shopee_channel):
    assert post(client, shopee_channel.id, *shopee_push("NO-SUCH-ORDER")).get_json() == {"status": "received"}
    assert webhooks.process_pending(env, shopee_channel.id) == {"quarantined": 1}
    (held,) = quarantined_of(env, shopee_channel.id)
    assert (held.source, held.external_id) == ("webhook", "NO-SUCH-ORDER")
    assert held.payload["data"]["ordersn"] == "NO-SUCH-ORDER"
