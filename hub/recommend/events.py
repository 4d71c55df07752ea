"""Recording behaviour events posted by the seller's own site: batched, idempotent by event id, append-only.

A batch is one transaction and is validated as a whole: if any event is invalid (an unknown kind, a product or
customer that is not the seller's, a naive or future time) the batch is refused with 422 naming every bad event
by index (`events[3].product_id`) and nothing is stored. The site then fixes and resends the batch; since events
are idempotent by `event_id`, resending a batch, or a part of one that did go through, never counts anything twice.
That is simpler for the sender than a partial success it has to pick apart, and a site posting its own catalogue's
ids has little reason to send invalid events at all.

The insert is one `INSERT ... ON CONFLICT (seller_id, event_id) DO NOTHING RETURNING id`: the database decides
what is new, so two concurrent posts of the same batch store each event once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from pydantic import AwareDatetime, Field, field_validator, model_validator
from sqlalchemy.orm import Session

from hub.accounts.actor import Actor
from hub.accounts.models import Role
from hub.accounts.schemas import Strict
from hub.catalog.models import Product
from hub.customers.models import Customer
from hub.db import MAX_ID, dialect_insert
from hub.orders.schemas import check_utc
from hub.recommend.models import BehaviourEvent, EventKind, RecommendationList
from hub.timeutil import utcnow
from hub.validation import refuse

MAX_BATCH = 500
# A site's clock may run a little fast; an event far in the future is a bug on the sending side.
FUTURE_SLACK = timedelta(hours=1)


class EventIn(Strict):
    event_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:\-]+$",
                          description="The site's own unique id for this event: sending it again is a no-op")
    kind: EventKind
    product_id: int = Field(ge=1, le=MAX_ID)
    customer_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="The buyer's customer profile")
    visitor: str = Field(default="", max_length=64, description="The site's anonymous visitor or session key")
    context: RecommendationList | None = Field(
        default=None, description="For a click on a recommendation: the list it was shown in")
    occurred_at: AwareDatetime

    _occurred_at = field_validator("occurred_at")(check_utc)

    @model_validator(mode="after")
    def _context_only_on_clicks(self) -> EventIn:
        if self.context is not None and self.kind is not EventKind.CLICK:
            raise ValueError("context is only for click events")
        return self


class EventBatch(Strict):
    events: list[EventIn] = Field(min_length=1, max_length=MAX_BATCH)


@dataclass(frozen=True)
class Recorded:
    accepted: int  # new events stored now
    duplicates: int  # events whose id was already stored (or repeated in the batch)


def record(session: Session, actor: Actor, batch: EventBatch, *, now: datetime | None = None) -> Recorded:
    actor.require(Role.STAFF, "record behaviour events")
    seller_id = actor.acting_seller("record behaviour events")
    now = now or utcnow()
    _check_references(session, seller_id, batch, now)
    rows, seen = [], set()
    for event in batch.events:
        if event.event_id in seen:
            continue
        seen.add(event.event_id)
        rows.append({"seller_id": seller_id, "event_id": event.event_id, "kind": str(event.kind),
                     "product_id": event.product_id, "customer_id": event.customer_id, "visitor": event.visitor,
                     "context": str(event.context) if event.context else "", "occurred_at": event.occurred_at,
                     "received_at": now})
    table = BehaviourEvent.__table__
    statement = (dialect_insert(session)(table).values(rows)
                 .on_conflict_do_nothing(index_elements=["seller_id", "event_id"]).returning(table.c.id))
    accepted = len(session.execute(statement).all())
    return Recorded(accepted=accepted, duplicates=len(batch.events) - accepted)


def _check_references(session: Session, seller_id: int, batch: EventBatch, now: datetime) -> None:
    """Every product and customer named must be the seller's: another seller's id is as unknown as a missing one."""
    products = {e.product_id for e in batch.events}
    customers = {e.customer_id for e in batch.events if e.customer_id is not None}
    known_products = set(session.scalars(sa.select(Product.id).where(
        Product.seller_id == seller_id, Product.id.in_(products), Product.deleted_at.is_(None))))
    known_customers = set(session.scalars(sa.select(Customer.id).where(
        Customer.seller_id == seller_id, Customer.id.in_(customers)))) if customers else set()
    errors: dict[str, str] = {}
    for i, event in enumerate(batch.events):
        if event.product_id not in known_products:
            errors[f"events[{i}].product_id"] = f"no product {event.product_id}"
        if event.customer_id is not None and event.customer_id not in known_customers:
            errors[f"events[{i}].customer_id"] = f"no customer {event.customer_id}"
        if event.occurred_at > now + FUTURE_SLACK:
            errors[f"events[{i}].occurred_at"] = "the event lies in the future"
    refuse(errors)
