"""Orders that could not be imported: kept with the reason, the raw payload and the page they came from,
so that nothing is lost while the rest of the sync goes on; replayed (after a fix or a mapping) or
discarded by a person, from the CLI or the dashboard."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.accounts.actor import Actor
from hub.accounts.models import Role
from hub.channels.models import Channel
from hub.channels.registry import Registry
from hub.channels.values import MappingError
from hub.errors import ValidationError
from hub.jsonexact import dumps_exact
from hub.sync.models import QuarantinedOrder, QuarantineStatus
from hub.tenancy import owned
from hub.timeutil import utcnow

Q = QuarantineStatus


def digest(payload: dict) -> str:
    return hashlib.sha256(dumps_exact(payload).encode()).hexdigest()


def hold(session: Session, channel: Channel, *, reason: str, payload: dict, external_id: str = "",
         run_id: int | None = None, source: str = "pull", page_cursor: str | None = None) -> None:
    """Quarantine one payload. The same payload again (an overlapping pull) is counted on its row; a
    discarded one stays discarded, a replayed one that fails again is open again."""
    from hub.db import dialect_insert

    now = utcnow()
    insert = dialect_insert(session)(QuarantinedOrder).values(
        seller_id=channel.seller_id, channel_id=channel.id, run_id=run_id, source=source,
        external_id=str(external_id)[:128], reason=reason[:4000], payload=payload, payload_sha256=digest(payload),
        page_cursor=page_cursor, status=Q.OPEN, seen=1, created_at=now, last_seen_at=now, resolved_by="")
    table = QuarantinedOrder.__table__
    session.execute(insert.on_conflict_do_update(
        index_elements=["channel_id", "payload_sha256"],
        set_={"seen": table.c.seen + 1, "last_seen_at": now, "reason": insert.excluded.reason,
              "run_id": insert.excluded.run_id,
              "status": sa.case((table.c.status == Q.DISCARDED.value, table.c.status), else_=Q.OPEN.value)}))


def list_open(session: Session, actor: Actor, *, channel_id: int | None = None, after_id: int = 0,
              limit: int = 100) -> list[QuarantinedOrder]:
    query = sa.select(QuarantinedOrder).where(actor.sees(QuarantinedOrder.seller_id),
                                              QuarantinedOrder.status == Q.OPEN, QuarantinedOrder.id > after_id)
    if channel_id is not None:
        query = query.where(QuarantinedOrder.channel_id == channel_id)
    return list(session.scalars(query.order_by(QuarantinedOrder.id).limit(limit)))


def get(session: Session, actor: Actor, item_id: int) -> QuarantinedOrder:
    return owned(session, actor, QuarantinedOrder, item_id, "quarantined order")


@dataclass(frozen=True)
class ReplayResult:
    ok: bool
    message: str
    order_id: int | None = None


def replay(session: Session, actor: Actor, registry: Registry, item_id: int) -> ReplayResult:
    """Map the stored payload again (the connector or the mapping may have been fixed since) and apply it
    through the same path as a pull. Failing again keeps it open with the new reason."""
    from hub.sync.apply import apply_order

    actor.require(Role.STAFF, "replay quarantined orders")
    item = get(session, actor, item_id)
    if item.status is not Q.OPEN:
        raise ValidationError(f"quarantined order {item_id} is {item.status}, not open", code="not_open")
    channel = session.get(Channel, item.channel_id)
    try:
        spec = registry.get(channel.kind)
        orders = spec.normalize([item.payload])
        if len(orders) != 1:
            raise MappingError(f"the payload maps to {len(orders)} orders, not one")
        with session.begin_nested():
            outcome, order_id = apply_order(session, channel, orders[0])
    except (MappingError, KeyError, ValueError, TypeError, IntegrityError) as exc:
        item.reason = f"replay failed: {exc}"[:4000]
        item.last_seen_at = utcnow()
        return ReplayResult(False, item.reason)
    item.status, item.order_id = Q.REPLAYED, order_id
    item.resolved_at, item.resolved_by = utcnow(), actor.label[:120]
    return ReplayResult(True, f"order {orders[0].external_id} {outcome}", order_id)


def discard(session: Session, actor: Actor, item_id: int) -> None:
    actor.require(Role.STAFF, "discard quarantined orders")
    item = get(session, actor, item_id)
    if item.status is not Q.OPEN:
        raise ValidationError(f"quarantined order {item_id} is {item.status}, not open", code="not_open")
    item.status, item.resolved_at, item.resolved_by = Q.DISCARDED, utcnow(), actor.label[:120]
