"""Fulfilment push-back against a hand-written marketplace (FakeMarket), through run_job."""


from __future__ import annotations

import sqlalchemy as sa

from hub.errors import PermanentError, TransientError
from hub.orders import services as orders
from hub.orders.models import Fulfillment, OrderEvent
from hub.orders.schemas import ShipmentIn, StatusMove
from hub.sync import fulfilment
from hub.sync.jobs import run_job
from hub.sync.models import Job, Outcome
from tests.integration.helpers import place_order, stocked_product
from tests.sync.push_support import marketplace_order


def shipped_order(sessions, alice, channel, external_id="M-1", lines=None, **shipment):
    product_id = stocked_product(sessions, alice.actor, f"TEA-{external_id}", {"BER": 10})
    lines = lines or [(f"TEA-{external_id}", 2, "L1")]
    order_id = marketplace_order(sessions, alice.actor, channel, external_id, lines, {lines[0][0]: product_id})
    with sessions.begin() as session:
        session.info["seller_id"] = alice.seller_id
        orders.ship(session, alice.actor, order_id, ShipmentIn(**shipment))
    return order_id


def fulfilment_row(sessions, order_id):
    with sessions() as session:
        return session.scalars(sa.select(Fulfillment).where(Fulfillment.order_id == order_id)).one()


def channel_events(sessions, order_id):
    with sessions() as session:
        return [e.message for e in session.scalars(sa.select(OrderEvent).where(
            OrderEvent.order_id == order_id, OrderEvent.kind == "channel").order_by(OrderEvent.id))]


def test_a_shipment_is_pushed_once(env, sessions, alice, fake_channel, market):
    channel = fake_channel(alice.seller_id)
    order_id = shipped_order(sessions, alice, channel, carrier="DHL", tracking_number="JJD0001")
    assert fulfilment_row(sessions, order_id).channel_status == "pending"

    first = run_job(env, channel.id, Job.PUSH_FULFILMENTS)
    assert first.outcome is Outcome.OK and first.counts["pushed"] == 1
    [shipment] = market.shipments
    assert (shipment.external_order_id, shipment.carrier, shipment.tracking_number, shipment.lines) == (
        "M-1", "DHL", "JJD0001", ())  # the whole order
    row = fulfilment_row(sessions, order_id)
    assert (row.channel_status, row.channel_attempts, row.channel_error) == ("pushed", 1, "")
    assert row.channel_pushed_at is not None and shipment.shipped_at == row.created_at
    assert channel_events(sessions, order_id) == [f"shipment {row.id} to fake shop reported (DHL JJD0001)"]

    second = run_job(env, channel.id, Job.PUSH_FULFILMENTS)
    assert second.counts["pushed"] == 0 and len(market.shipments) == 1


def test_a_partial_shipment_names_its_lines(env, sessions, alice, fake_channel, market):
    channel = fake_channel(alice.seller_id)
    product_id = stocked_product(sessions, alice.actor, "TEA-1", {"BER": 10})
    order_id = marketplace_order(sessions, alice.actor, channel, "M-7", [("TEA-1", 3, "L-a"), ("TEA-1", 1, "L-b")],
                                 {"TEA-1": product_id})
    with sessions.begin() as session:
        order = orders.get_order(session, alice.actor, order_id)
        first_line = order.lines[0].id
        orders.ship(session, alice.actor, order_id, ShipmentIn.model_validate(
            {"lines": [{"line_id": first_line, "quantity": 2}], "carrier": "UPS", "tracking_number": "1Z"}))
    run_job(env, channel.id, Job.PUSH_FULFILMENTS)
    assert market.shipments[0].lines == (("L-a", 2),)


def test_a_direct_order_needs_no_push(env, sessions, alice):
    stocked_product(sessions, alice.actor, "TEA-1")
    with sessions.begin() as session:
        session.info["seller_id"] = alice.seller_id
        order = place_order(session, alice.actor, [("TEA-1", 1)])
        order_id = order.id
        orders.move(session, alice.actor, order_id, StatusMove(status="paid"))
        orders.ship(session, alice.actor, order_id, ShipmentIn())
    assert fulfilment_row(sessions, order_id).channel_status == "not_needed"


