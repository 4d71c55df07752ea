"""The tracking vocabulary: each carrier's statuses mapped onto the hub's, and a final status that sticks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.logistics import tracking
from hub.logistics.port import TrackEvent

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def event(status: str, minutes: int) -> TrackEvent:
    return TrackEvent(status=status, carrier_status=status, occurred_at=T0 + timedelta(minutes=minutes))


def test_every_carrier_status_maps_into_the_hub_vocabulary():
    for table in tracking.TABLES.values():
        assert set(table.values()) <= set(tracking.STATUSES)
    assert [tracking.normalise("easypost", s) for s in ("unknown", "available_for_pickup", "return_to_sender",
                                                         "failure")] == [
        "pre_transit", "available_for_pickup", "returned", "exception"]
    assert [tracking.normalise("dhl", s) for s in ("SD", "pu", "WC", "HP", "NH", "OK", "RT")] == [
        "pre_transit", "in_transit", "out_for_delivery", "available_for_pickup", "exception", "delivered", "returned"]


def test_a_status_no_table_knows_counts_as_in_transit():
    assert tracking.normalise("easypost", "teleported") == tracking.normalise("dhl", "ZZ") == "in_transit"


def test_the_latest_event_sets_the_status_whatever_order_they_come_in():
    events = [event("out_for_delivery", 30), event("pre_transit", 0), event("in_transit", 10)]
    assert tracking.current_status(None, events) == "out_for_delivery"
    assert tracking.current_status("pre_transit", []) == "pre_transit"


def test_a_delivery_sticks_even_when_a_later_scan_says_in_transit():
    assert tracking.current_status(None, [event("delivered", 10), event("in_transit", 20)]) == "delivered"
    assert tracking.current_status("delivered", [event("in_transit", 30)]) == "delivered"
    assert tracking.current_status("exception", [event("returned", 5), event("in_transit", 9)]) == "returned"
