"""Seller webhooks over real HTTP: signed, retried with backoff, dead-lettered, requeued; no broker needed."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from hub.errors import NotFound, ValidationError
from hub.outbound.models import ExternalCall
from hub.outbox import EventKind, emit
from hub.outbox import endpoints as hooks
from hub.outbox.models import DeliveryStatus
from hub.outbox.signing import signature_header, verify
from tests.outbox.conftest import deliveries, events


def _endpoint(sessions, account, box, url: str, kinds: list[str] | None = None) -> tuple[int, str]:
    with sessions.begin() as session:
        endpoint, secret = hooks.create_endpoint(session, account.actor, box, url, kinds, allow_private=True)
        return endpoint.id, secret


def _emit(sessions, account, kind: EventKind = EventKind.ORDER_PAID, n: int = 1) -> list[str]:
    with sessions.begin() as session:
        made = [emit(session, account.seller_id, kind, f"order:{i}", {"order_id": i, "seller_id": account.seller_id})
                for i in range(n)]
        session.flush()
        return [e.event_id for e in made]


def test_without_a_broker_events_reach_the_sellers_endpoint_signed_and_nothing_fails(
        sessions, alice, box, receiver, make_dispatcher):
    _, receiver.secret = _endpoint(sessions, alice, box, receiver.url)
    ids = _emit(sessions, alice, n=3)

    result = make_dispatcher().drain()

    assert (result.delivered, result.failed, result.dead) == (3, 0, 0)
    assert [r.event_id for r in receiver.received] == ids
    assert all(r.signature_ok for r in receiver.received)
    assert receiver.received[0].body["kind"] == "order.paid" and receiver.received[0].body["payload"]["order_id"] == 0
    assert all(d.destination.startswith("webhook:") for d in deliveries(sessions))
    assert all(e.published_at is not None for e in events(sessions))
    with sessions() as session:  # every call is on the audit trail, as the seller's
        calls = session.scalars(sa.select(ExternalCall).where(ExternalCall.service == "webhook")).all()
        assert len(calls) == 3 and {c.seller_id for c in calls} == {alice.seller_id}


def test_a_signature_made_with_another_secret_or_body_does_not_verify():
    header = signature_header("whsec_right", 1_700_000_000, b'{"a":1}')

    assert verify("whsec_right", header, b'{"a":1}', now=1_700_000_010)
    assert not verify("whsec_wrong", header, b'{"a":1}', now=1_700_000_010)
    assert not verify("whsec_right", header, b'{"a":2}', now=1_700_000_010)
    assert not verify("whsec_right", header, b'{"a":1}', now=1_700_009_999)  # too old: a replay


def test_an_endpoint_gets_only_the_kinds_it_subscribed_to_and_only_its_sellers_events(
        sessions, alice, bob, box, receiver, make_dispatcher):
    _, receiver.secret = _endpoint(sessions, alice, box, receiver.url, ["stock.low"])
    _emit(sessions, alice, EventKind.ORDER_PAID)
    [low] = _emit(sessions, alice, EventKind.STOCK_LOW)
    _emit(sessions, bob, EventKind.STOCK_LOW)

    make_dispatcher().drain()

    assert [r.event_id for r in receiver.received] == [low]
    assert all(e.published_at is not None for e in events(sessions))  # no destination: nothing to wait for


def test_a_failing_endpoint_is_retried_with_backoff_then_dead_lettered_and_requeue_delivers_it(
        sessions, alice, box, receiver, make_dispatcher, clock):
    _, receiver.secret = _endpoint(sessions, alice, box, receiver.url)
    [event_id] = _emit(sessions, alice)
    receiver.status = 503
    dispatcher = make_dispatcher()  # 3 attempts, each retrying a 503 three times within itself

    first = dispatcher.drain()
    [delivery] = deliveries(sessions)
    assert first.failed == 1 and receiver.hits == 3
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
    assert "503" in delivery.last_error
    assert (delivery.next_attempt_at - clock.now).total_seconds() == 10  # base 10 s, jitter at its top

    assert not dispatcher.drain().worked  # not due yet
    clock.advance(10)
    assert dispatcher.drain().failed == 1
    assert (deliveries(sessions)[0].next_attempt_at - clock.now).total_seconds() == 20  # doubled
    clock.advance(20)
    assert dispatcher.drain().dead == 1
    [delivery] = deliveries(sessions)
    assert delivery.status == DeliveryStatus.DEAD and delivery.attempts == 3 and receiver.hits == 9
    assert events(sessions)[0].published_at is not None  # settled, if not happily

    with sessions() as session:
        [dead] = hooks.dead_letters(session, alice.actor)
        assert dead.event_id == event_id and dead.kind == "order.paid" and "503" in dead.last_error

    receiver.status = 200
    with sessions.begin() as session:
        session.info["seller_id"] = alice.seller_id
        hooks.requeue(session, alice.actor, delivery.id)
    assert events(sessions)[0].published_at is None
    assert dispatcher.drain().delivered == 1
    assert [r.event_id for r in receiver.received] == [event_id]
    assert deliveries(sessions)[0].status == DeliveryStatus.DELIVERED
    assert events(sessions)[0].published_at is not None


def test_a_4xx_answer_fails_the_attempt_without_retrying_within_it(
        sessions, alice, box, receiver, make_dispatcher):
    _endpoint(sessions, alice, box, receiver.url)
    _emit(sessions, alice)
    receiver.status = 410

    result = make_dispatcher().drain()

    [delivery] = deliveries(sessions)
    assert result.failed == 1 and receiver.hits == 1
    assert delivery.attempts == 1 and "410" in delivery.last_error


def test_a_429_then_success_is_retried_within_the_attempt(sessions, alice, box, receiver, make_dispatcher):
    _, receiver.secret = _endpoint(sessions, alice, box, receiver.url)
    _emit(sessions, alice)
    receiver.script = [429, 408]

    result = make_dispatcher().drain()

    assert result.delivered == 1 and receiver.hits == 3
    assert receiver.received[0].signature_ok


def test_one_sellers_dead_endpoint_holds_back_neither_another_endpoint_nor_the_broker(
        sessions, alice, box, receiver, make_dispatcher):
    _, receiver.secret = _endpoint(sessions, alice, box, receiver.url)
    _endpoint(sessions, alice, box, "http://127.0.0.1:9/nobody-listens")
    published: list[str] = []

    class Broker:
        def publish(self, message) -> None:
            published.append(message.event_id)

        def close(self) -> None:
            pass

    [event_id] = _emit(sessions, alice)
    result = make_dispatcher(broker=Broker()).drain()

    assert result.delivered == 2 and result.failed == 1
    assert published == [event_id] and [r.event_id for r in receiver.received] == [event_id]
    assert events(sessions)[0].published_at is None  # one destination still owes it


def test_a_disabled_endpoint_dead_letters_what_it_still_had_pending(sessions, alice, box, receiver, make_dispatcher):
    endpoint_id, _ = _endpoint(sessions, alice, box, receiver.url)
    _emit(sessions, alice)
    dispatcher = make_dispatcher()
    dispatcher.fan_out()
    with sessions.begin() as session:
        hooks.disable_endpoint(session, alice.actor, endpoint_id)

    assert dispatcher.drain().dead == 1
    assert receiver.hits == 0
    _emit(sessions, alice)
    dispatcher.drain()
    assert len(deliveries(sessions)) == 1  # no new deliveries to a disabled endpoint


def test_rotating_the_secret_signs_later_deliveries_with_the_new_one(sessions, alice, box, receiver, make_dispatcher):
    endpoint_id, old = _endpoint(sessions, alice, box, receiver.url)
    with sessions.begin() as session:
        new = hooks.rotate_secret(session, alice.actor, box, endpoint_id)
        [listed] = hooks.list_endpoints(session, alice.actor)
        assert new not in listed.secret_sealed and old != new
    receiver.secret = new
    _emit(sessions, alice)

    make_dispatcher().drain()

    assert receiver.received[0].signature_ok


def test_endpoints_and_dead_letters_are_the_sellers_own(sessions, alice, bob, box, make_dispatcher):
    endpoint_id, _ = _endpoint(sessions, alice, box, "http://127.0.0.1:9/down")
    with sessions() as session:
        assert hooks.list_endpoints(session, bob.actor) == []
        with pytest.raises(NotFound):
            hooks.disable_endpoint(session, bob.actor, endpoint_id)
        with pytest.raises(ValidationError):
            hooks.create_endpoint(session, bob.actor, box, "ftp://example.com/x")
        with pytest.raises(ValidationError, match="unknown event kinds"):
            hooks.create_endpoint(session, bob.actor, box, "https://example.com/x", ["order.exploded"],
                                  allow_private=True)
        for inside in ("http://127.0.0.1:8080/hook", "http://10.1.2.3/hook", "http://169.254.169.254/latest",
                       "http://[::1]/hook"):
            with pytest.raises(ValidationError, match="public internet"):
                hooks.create_endpoint(session, bob.actor, box, inside)


def test_after_a_failure_the_same_endpoints_other_deliveries_wait_without_spending_attempts(
        sessions, alice, box, receiver, make_dispatcher, clock):
    _, receiver.secret = _endpoint(sessions, alice, box, receiver.url)
    ids = _emit(sessions, alice, n=4)
    receiver.status = 410
    dispatcher = make_dispatcher()

    result = dispatcher.drain()

    assert (result.failed, result.postponed) == (1, 3) and receiver.hits == 1
    assert [d.attempts for d in deliveries(sessions)] == [1, 0, 0, 0]
    assert {d.next_attempt_at for d in deliveries(sessions)} == {clock.now + timedelta(seconds=10)}
    receiver.status = 200
    clock.advance(10)
    assert dispatcher.drain().delivered == 4
    assert [r.event_id for r in receiver.received] == ids


def test_the_workers_job_delivers_with_the_worker_env_and_the_apps_settings(app, sessions, alice, box, receiver):
    from hub.outbox.jobs import dispatch_outbox_job
    from hub.sync import worker
    from hub.sync.env import SyncEnv

    hub = app.extensions["hub"]
    env = SyncEnv.build(hub.engine, hub.sessions, app.config)
    env.extra["outbox_settings"] = app.config
    _, receiver.secret = _endpoint(sessions, alice, box, receiver.url)
    [event_id] = _emit(sessions, alice)

    worker._runtime = worker._Runtime(env, worker.WorkerSettings.from_settings(app.config))
    try:
        dispatch_outbox_job()
    finally:
        worker._runtime = None

    assert [(r.event_id, r.signature_ok) for r in receiver.received] == [(event_id, True)]
    assert env.extra["outbox_dispatcher"].broker is None  # BROKER_URL is empty: webhooks only
