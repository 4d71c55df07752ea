"""The outbox through a real RabbitMQ (127.0.0.1:5672, or HUB_TEST_BROKER_URL): never skipped, an unreachable
broker is a failure that says so. Each test publishes to its own exchange, so runs never see each other's
messages."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import kombu
import pytest
import sqlalchemy as sa

from hub.outbox import EventKind, emit
from hub.outbox.broker import BrokerPublisher
from hub.outbox.dispatch import OutboxSettings
from hub.outbox.models import DeliveryStatus, OutboxDelivery
from tests.outbox.conftest import deliveries, events

BROKER_URL = os.environ.get("HUB_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
VENV_BIN = Path(sys.executable).parent
DEADLINE_SECONDS = 120


class Tap:
    """A test's own topic exchange and an exclusive queue bound to every routing key, read with basic.get:
    synchronous, so an empty queue is an answer, not a timeout."""

    def __init__(self, connection: kombu.Connection) -> None:
        self.exchange_name = f"order_hub.events.test-{uuid.uuid4().hex[:12]}"
        self.channel = connection.channel()
        self.exchange = kombu.Exchange(self.exchange_name, type="topic", durable=True)(self.channel)
        self.exchange.declare()  # the same arguments the publisher declares: a mismatch would be refused
        self.queue = kombu.Queue(f"tap-{uuid.uuid4().hex[:12]}", exchange=self.exchange, routing_key="#",
                                 exclusive=True, auto_delete=True)(self.channel)
        self.queue.declare()
        self.messages: list[kombu.Message] = []

    def take(self) -> int:
        """Move whatever is in the queue now into `messages`; returns how many."""
        taken = 0
        while (message := self.queue.get(no_ack=True)) is not None:
            self.messages.append(message)
            taken += 1
        return taken

    def event_ids(self) -> list[str]:
        return [m.properties["message_id"] for m in self.messages]


@pytest.fixture
def tap() -> Iterator[Tap]:
    connection = kombu.Connection(BROKER_URL, connect_timeout=5)
    try:
        connection.ensure_connection(max_retries=1)
    except Exception as exc:
        pytest.fail(f"RabbitMQ is unreachable at {BROKER_URL} ({type(exc).__name__}: {exc}); the outbox broker "
                    f"tests need it (set HUB_TEST_BROKER_URL to use another)", pytrace=False)
    tap = Tap(connection)
    yield tap
    tap.exchange.delete()
    connection.release()


def _emit(sessions, seller_id: int, n: int) -> list[str]:
    kinds = [EventKind.ORDER_PAID, EventKind.ORDER_SHIPPED, EventKind.STOCK_LOW]
    with sessions.begin() as session:
        made = [emit(session, seller_id, kinds[i % 3], f"order:{i}", {"n": i, "seller_id": seller_id})
                for i in range(n)]
        session.flush()
        return [e.event_id for e in made]


def test_events_reach_rabbitmq_persistent_routed_by_kind_and_carrying_their_event_id(
        sessions, alice, tap, make_dispatcher):
    ids = _emit(sessions, alice.seller_id, 3)
    publisher = BrokerPublisher(BROKER_URL, tap.exchange_name)
    dispatcher = make_dispatcher(broker=publisher, settings=OutboxSettings(broker_url=BROKER_URL,
                                                                           exchange=tap.exchange_name))
    try:
        result = dispatcher.drain()
    finally:
        dispatcher.close()

    assert result.delivered == 3 and tap.take() == 3
    first = tap.messages[0]
    assert tap.event_ids() == ids
    assert [m.delivery_info["routing_key"] for m in tap.messages] == ["order.paid", "order.shipped", "stock.low"]
    assert first.properties["delivery_mode"] == 2 and first.content_type == "application/json"
    assert first.headers["event_id"] == ids[0] and first.headers["kind"] == "order.paid"
    assert json.loads(first.body) | {"created_at": ""} == {
        "event_id": ids[0], "kind": "order.paid", "subject": "order:0", "seller_id": alice.seller_id,
        "created_at": "", "payload": {"n": 0, "seller_id": alice.seller_id}}
    assert all(e.published_at is not None for e in events(sessions))


def test_an_unreachable_broker_fails_the_attempt_and_the_event_waits(sessions, alice, make_dispatcher):
    _emit(sessions, alice.seller_id, 1)
    dispatcher = make_dispatcher(broker=BrokerPublisher("amqp://guest:guest@127.0.0.1:9//", "x", timeout=2))

    result = dispatcher.drain()

    [delivery] = deliveries(sessions)
    assert result.failed == 1 and delivery.status == DeliveryStatus.PENDING
    assert delivery.last_error.startswith("broker: publishing order.paid")
    assert events(sessions)[0].published_at is None


# A dispatcher slowed to about 30 messages a second, so that a kill lands mid-batch: the batch's outcomes are
# recorded together after it, so everything it published before the kill is still pending in the database.
SLOW_DISPATCHER = """
import time
from hub import create_app
from hub.channels.secrets import CredentialBox
from hub.outbox.broker import BrokerPublisher
from hub.outbox.dispatch import Dispatcher

