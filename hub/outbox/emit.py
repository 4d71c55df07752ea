"""Recording an event: an INSERT in the caller's transaction, so the event exists if and only if the change
does. Nothing here talks to the outside world; the dispatcher does, later."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from hub.outbox.models import EventKind, OutboxEvent


def emit(session: Session, seller_id: int, kind: EventKind, subject: str, payload: dict[str, Any]) -> OutboxEvent:
    event = OutboxEvent(seller_id=seller_id, kind=str(kind), subject=subject, payload=payload)
    session.add(event)
    return event
