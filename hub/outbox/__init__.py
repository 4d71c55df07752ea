"""The transactional outbox: events written in the same transaction as the change they announce."""

from hub.outbox.emit import emit
from hub.outbox.models import EventKind, OutboxEvent

__all__ = ["EventKind", "OutboxEvent", "emit"]
