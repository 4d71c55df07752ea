"""POST /api/v1/events: batched, idempotent by event id, append-only, all or nothing per batch."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from hub.recommend.events import EventBatch, record
from hub.recommend.models import AppendOnly, BehaviourEvent
from tests.api.api_support import assert_api_error
from tests.recommend.conftest import count, rows


def event(event_id: str, product_id: int, kind: str = "view", **extra: object) -> dict[str, object]:
    return {"event_id": event_id, "kind": kind, "product_id": product_id, "visitor": "v-1",
            "occurred_at": "2026-11-20T10:00:00Z", **extra}


@pytest.fixture
def tea(alice, shop_for) -> int:
    return shop_for(alice).product("TEA-1", consumable=True)


def test_the_same_event_id_sent_twice_is_stored_once(alice, api_for, sessions, tea):
    first = api_for(alice).post("/events", {"events": [event("e-1", tea)]})
    again = api_for(alice).post("/events", {"events": [event("e-1", tea, kind="click")]})
    assert (first.status_code, first.json) == (200, {"accepted": 1, "duplicates": 0})
    assert (again.status_code, again.json) == (200, {"accepted": 0, "duplicates": 1})
    # The first version stands.
    assert rows(sessions, sa.select(BehaviourEvent.event_id, BehaviourEvent.kind)) == [("e-1", "view")]


def test_the_same_batch_sent_twice_counts_every_event_once(alice, api_for, sessions, tea):
    batch = {"events": [event(f"e-{i}", tea, kind=kind) for i, kind in enumerate(["view", "add_to_cart", "click"])]}
    assert api_for(alice).post("/events", batch).json == {"accepted": 3, "duplicates": 0}
    assert api_for(alice).post("/events", batch).json == {"accepted": 0, "duplicates": 3}
    assert count(sessions, BehaviourEvent) == 3


def test_an_event_id_repeated_inside_one_batch_is_one_event(alice, api_for, sessions, tea):
    response = api_for(alice).post("/events", {"events": [event("e-1", tea), event("e-1", tea)]})
    assert response.json == {"accepted": 1, "duplicates": 1}
    assert count(sessions, BehaviourEvent) == 1


def test_two_sellers_may_use_the_same_event_id(alice, bob, api_for, shop_for, sessions, tea):
    bobs_tea = shop_for(bob).product("TEA-1")
    assert api_for(alice).post("/events", {"events": [event("e-1", tea)]}).json["accepted"] == 1
    assert api_for(bob).post("/events", {"events": [event("e-1", bobs_tea)]}).json["accepted"] == 1
    assert count(sessions, BehaviourEvent, alice.seller_id) == count(sessions, BehaviourEvent, bob.seller_id) == 1


def test_concurrent_posts_of_the_same_batch_store_each_event_once(alice, sessions, tea):
    batch = EventBatch.model_validate({"events": [event(f"e-{i}", tea) for i in range(50)]})
    start, results, errors = threading.Barrier(4), [], []

    def post() -> None:
        try:
            start.wait()
            with sessions.begin() as session:
                results.append(record(session, alice.actor, batch).accepted)
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(results) == 50  # each event accepted by exactly one of the four posts
    assert count(sessions, BehaviourEvent) == 50


def test_events_are_append_only(alice, api_for, sessions, tea):
    api_for(alice).post("/events", {"events": [event("e-1", tea)]})
    with sessions() as session:
        stored = session.scalars(sa.select(BehaviourEvent)).one()
        stored.kind = "click"
        with pytest.raises(AppendOnly):
            session.flush()
        session.rollback()
        session.delete(session.scalars(sa.select(BehaviourEvent)).one())
        with pytest.raises(AppendOnly):
            session.flush()
    assert rows(sessions, sa.select(BehaviourEvent.kind)) == [("view",)]


def test_a_batch_with_one_bad_event_is_refused_whole_naming_it(alice, api_for, sessions, tea):
    response = api_for(alice).post("/events", {"events": [event("e-1", tea), event("e-2", 999_999),
                                                          event("e-3", tea, occurred_at="2126-01-01T00:00:00Z")]})
    error = assert_api_error(response, 422, "invalid")
    assert set(error["fields"]) == {"events[1].product_id", "events[2].occurred_at"}
    assert count(sessions, BehaviourEvent) == 0


def test_another_sellers_product_or_customer_is_unknown(alice, bob, api_for, shop_for, sessions, tea):
    bobs = shop_for(bob)
    bobs_tea, bobs_customer = bobs.product("TEA-B"), bobs.customer("pat@example.com")
    response = api_for(alice).post("/events", {"events": [event("e-1", bobs_tea),
                                                          event("e-2", tea, customer_id=bobs_customer)]})
    error = assert_api_error(response, 422)
    assert set(error["fields"]) == {"events[0].product_id", "events[1].customer_id"}
    assert count(sessions, BehaviourEvent) == 0


def test_a_click_carries_the_list_it_came_from_and_other_kinds_cannot(alice, api_for, sessions, tea):
    ok = api_for(alice).post("/events", {"events": [event("c-1", tea, kind="click", context="for_buyer")]})
    assert ok.json == {"accepted": 1, "duplicates": 0}
    assert rows(sessions, sa.select(BehaviourEvent.context)) == [("for_buyer",)]
    refused = api_for(alice).post("/events", {"events": [event("v-1", tea, context="for_buyer")]})
    assert_api_error(refused, 422, field="events[0]")


def test_a_batch_has_a_size_limit(alice, api_for, tea):
    response = api_for(alice).post("/events", {"events": [event(f"e-{i}", tea) for i in range(501)]})
    assert_api_error(response, 422, field="events")
