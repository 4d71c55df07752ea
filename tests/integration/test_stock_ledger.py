"""The stock ledger is the truth: levels always equal its sums, whatever happened."""

import pytest
import sqlalchemy as sa

from hub.catalog import stock
from hub.catalog.models import StockLevel, StockMovement
from hub.catalog.schemas import StockAdjustment
from hub.errors import InsufficientStock
from hub.orders import services as orders
from hub.orders.schemas import ShipmentIn, StatusMove
from tests.integration.helpers import place_order, stocked_product


def assert_levels_equal_ledger(session):
    sums = {(p, w): (h, r) for p, w, h, r in session.execute(
        sa.select(StockMovement.product_id, StockMovement.warehouse_id, sa.func.sum(StockMovement.on_hand_delta),
                  sa.func.sum(StockMovement.reserved_delta))
        .group_by(StockMovement.product_id, StockMovement.warehouse_id))}
    levels = {(lv.product_id, lv.warehouse_id): (lv.on_hand, lv.reserved)
              for lv in session.scalars(sa.select(StockLevel))}
    assert levels == sums
    assert all(on_hand >= reserved >= 0 for on_hand, reserved in levels.values())


def test_levels_equal_the_ledger_after_a_whole_order_life(sessions, alice):
    stocked_product(sessions, alice.actor, "TEA-1", {"BER": 3, "ROT": 5})
    stocked_product(sessions, alice.actor, "MUG-1", {"BER": 2, "ROT": 0})
    with sessions.begin() as session:
        shipped = place_order(session, alice.actor, [("TEA-1", 6), ("MUG-1", 1)])
        cancelled = place_order(session, alice.actor, [("TEA-1", 1)])
        refunded = place_order(session, alice.actor, [("MUG-1", 1)])
        stock.adjust(session, alice.actor, StockAdjustment(sku="TEA-1", warehouse="ROT", delta=4, reason="count"))
    with sessions.begin() as session:
        orders.move(session, alice.actor, shipped.id, StatusMove(status="paid"))
        line = shipped.lines[0]
        orders.ship(session, alice.actor, shipped.id, ShipmentIn(lines=[{"line_id": line.id, "quantity": 4}]))
        orders.ship(session, alice.actor, shipped.id, ShipmentIn())
        orders.move(session, alice.actor, cancelled.id, StatusMove(status="cancelled"))
        orders.move(session, alice.actor, refunded.id, StatusMove(status="paid"))
        orders.move(session, alice.actor, refunded.id, StatusMove(status="refunded"))
    with sessions() as session:
        assert_levels_equal_ledger(session)
        by_key = {(lv.product.sku, lv.warehouse.code): (lv.on_hand, lv.reserved)
                  for lv in session.scalars(sa.select(StockLevel))}
    # TEA: 3 BER + 5 ROT + 4 counted = 12, 6 shipped (BER first, by priority), 1 cancelled → 6 left, none held
    assert by_key[("TEA-1", "BER")] == (0, 0)
    assert by_key[("TEA-1", "ROT")] == (6, 0)
    # MUG: 2 in BER, 1 shipped, 1 reserved then refunded before shipping → released
    assert by_key[("MUG-1", "BER")] == (1, 0)


def test_an_order_spread_over_warehouses_reserves_by_priority(sessions, alice):
    stocked_product(sessions, alice.actor, "TEA-1", {"BER": 2, "ROT": 5})
    with sessions.begin() as session:
        place_order(session, alice.actor, [("TEA-1", 4)])
    with sessions() as session:
        held = {lv.warehouse.code: lv.reserved for lv in session.scalars(sa.select(StockLevel))}
        assert held == {"BER": 2, "ROT": 2}
        assert_levels_equal_ledger(session)


def test_an_adjustment_cannot_take_away_reserved_units(sessions, alice):
    stocked_product(sessions, alice.actor, "TEA-1", {"BER": 5})
    with sessions.begin() as session:
        place_order(session, alice.actor, [("TEA-1", 3)])
    with sessions() as session, pytest.raises(InsufficientStock, match="at most 2 can be removed"):
        stock.adjust(session, alice.actor, StockAdjustment(sku="TEA-1", warehouse="BER", delta=-3, reason="lost"))


def test_an_order_for_more_than_is_available_reserves_nothing(sessions, alice):
    stocked_product(sessions, alice.actor, "TEA-1", {"BER": 2, "ROT": 1})
    with sessions() as session, pytest.raises(InsufficientStock, match="3 available"):
        place_order(session, alice.actor, [("TEA-1", 4)])
    with sessions() as session:
        assert session.scalar(sa.select(sa.func.sum(StockLevel.reserved))) == 0
        assert_levels_equal_ledger(session)


def test_the_ledger_refuses_updates_and_deletes(sessions, alice):
    stocked_product(sessions, alice.actor, "TEA-1", {"BER": 2})
    with sessions() as session:
        row = session.scalars(sa.select(StockMovement)).first()
        row.reason = "rewritten"
        with pytest.raises(RuntimeError, match="append-only"):
            session.flush()


def test_a_receipt_beyond_the_largest_stock_count_is_refused_and_nothing_is_booked(sessions, alice):
    from hub.catalog.schemas import StockReceipt
    from hub.errors import ValidationError

    stocked_product(sessions, alice.actor, "TEA-1", {"BER": 0})
    most = StockReceipt.model_fields["quantity"].metadata[-1].le  # the largest single receipt
    with sessions.begin() as session:
        for _ in range(stock.MAX_UNITS // most):
            stock.receive(session, alice.actor, StockReceipt(sku="TEA-1", warehouse="BER", quantity=most))
    with sessions() as session, pytest.raises(ValidationError, match="more than 1,000,000,000 units"):
        stock.receive(session, alice.actor, StockReceipt(sku="TEA-1", warehouse="BER", quantity=1))
    with sessions() as session:
        assert session.scalar(sa.select(StockLevel.on_hand)) == stock.MAX_UNITS
        assert_levels_equal_ledger(session)


def test_two_warehouses_with_one_code_are_refused_by_the_constraint_and_the_session_goes_on(sessions, alice):
    from hub.catalog.models import Warehouse
    from hub.catalog.schemas import WarehouseIn
    from hub.errors import Conflict

    with sessions() as session:
        stock.create_warehouse(session, alice.actor, WarehouseIn(code="BER", name="Berlin", country="DE"))
        with pytest.raises(Conflict, match="warehouse BER already exists"):
            stock.create_warehouse(session, alice.actor, WarehouseIn(code="BER", name="Again", country="DE"))
        stock.create_warehouse(session, alice.actor, WarehouseIn(code="ROT", name="Rotterdam", country="NL"))
        session.commit()
    with sessions() as session:
        assert sorted(session.scalars(sa.select(Warehouse.code))) == ["BER", "ROT"]
