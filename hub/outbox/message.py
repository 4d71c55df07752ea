"""The wire form of an event, the same for the broker and for webhooks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.jsonexact import dumps_exact


@dataclass(frozen=True)
class Message:
    event_id: str
    kind: str
    subject: str
    seller_id: int
    created_at: datetime
    payload: dict[str, Any]

    def body(self) -> bytes:
        # dumps_exact: a Decimal that slipped into a payload stays exact instead of failing the delivery forever.
        return dumps_exact({"event_id": self.event_id, "kind": self.kind, "subject": self.subject,
                            "seller_id": self.seller_id, "created_at": self.created_at.isoformat(),
                            "payload": self.payload}).encode()
