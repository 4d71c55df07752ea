"""Every state change writes its event in the same transaction: once, and never for a change that did not stick."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from hub.accounts.actor import Actor
from hub.catalog import stock
from hub.catalog.schemas import StockAdjustment, StockReceipt
from hub.channels.models import Channel
from hub.errors import IllegalTransition
from hub.orders import services as orders
from hub.orders.schemas import ShipLine, ShipmentIn, StatusMove
from hub.orders.status import OrderStatus
from hub.outbox import EventKind, emit
from hub.reports import LOW_STOCK_THRESHOLD
from hub.sync.apply import Applied, apply_order
from tests.integration.helpers import place_order, stocked_product
from tests.outbox.conftest import events
from tests.sync.fakes import channel_order

S = OrderStatus


class Boom(Exception):
    pass


def _session(sessions: sessionmaker[Session], actor: Actor) -> Session:
    session = sessions()
    session.info["seller_id"] = actor.seller_id
    return session


def _order(sessions: sessionmaker[Session], actor: Actor, lines: list[tuple[str, int]]) -> int:
    with sessions.begin() as session:
        return place_order(session, actor, lines).id


def _move(sessions: sessionmaker[Session], actor: Actor, order_id: int, status: S, **kw: object) -> None:
    with sessions.begin() as session:
        orders.move(session, actor, order_id, StatusMove(status=status, **kw))


@pytest.fixture
def channel(sessions, box, alice) -> Channel:
    with sessions.begin() as session:
        row = Channel(seller_id=alice.seller_id, kind="woocommerce", name="woo shop", currency="EUR",
                      base_url="http://unused", credentials_encrypted=box.seal({}), options={}, schedule={})
        session.add(row)
        session.flush()
        session.expunge(row)
    return row


def kinds(sessions: sessionmaker[Session]) -> list[str]:
    return [e.kind for e in events(sessions)]


def test_creating_an_order_writes_one_order_imported_event_with_a_small_json_safe_payload(sessions, alice):
    stocked_product(sessions, alice.actor)
    order_id = _order(sessions, alice.actor, [("TEA-1", 2)])

    [event] = events(sessions, EventKind.ORDER_IMPORTED)
    assert event.subject == f"order:{order_id}" and event.seller_id == alice.seller_id
    assert event.payload["order_id"] == order_id and event.payload["seller_id"] == alice.seller_id
    assert event.payload["grand_total"] == {"amount": "20.00", "currency": "EUR"}
    assert event.payload["status"] == "pending" and event.payload["previous_status"] is None
    assert datetime.fromisoformat(event.payload["occurred_at"]).utcoffset().total_seconds() == 0
    assert len(event.event_id) == 36


def test_an_order_creation_that_rolls_back_leaves_no_event(sessions, alice):
    stocked_product(sessions, alice.actor)
    with pytest.raises(Boom), sessions.begin() as session:
        place_order(session, alice.actor, [("TEA-1", 1)])
        raise Boom

    assert events(sessions) == []


def test_each_status_move_writes_exactly_one_event_of_its_kind(sessions, alice):
    stocked_product(sessions, alice.actor)
    order_id = _order(sessions, alice.actor, [("TEA-1", 2)])

    _move(sessions, alice.actor, order_id, S.PAID)
    with sessions.begin() as session:
        line_id = orders.get_order(session, alice.actor, order_id).lines[0].id
        orders.ship(session, alice.actor, order_id, ShipmentIn(lines=[ShipLine(line_id=line_id, quantity=1)]))
    _move(sessions, alice.actor, order_id, S.FULFILLED)  # move delegates to ship: still one event
    _move(sessions, alice.actor, order_id, S.DELIVERED)
    _move(sessions, alice.actor, order_id, S.PARTIALLY_REFUNDED, amount="5.00")
    _move(sessions, alice.actor, order_id, S.REFUNDED)

    assert kinds(sessions) == ["order.imported", "order.paid", "order.shipped", "order.shipped", "order.delivered",
                               "order.refunded", "order.refunded"]
    shipped = events(sessions, EventKind.ORDER_SHIPPED)
    assert [e.payload["status"] for e in shipped] == ["partially_fulfilled", "fulfilled"]
    refunds = events(sessions, EventKind.ORDER_REFUNDED)
    assert [e.payload["refunded_total"]["amount"] for e in refunds] == ["5.00", "20.00"]
    assert refunds[0].payload["previous_status"] == "delivered"


def test_a_move_rolled_back_with_its_transaction_or_refused_leaves_no_event(sessions, alice):
    stocked_product(sessions, alice.actor)
    order_id = _order(sessions, alice.actor, [("TEA-1", 1)])

    with pytest.raises(Boom), sessions.begin() as session:
        orders.move(session, alice.actor, order_id, StatusMove(status=S.PAID))
        raise Boom
    with pytest.raises(IllegalTransition):
        _move(sessions, alice.actor, order_id, S.DELIVERED)

    assert kinds(sessions) == ["order.imported"]


def test_cancelling_announces_nothing_since_no_event_kind_names_it(sessions, alice):
    stocked_product(sessions, alice.actor)
    order_id = _order(sessions, alice.actor, [("TEA-1", 1)])

    _move(sessions, alice.actor, order_id, S.CANCELLED)

    assert kinds(sessions) == ["order.imported"]


def test_emit_joins_the_callers_transaction(sessions, alice):
    with pytest.raises(Boom), sessions.begin() as session:
        emit(session, alice.seller_id, EventKind.PAYMENT_FAILED, "payment:1", {"reason": "card declined"})
        raise Boom
    with sessions.begin() as session:
        emit(session, alice.seller_id, EventKind.PAYMENT_FAILED, "payment:2", {"reason": "card declined"})

    assert [e.subject for e in events(sessions)] == ["payment:2"]


# --- marketplace orders through the sync apply path -------------------------------------------------------

def test_a_marketplace_order_pulled_twice_is_announced_as_imported_once(sessions, channel):
    order = channel_order("W1", updated=1, status=S.PAID)

    with sessions.begin() as session:
        assert apply_order(session, channel, order)[0] is Applied.CREATED
    with sessions.begin() as session:
        assert apply_order(session, channel, order)[0] is Applied.UNCHANGED

    [event] = events(sessions)
    assert event.kind == "order.imported" and event.payload["status"] == "paid"
    assert event.payload["external_id"] == "W1" and event.payload["channel_id"] == channel.id


def test_status_changes_from_the_marketplace_are_announced_once_each(sessions, channel):
    versions = [channel_order("W1", updated=1, status=S.PENDING), channel_order("W1", updated=2, status=S.PAID),
                channel_order("W1", updated=3, status=S.FULFILLED), channel_order("W1", updated=3, status=S.FULFILLED),
                channel_order("W1", updated=4, status=S.DELIVERED), channel_order("W1", updated=5, status=S.REFUNDED)]
    for version in versions:
        with sessions.begin() as session:
            apply_order(session, channel, version)
    with sessions.begin() as session:  # a replay of an old version changes nothing, announces nothing
        apply_order(session, channel, versions[1])

    assert kinds(sessions) == ["order.imported", "order.paid", "order.shipped", "order.delivered",
                                   "order.refunded"]


def test_a_marketplace_update_rolled_back_leaves_no_event(sessions, channel):
    with sessions.begin() as session:
        apply_order(session, channel, channel_order("W1", updated=1, status=S.PENDING))

    with pytest.raises(Boom), sessions.begin() as session:
        apply_order(session, channel, channel_order("W1", updated=2, status=S.PAID))
        raise Boom

    assert kinds(sessions) == ["order.imported"]


# --- stock.low --------------------------------------------------------------------------------------------

def _adjust(sessions: sessionmaker[Session], actor: Actor, delta: int) -> None:
    with sessions.begin() as session:
        stock.adjust(session, actor, StockAdjustment(sku="TEA-1", warehouse="BER", delta=delta, reason="count"))


def test_stock_low_is_announced_when_available_stock_crosses_the_overviews_threshold_and_only_then(sessions, alice):
    assert LOW_STOCK_THRESHOLD == 5  # the overview's low-stock list: available <= 5
    product_id = stocked_product(sessions, alice.actor, warehouses={"BER": 10})

    _adjust(sessions, alice.actor, -4)  # 6: above the line
    assert events(sessions, EventKind.STOCK_LOW) == []
    _adjust(sessions, alice.actor, -1)  # 5: crosses
    _adjust(sessions, alice.actor, -2)  # 3: still low, nothing new
    _order(sessions, alice.actor, [("TEA-1", 1)])  # 2 available: still low
    with sessions.begin() as session:  # 12: back above, re-armed
        stock.receive(session, alice.actor, StockReceipt(sku="TEA-1", warehouse="BER", quantity=10))
    _order(sessions, alice.actor, [("TEA-1", 7)])  # a reservation crosses again: 5

    low = events(sessions, EventKind.STOCK_LOW)
    assert [e.payload["available"] for e in low] == [5, 5]
    assert low[0].subject == f"product:{product_id}"
    assert low[0].payload | {"occurred_at": ""} == {
        "seller_id": alice.seller_id, "product_id": product_id, "sku": "TEA-1", "warehouse_id": low[0].payload[
            "warehouse_id"], "warehouse": "BER", "available": 5, "threshold": 5, "occurred_at": ""}


def test_a_stock_change_that_rolls_back_announces_no_low_stock(sessions, alice):
    stocked_product(sessions, alice.actor, warehouses={"BER": 10})

    with pytest.raises(Boom), sessions.begin() as session:
        stock.adjust(session, alice.actor, StockAdjustment(sku="TEA-1", warehouse="BER", delta=-8, reason="count"))
        raise Boom

    assert events(sessions, EventKind.STOCK_LOW) == []


def test_stock_low_is_the_sellers_own(sessions, alice, bob):
    stocked_product(sessions, alice.actor, warehouses={"BER": 6})
    stocked_product(sessions, bob.actor, warehouses={"BER": 6})

    _adjust(sessions, bob.actor, -3)

    [event] = events(sessions, EventKind.STOCK_LOW)
    assert event.seller_id == bob.seller_id and event.payload["seller_id"] == bob.seller_id
