"""Publishing events to a message broker through kombu (RabbitMQ in production and in the tests).

One durable topic exchange (OUTBOX_EXCHANGE, "order_hub.events"), routing key = the event kind ("order.paid"),
so a consumer binds its own queue to "order.*" or "#". Messages are persistent (delivery_mode 2) and sent with
publisher confirms: `publish` returns only once the broker has taken responsibility for the message, and raises
otherwise, so the dispatcher marks a delivery done only after the broker has it. The AMQP message_id and the
`event_id` header carry the event's UUID: delivery is at least once, consumers deduplicate by it.

kombu: https://docs.celeryq.dev/projects/kombu/en/stable/reference/kombu.html#kombu.Producer.publish
py-amqp publisher confirms (`confirm_publish` transport option):
https://docs.celeryq.dev/projects/kombu/en/stable/reference/kombu.transport.pyamqp.html
"""

from __future__ import annotations

import logging

import kombu

from hub.errors import TransientError
from hub.outbox.message import Message

log = logging.getLogger(__name__)

PERSISTENT = 2


class BrokerPublisher:
    """A lazily opened connection, re-opened after any failure (the broker restarted, the socket died)."""

    def __init__(self, url: str, exchange: str, *, timeout: float = 10.0) -> None:
        self.url = url
        self.exchange = kombu.Exchange(exchange, type="topic", durable=True)
        self.timeout = timeout
        self._connection: kombu.Connection | None = None
        self._producer: kombu.Producer | None = None

    def _ready(self) -> kombu.Producer:
        if self._producer is None:
            connection = kombu.Connection(self.url, connect_timeout=self.timeout,
                                          transport_options={"confirm_publish": True})
            connection.ensure_connection(max_retries=1)
            producer = kombu.Producer(connection.channel(), exchange=self.exchange)
            self.exchange(producer.channel).declare()
            self._connection, self._producer = connection, producer
        return self._producer

    def publish(self, message: Message) -> None:
        try:
            self._ready().publish(
                message.body(), routing_key=message.kind, exchange=self.exchange, content_type="application/json",
                content_encoding="utf-8", delivery_mode=PERSISTENT, message_id=message.event_id,
                type=message.kind, timestamp=int(message.created_at.timestamp()), retry=False,
                confirm_timeout=self.timeout,
                headers={"event_id": message.event_id, "kind": message.kind, "seller_id": message.seller_id})
        except Exception as exc:  # kombu/amqp/socket errors have no common base worth naming: all mean "not taken"
            self.close()
            raise TransientError(f"broker: publishing {message.kind} {message.event_id} failed: "
                                 f"{type(exc).__name__}: {exc}") from None

    def close(self) -> None:
        connection, self._connection, self._producer = self._connection, None, None
        if connection is not None:
            try:
                connection.release()
            except Exception:  # closing a dead connection may fail too; it is being dropped either way
                log.debug("closing the broker connection failed", exc_info=True)
