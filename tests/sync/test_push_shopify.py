"""Inventory and price push through the Shopify connector to its sandbox, over real HTTP."""


from __future__ import annotations

import math
from decimal import Decimal

import sqlalchemy as sa

from hub.catalog import stock
from hub.catalog.schemas import StockAdjustment, StockReceipt
from hub.channels.models import Listing
from hub.channels.shopify import connector as shopify_connector
from hub.sync.jobs import run_job
from hub.sync.models import Job, Outcome
from tests.integration.helpers import place_order, stocked_product
from tests.sync.push_support import link, listings

LOCATION = 68_000_000_001  # the sandbox shop's first location, where the connector sets stock
SET = "inventorySetQuantities"


def level(app, sku: str) -> int:
    shop = app.extensions["sandbox"]
    return shop.levels[(shop.variants[sku].item_number, LOCATION)]


def catalogue(sessions, account, count: int) -> list[str]:
    skus = [f"SKU-{n:04d}" for n in range(1, count + 1)]
    for n, sku in enumerate(skus, start=1):
        stocked_product(sessions, account.actor, sku, {"BER": n})
    return skus


def test_first_push_all_then_nothing_then_only_what_changed(env, sessions, alice, shopify, shopify_channel,
                                                             monkeypatch):
    recorder, app, _ = shopify
    monkeypatch.setattr(shopify_connector, "STOCK_BATCH", 4)
    skus = catalogue(sessions, alice, 10)
    channel = shopify_channel(alice.seller_id)
    link(sessions, channel)

    first = run_job(env, channel.id, Job.PUSH_INVENTORY)
    assert first.outcome is Outcome.OK and first.counts["pushed"] == 10
    assert recorder.count(SET) == math.ceil(10 / 4)
    assert [level(app, sku) for sku in skus] == list(range(1, 11))

    recorder.bodies.clear()
    second = run_job(env, channel.id, Job.PUSH_INVENTORY)
    assert second.counts["pushed"] == 0
    assert recorder.bodies == []  # not a single call

    with sessions.begin() as session:
        session.info["seller_id"] = alice.seller_id
        stock.receive(session, alice.actor, StockReceipt(sku="SKU-0001", warehouse="BER", quantity=20))
        stock.adjust(session, alice.actor, StockAdjustment(sku="SKU-0002", warehouse="BER", delta=-1, reason="lost"))
        for sku in ("SKU-0005", "SKU-0006", "SKU-0007"):
            place_order(session, alice.actor, [(sku, 2)])  # sold on the direct channel: reserved
    third = run_job(env, channel.id, Job.PUSH_INVENTORY)
    assert third.counts["pushed"] == 5
    assert recorder.count(SET) == math.ceil(5 / 4)
    assert [level(app, s) for s in ("SKU-0001", "SKU-0002", "SKU-0005", "SKU-0006", "SKU-0007")] == [21, 1, 3, 4, 5]


def test_skus_the_shop_does_not_have_are_recorded(env, sessions, alice, shopify, shopify_channel):
    catalogue(sessions, alice, 2)
    stocked_product(sessions, alice.actor, "LOCAL-ONLY", {"BER": 5})
    channel = shopify_channel(alice.seller_id)
    link(sessions, channel)
    result = run_job(env, channel.id, Job.PUSH_INVENTORY)
    assert result.outcome is Outcome.PARTIAL
    assert (result.counts["pushed"], result.counts["push_failed"]) == (2, 1)
    rows = listings(sessions, channel)
    assert rows["LOCAL-ONLY"].push_error == "stock: no variant with this SKU in the shop"
    assert rows["LOCAL-ONLY"].last_pushed_quantity is None and rows["SKU-0001"].last_pushed_quantity == 1


def test_prices_reach_the_shop_once(env, sessions, alice, shopify, shopify_channel):
    recorder, app, _ = shopify
    catalogue(sessions, alice, 3)
    channel = shopify_channel(alice.seller_id)
    link(sessions, channel)
    with sessions.begin() as session:
        for row in session.scalars(sa.select(Listing)):
            row.price = Decimal("19.90")
    assert run_job(env, channel.id, Job.PUSH_PRICES).counts["pushed"] == 3
    assert app.extensions["sandbox"].variants["SKU-0002"].price == Decimal("19.90")
    recorder.bodies.clear()
    assert run_job(env, channel.id, Job.PUSH_PRICES).counts["pushed"] == 0
    assert recorder.bodies == []
