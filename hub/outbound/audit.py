"""The audit trail of outbound calls: one record per attempt, secrets already removed."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from hub.timeutil import utcnow

log = logging.getLogger("hub.outbound")


@dataclass(frozen=True)
class CallRecord:
    service: str
    method: str
    url: str  # redacted
    status: int | None  # None when no answer came (timeout, refused)
    duration_ms: int
    attempt: int
    error: str = ""
    at: datetime = field(default_factory=utcnow)
    # The counterpart said "slow down": HTTP 429, or a throttle signalled in a 2xx body (Shopify GraphQL
    # THROTTLED, a Shopee error_too_many_request envelope), so a run can count throttling from the records alone.
    throttled: bool = False


class AuditSink(Protocol):
    def record(self, call: CallRecord) -> None: ...


class LogAudit:
    """Writes each call to the `hub.outbound` log; the default when no table is wired in."""

    def record(self, call: CallRecord) -> None:
        log.info("%s %s %s -> %s in %d ms (attempt %d)%s", call.service, call.method, call.url,
                 call.status if call.status is not None else "no answer", call.duration_ms, call.attempt,
                 (f" {call.error}" if call.error else "") + (" throttled" if call.throttled else ""))


class MemoryAudit:
    """Keeps records in a list: for tests and for a run summary."""

    def __init__(self) -> None:
        self.calls: list[CallRecord] = []

    def record(self, call: CallRecord) -> None:
        self.calls.append(call)
