"""Looking up one tenant-owned row by id for an actor."""

from __future__ import annotations

from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.accounts.actor import Actor
from hub.errors import NotFound

T = TypeVar("T")


def owned(session: Session, actor: Actor, model: type[T], object_id: int, what: str, *criteria: Any) -> T:
    """The `model` row with this id that the actor may see and that meets `criteria`, else NotFound("no <what>
    <id>"): another seller's row reads exactly as a missing one, so ids cannot be probed across sellers."""
    row = session.scalar(sa.select(model).where(model.id == object_id,  # type: ignore[attr-defined]
                                                actor.sees(model.seller_id), *criteria))  # type: ignore[attr-defined]
    if row is None:
        raise NotFound(f"no {what} {object_id}")
    return row
