"""The dispatcher's claims: leases, two dispatchers at once, a dispatcher that dies, the CLI."""

from __future__ import annotations

import threading
from datetime import timedelta

import sqlalchemy as sa

from hub.outbox import EventKind, emit
from hub.outbox.dispatch import OutboxSettings, backoff_seconds
from hub.outbox.models import DeliveryStatus, OutboxDelivery, OutboxEvent
from tests.outbox.conftest import deliveries, events


class RecordingBroker:
    def __init__(self) -> None:
        self.published: list[str] = []
        self.lock = threading.Lock()

    def publish(self, message) -> None:
        with self.lock:
            self.published.append(message.event_id)

    def close(self) -> None:
        pass


def _emit(sessions, seller_id: int, n: int) -> list[str]:
    with sessions.begin() as session:
        made = [emit(session, seller_id, EventKind.ORDER_PAID, f"order:{i}", {"order_id": i}) for i in range(n)]
        session.flush()
        return [e.event_id for e in made]


def test_backoff_doubles_per_attempt_up_to_the_cap_with_jitter_between_half_and_all():
    assert [backoff_seconds(n, 10, 60, lambda: 1.0) for n in (1, 2, 3, 4, 5)] == [10, 20, 40, 60, 60]
    assert backoff_seconds(3, 10, 60, lambda: 0.0) == 20


def test_two_dispatchers_at_once_deliver_every_event_once(sessions, alice, make_dispatcher):
    ids = _emit(sessions, alice.seller_id, 60)
    broker = RecordingBroker()
    settings = OutboxSettings(batch_size=7)
    first, second = make_dispatcher(broker=broker, settings=settings), make_dispatcher(broker=broker,
                                                                                        settings=settings)

    threads = [threading.Thread(target=d.drain) for d in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(broker.published) == sorted(ids)
    assert {d.status for d in deliveries(sessions)} == {DeliveryStatus.DELIVERED}
    assert all(e.published_at is not None for e in events(sessions))


def test_a_dispatcher_that_dies_after_publishing_leaves_its_deliveries_to_be_made_again(
        sessions, alice, make_dispatcher, clock):
    [event_id] = _emit(sessions, alice.seller_id, 1)
    broker = RecordingBroker()
    dying, survivor = make_dispatcher(broker=broker), make_dispatcher(broker=broker)

    dying.fan_out()
    [job] = dying.claim()
    dying.broker.publish(job.message)  # published, then killed before recording it

    assert survivor.claim() == []  # leased to the dead one
    clock.advance(OutboxSettings().lease.total_seconds() + 1)
    assert survivor.drain().delivered == 1
    assert broker.published == [event_id, event_id]  # at least once: twice here, deduplicated by event id

    # The dead one's late report changes nothing: the lease is no longer its.
    late = dying.record([dying._deliver(job)])
    assert deliveries(sessions)[0].attempts == 1 and late.delivered == 0


def test_an_event_with_no_destination_is_published_at_once(sessions, alice, make_dispatcher):
    _emit(sessions, alice.seller_id, 2)

    result = make_dispatcher().drain()

    assert result.fanned_out == 2 and deliveries(sessions) == []
    assert all(e.published_at is not None and e.fanned_out_at is not None for e in events(sessions))


def test_a_broker_delivery_with_no_broker_configured_fails_and_is_retried_not_lost(
        sessions, alice, make_dispatcher, clock):
    _emit(sessions, alice.seller_id, 1)
    make_dispatcher(broker=RecordingBroker()).fan_out()  # fanned out while a broker was configured

    result = make_dispatcher().drain()

    [delivery] = deliveries(sessions)
    assert result.failed == 1 and delivery.status == DeliveryStatus.PENDING
    assert "no broker" in delivery.last_error
    assert delivery.next_attempt_at == clock.now + timedelta(seconds=10)


def test_the_cli_lists_dead_deliveries_and_requeues_one(app, sessions, alice, make_dispatcher, clock):
    _emit(sessions, alice.seller_id, 1)
    make_dispatcher(broker=RecordingBroker()).fan_out()
    dispatcher = make_dispatcher()
    for _ in range(3):
        dispatcher.drain()
        clock.advance(3600)
    [delivery] = deliveries(sessions)
    assert delivery.status == DeliveryStatus.DEAD
    runner = app.test_cli_runner()

    listed = runner.invoke(args=["outbox", "dead"])
    requeued = runner.invoke(args=["outbox", "requeue", str(delivery.id)])
    again = runner.invoke(args=["outbox", "requeue", str(delivery.id)])

    assert listed.exit_code == 0 and f"{delivery.id}\torder.paid\torder:0\tbroker\t3 attempts" in listed.output
    assert requeued.exit_code == 0 and deliveries(sessions)[0].status == DeliveryStatus.PENDING
    assert again.exit_code == 1 and "no dead delivery" in again.output


def test_the_cli_dispatches_once_without_a_broker(app, sessions, alice):
    _emit(sessions, alice.seller_id, 2)

    result = app.test_cli_runner().invoke(args=["outbox", "dispatch", "--once"])

    assert result.exit_code == 0, result.output
    assert "2 events fanned out, 0 delivered" in result.output


def test_prune_removes_old_published_events_with_their_deliveries_and_keeps_what_is_still_owed(
        app, sessions, alice, make_dispatcher, clock):
    old, owed = _emit(sessions, alice.seller_id, 2)
    broker = RecordingBroker()
    dispatcher = make_dispatcher(broker=broker, settings=OutboxSettings(batch_size=1))
    dispatcher.run_once()  # the first event only: delivered and published
    dispatcher.fan_out()  # the second: owed to the broker
    with sessions.begin() as session:
        session.execute(sa.update(OutboxDelivery).where(OutboxDelivery.event_id == old)
                        .values(delivered_at=clock.now - timedelta(days=40)))
        session.execute(sa.update(OutboxEvent).where(OutboxEvent.event_id == old)
                        .values(published_at=clock.now - timedelta(days=40), created_at=clock.now - timedelta(days=40)))
        session.execute(sa.update(OutboxEvent).where(OutboxEvent.event_id == owed)
                        .values(created_at=clock.now - timedelta(days=40)))

    result = app.test_cli_runner().invoke(args=["outbox", "prune", "--days", "30"])

    assert result.exit_code == 0 and "removed 1 outbox events" in result.output
    assert [e.event_id for e in events(sessions)] == [owed]
    assert [d.event_id for d in deliveries(sessions)] == [owed]
