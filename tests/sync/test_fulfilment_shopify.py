"""Fulfilment push-back through the Shopify connector to its sandbox, over real HTTP."""


from __future__ import annotations

import sqlalchemy as sa

from hub.orders import services as orders
from hub.orders.models import Fulfillment
from hub.orders.schemas import ShipmentIn
from hub.sync.jobs import run_job
from hub.sync.models import Job, Outcome
from tests.sync.push_support import marketplace_order


def open_order(shop):
    return next(o for o in sorted(shop.orders.values(), key=lambda o: o.number)
                if not o.cancelled_at and o.fulfillment_status == "UNFULFILLED" and not o.malformed)


def test_a_shipment_reaches_the_shop_once(env, sessions, alice, shopify, shopify_channel):
    _, app, _ = shopify
    shop = app.extensions["sandbox"]
    theirs = open_order(shop)
    channel = shopify_channel(alice.seller_id)
    order_id = marketplace_order(sessions, alice.actor, channel, str(theirs.number),
                                 [(ln.sku, ln.quantity, str(ln.number)) for ln in theirs.lines], {})
    with sessions.begin() as session:
        session.info["seller_id"] = alice.seller_id
        orders.ship(session, alice.actor, order_id, ShipmentIn(carrier="DHL", tracking_number="JJD000123"))

    first = run_job(env, channel.id, Job.PUSH_FULFILMENTS)
    assert first.outcome is Outcome.OK and first.counts["pushed"] == 1
    assert theirs.fulfillment_status == "FULFILLED"
    assert len(theirs.fulfillments) == 1
    assert theirs.fulfillments[0]["trackingInfo"][0]["number"] == "JJD000123"

    assert run_job(env, channel.id, Job.PUSH_FULFILMENTS).counts["pushed"] == 0
    assert len(theirs.fulfillments) == 1

    # As if the run had crashed after Shopify accepted and before the row was settled: pending, attempted once.
    with sessions.begin() as session:
        row = session.scalars(sa.select(Fulfillment)).one()
        row.channel_status, row.channel_pushed_at = "pending", None
    retried = run_job(env, channel.id, Job.PUSH_FULFILMENTS)
    assert retried.outcome is Outcome.OK and retried.counts["pushed"] == 1
    assert len(theirs.fulfillments) == 1  # Shopify said there is nothing left to fulfil: taken as done
    with sessions() as session:
        assert session.scalars(sa.select(Fulfillment)).one().channel_status == "pushed"
