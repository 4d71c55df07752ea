"""The transactional outbox: events written in the same transaction as the change they announce.

    emit()            hub.outbox.emit: an INSERT in the caller's transaction (payment.failed: hub.payments)
    payloads          the order and stock events, emitted from hub.orders.services._transition/create_order,
                      hub.sync.apply (import, marketplace status) and hub.catalog.stock.apply_change (stock.low)
    dispatch          fan out to destinations, claim with a lease, deliver at least once, retry, dead-letter
    broker, webhooks  the two kinds of destination: RabbitMQ through kombu, sellers' signed HTTPS endpoints
    endpoints         the seller's endpoints and dead letters (for the dashboard and API)
    jobs, cli         the worker's job and `hub outbox dispatch|dead|requeue|prune`

What a consumer gets, from the broker (exchange OUTBOX_EXCHANGE, routing key = kind, message_id = event id) or
a webhook (headers X-Hub-Event-Id, X-Hub-Event, X-Hub-Signature): a JSON body {event_id, kind, subject,
seller_id, created_at, payload}. Delivery is at least once and unordered across destinations: keep the event
ids already handled and skip a repeat.
"""

from hub.outbox.emit import emit
from hub.outbox.models import EventKind, OutboxEvent

__all__ = ["EventKind", "OutboxEvent", "emit"]