class Slow(BrokerPublisher):
    def publish(self, message):
        super().publish(message)
        time.sleep(0.03)

app = create_app()
c = app.config
Dispatcher.build(app.extensions["hub"].sessions, c, CredentialBox.from_settings(c),
                 broker=Slow(c["BROKER_URL"], c["OUTBOX_EXCHANGE"])).drain()
"""


def _wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {DEADLINE_SECONDS} s waiting for {what}")
        time.sleep(0.02)


def test_a_dispatcher_killed_mid_batch_and_restarted_delivers_every_event_at_least_once(
        app, database_url, sessions, alice, tap):
    total, batch = 150, 100
    ids = _emit(sessions, alice.seller_id, total)
    env = {**os.environ, "HUB_DATABASE_URL": database_url, "HUB_SECRET_KEY": app.config["SECRET_KEY"],
           "HUB_TESTING": "true", "HUB_BROKER_URL": BROKER_URL, "HUB_OUTBOX_EXCHANGE": tap.exchange_name,
           "HUB_OUTBOX_BATCH_SIZE": str(batch), "HUB_OUTBOX_LEASE_SECONDS": "1", "HUB_OUTBOX_DISPATCH_SECONDS": "0.2"}

    first = subprocess.Popen([sys.executable, "-c", SLOW_DISPATCHER], env=env, stdout=subprocess.PIPE,  # noqa: S603
                             stderr=subprocess.STDOUT)
    try:
        _wait_for(lambda: (tap.take() >= 0 and len(tap.messages) >= 20) or first.poll() is not None,
                  "the first dispatcher to publish 20 messages")
    finally:
        first.send_signal(signal.SIGKILL)
        output = first.communicate(timeout=30)[0].decode(errors="replace")
    assert first.returncode == -signal.SIGKILL, f"the dispatcher ended before it was killed:\n{output}"
    tap.take()
    seen_before_restart = set(tap.event_ids())
    with sessions() as session:
        pending = set(session.scalars(sa.select(OutboxDelivery.event_id).where(
            OutboxDelivery.status == DeliveryStatus.PENDING)))
    published_not_recorded = seen_before_restart & pending
    assert pending and published_not_recorded, "the kill did not land between publishing and recording"

    restarted = subprocess.Popen([str(VENV_BIN / "hub"), "outbox", "dispatch"], env=env,  # noqa: S603
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        _wait_for(lambda: tap.take() >= 0 and set(tap.event_ids()) == set(ids) and all(
            d.status == DeliveryStatus.DELIVERED for d in deliveries(sessions)), "every event to arrive")
    finally:
        restarted.send_signal(signal.SIGTERM)
        output = restarted.communicate(timeout=30)[0].decode(errors="replace")
    assert restarted.returncode == 0, output
    tap.take()  # every publish was confirmed before it was recorded: nothing more is on its way

    received = tap.event_ids()
    deduplicated = list(dict.fromkeys(received))  # what a consumer keeping the ids it has seen processes
    duplicates = len(received) - len(deduplicated)
    print(f"\n{total} events; killed after {len(seen_before_restart)} arrived, {len(published_not_recorded)} of "
          f"them published but not yet recorded; {len(received)} messages in all, {duplicates} duplicates")
    assert sorted(deduplicated) == sorted(ids)
    assert duplicates >= len(published_not_recorded)
    assert all(e.published_at is not None for e in events(sessions))
