"""Quarantine: replay after a fix, discard, and what a later pull of the same payload does to each."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from hub.errors import NotFound, ValidationError
from hub.jsonexact import parse_json
from hub.orders.models import Order
from hub.sandbox.woocommerce import create_app
from hub.sync import quarantine
from hub.sync.models import QuarantinedOrder, QuarantineStatus
from hub.sync.quarantine_cli import quarantine_group

Q = QuarantineStatus


@pytest.fixture
def woo_raw() -> dict:
    """A genuine WooCommerce order as its REST API answers it."""
    state = create_app(seed=4, orders=5).extensions["sandbox"]
    order = next(o for o in state.orders.values() if o["status"] == "processing")
    return parse_json(json.dumps(order))  # as the hub's HTTP client reads it: amounts as Decimal


def held(env, channel, payload, reason="refused by an older mapping") -> int:
    with env.sessions.begin() as session:
        quarantine.hold(session, channel, reason=reason, payload=payload, external_id=str(payload.get("id", "")))
    with env.sessions() as session:
        return session.scalars(sa.select(QuarantinedOrder.id).where(
            QuarantinedOrder.payload_sha256 == quarantine.digest(payload))).one()


def test_a_replayed_payload_that_maps_now_is_imported_through_the_pull_path(env, make_channel, alice, woo_raw):
    channel = make_channel(alice.seller_id, "woocommerce", "http://unused")
    item_id = held(env, channel, woo_raw)

    with env.sessions.begin() as session:
        result = quarantine.replay(session, alice.actor, env.registry, item_id)

    assert result.ok, result.message
    with env.sessions() as session:
        item = session.get(QuarantinedOrder, item_id)
        order = session.get(Order, result.order_id)
    assert item.status is Q.REPLAYED and item.order_id == order.id and item.resolved_by
    assert order.external_id == str(woo_raw["id"]) and order.channel_id == channel.id


def test_a_replay_that_still_fails_keeps_the_item_open_with_the_new_reason(env, make_channel, alice, woo_raw):
    channel = make_channel(alice.seller_id, "woocommerce", "http://unused")
    del woo_raw["currency"]
    item_id = held(env, channel, woo_raw)

    with env.sessions.begin() as session:
        result = quarantine.replay(session, alice.actor, env.registry, item_id)

    assert not result.ok and "currency" in result.message
    with env.sessions() as session:
        item = session.get(QuarantinedOrder, item_id)
        assert item.status is Q.OPEN and item.reason.startswith("replay failed")
        assert session.scalar(sa.select(sa.func.count()).select_from(Order)) == 0


def test_a_discarded_payload_pulled_again_stays_discarded(env, make_channel, alice, woo_raw):
    channel = make_channel(alice.seller_id, "woocommerce", "http://unused")
    item_id = held(env, channel, woo_raw)
    with env.sessions.begin() as session:
        quarantine.discard(session, alice.actor, item_id)

    held(env, channel, woo_raw)

    with env.sessions() as session:
        item = session.get(QuarantinedOrder, item_id)
    assert (item.status, item.seen) == (Q.DISCARDED, 2)
    with env.sessions.begin() as session, pytest.raises(ValidationError):
        quarantine.replay(session, alice.actor, env.registry, item_id)


def test_another_sellers_quarantine_is_not_found(env, make_channel, alice, bob, woo_raw):
    channel = make_channel(alice.seller_id, "woocommerce", "http://unused")
    item_id = held(env, channel, woo_raw)
    with env.sessions() as session:
        session.info["seller_id"] = bob.seller_id
        with pytest.raises(NotFound):
            quarantine.get(session, bob.actor, item_id)
        assert quarantine.list_open(session, bob.actor) == []


def test_the_cli_lists_shows_replays_and_discards(app, env, make_channel, alice, woo_raw):
    channel = make_channel(alice.seller_id, "woocommerce", "http://unused")
    good = held(env, channel, woo_raw)
    bad_payload = {**woo_raw, "id": 999_001}
    del bad_payload["currency"]
    bad = held(env, channel, bad_payload)
    runner = app.test_cli_runner()

    listed = runner.invoke(quarantine_group, ["list"])
    shown = runner.invoke(quarantine_group, ["show", str(bad)])
    replayed = runner.invoke(quarantine_group, ["replay", "--all"])
    discarded = runner.invoke(quarantine_group, ["discard", str(bad)])
    missing = runner.invoke(quarantine_group, ["show", "424242"])

    assert f"{good:>6}" in listed.output and "999001" in listed.output
    assert '"id": 999001' in shown.output and "refused by an older mapping" in shown.output
    assert replayed.exit_code == 1 and "1 of 2 could not be imported" in replayed.output
    assert "imported: order" in replayed.output
    assert discarded.exit_code == 0
    assert missing.exit_code == 1 and "no quarantined order 424242" in missing.output
