"""The order page's Events section: the outbox events about the order (subject "order:<id>") and where each was
delivered. Read-only: requeueing a dead delivery is in the webhook settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.accounts.actor import Actor
from hub.outbox.models import OutboxDelivery, OutboxEvent

LIMIT = 100  # an order gathers a handful; a runaway loop should not make the page unreadable


@dataclass
class EventRow:
    kind: str
    created_at: datetime
    published_at: datetime | None
    deliveries: list[OutboxDelivery] = field(default_factory=list)


def events_of(session: Session, actor: Actor, order_id: int) -> list[EventRow]:
    events = session.scalars(sa.select(OutboxEvent).where(
        OutboxEvent.subject == f"order:{order_id}", actor.sees(OutboxEvent.seller_id))
        .order_by(OutboxEvent.id).limit(LIMIT)).all()
    rows = {e.event_id: EventRow(e.kind, e.created_at, e.published_at) for e in events}
    if rows:
        for delivery in session.scalars(sa.select(OutboxDelivery).where(
                OutboxDelivery.event_id.in_(list(rows)), actor.sees(OutboxDelivery.seller_id))
                .order_by(OutboxDelivery.id)):
            rows[delivery.event_id].deliveries.append(delivery)
    return list(rows.values())