def test_accepted_but_unconfirmed_is_not_sent_twice(env, sessions, alice, fake_channel, market):
    """The marketplace takes the shipment, then the answer is lost (timeout): the retry finds it fulfilled there."""
    channel = fake_channel(alice.seller_id)
    order_id = shipped_order(sessions, alice, channel)
    market.land_then_timeout = True
    first = run_job(env, channel.id, Job.PUSH_FULFILMENTS)
    assert first.outcome is Outcome.OK and first.counts["pushed"] == 0
    row = fulfilment_row(sessions, order_id)
    assert (row.channel_status, row.channel_attempts) == ("pending", 1)
    assert "timed out" in row.channel_error

    second = run_job(env, channel.id, Job.PUSH_FULFILMENTS)
    assert second.counts["pushed"] == 1
    assert len(market.shipments) == 1
    row = fulfilment_row(sessions, order_id)
    assert (row.channel_status, row.channel_attempts) == ("pushed", 2)
    assert "already had it" in channel_events(sessions, order_id)[0]


def test_a_permanent_refusal_fails_for_a_human_to_see(env, sessions, alice, fake_channel, market):
    channel = fake_channel(alice.seller_id)
    order_id = shipped_order(sessions, alice, channel)
    market.fulfil_errors = [PermanentError("fake: order M-1 is cancelled")]
    result = run_job(env, channel.id, Job.PUSH_FULFILMENTS)
    assert result.outcome is Outcome.PARTIAL and result.counts["push_failed"] == 1
    row = fulfilment_row(sessions, order_id)
    assert (row.channel_status, row.channel_error) == ("failed", "fake: order M-1 is cancelled")
    assert channel_events(sessions, order_id) == [f"shipment {row.id} to fake shop refused: fake: order M-1 is "
                                                  "cancelled"]
    assert run_job(env, channel.id, Job.PUSH_FULFILMENTS).counts["push_failed"] == 0  # not tried again


def test_already_fulfilled_on_a_first_attempt_is_a_failure_not_a_success(env, sessions, alice, fake_channel, market):
    channel = fake_channel(alice.seller_id)
    order_id = shipped_order(sessions, alice, channel)
    market.fulfil_errors = [PermanentError("fake: order M-1 is already fulfilled")]  # by someone else
    run_job(env, channel.id, Job.PUSH_FULFILMENTS)
    assert fulfilment_row(sessions, order_id).channel_status == "failed"


def test_transient_errors_retry_next_run_and_a_streak_fails_the_run(env, sessions, alice, fake_channel, market):
    channel = fake_channel(alice.seller_id)
    ids = [shipped_order(sessions, alice, channel, f"M-{n}") for n in range(1, 5)]
    market.fulfil_errors = [TransientError("fake: 503")] * 3
    result = run_job(env, channel.id, Job.PUSH_FULFILMENTS)
    assert result.outcome is Outcome.FAILED  # three in a row: the marketplace is down
    assert [fulfilment_row(sessions, i).channel_attempts for i in ids] == [1, 1, 1, 0]
    again = run_job(env, channel.id, Job.PUSH_FULFILMENTS)
    assert again.outcome is Outcome.OK and again.counts["pushed"] == 4


def test_after_max_attempts_it_gives_up(env, sessions, alice, fake_channel, market, monkeypatch):
    monkeypatch.setattr(fulfilment, "MAX_ATTEMPTS", 2)
    channel = fake_channel(alice.seller_id)
    order_id = shipped_order(sessions, alice, channel)
    market.fulfil_errors = [TransientError("fake: 503"), TransientError("fake: 503")]
    run_job(env, channel.id, Job.PUSH_FULFILMENTS)
    assert fulfilment_row(sessions, order_id).channel_status == "pending"
    result = run_job(env, channel.id, Job.PUSH_FULFILMENTS)
    row = fulfilment_row(sessions, order_id)
    assert (row.channel_status, row.channel_attempts) == ("failed", 2)
    assert result.counts["push_failed"] == 1


def test_a_partial_shipment_without_line_ids_cannot_be_reported(env, sessions, alice, fake_channel, market):
    channel = fake_channel(alice.seller_id)
    product_id = stocked_product(sessions, alice.actor, "TEA-1", {"BER": 10})
    order_id = marketplace_order(sessions, alice.actor, channel, "M-9", [("TEA-1", 3, "")], {"TEA-1": product_id})
    with sessions.begin() as session:
        line_id = orders.get_order(session, alice.actor, order_id).lines[0].id
        orders.ship(session, alice.actor, order_id, ShipmentIn.model_validate(
            {"lines": [{"line_id": line_id, "quantity": 1}]}))
    result = run_job(env, channel.id, Job.PUSH_FULFILMENTS)
    assert result.counts["push_failed"] == 1 and market.shipments == []
    assert "no marketplace line id" in fulfilment_row(sessions, order_id).channel_error
