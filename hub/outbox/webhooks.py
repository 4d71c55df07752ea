"""Sending one event to one seller endpoint: a signed POST through the hub's HttpClient.

HttpClient gives the timeout, the audit row of every attempt, and retries within the attempt of transient
failures only (connection refused, timeout, 408, 425, 429, 5xx, with Retry-After honoured). Any other answer
that is not 2xx (a 4xx, a redirect) is a PermanentError at once: the attempt fails, and the dispatcher's own
backoff decides when to try again, until the delivery is dead-lettered.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import requests

from hub.outbound.audit import AuditSink, LogAudit
from hub.outbound.http import HttpClient, RetryPolicy
from hub.outbox.message import Message
from hub.outbox.signing import EVENT_ID_HEADER, EVENT_KIND_HEADER, SIGNATURE_HEADER, signature_header

USER_AGENT = "OrderHub-Webhooks/1"


@dataclass
class WebhookSender:
    audit: Callable[[int], AuditSink] = lambda _seller_id: LogAudit()  # the audit sink for a seller's calls
    timeout: tuple[float, float] = (5.0, 10.0)
    retry: RetryPolicy = field(default_factory=lambda: RetryPolicy(attempts=3, initial_seconds=0.5, max_seconds=5))
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    # One connection pool per dispatcher thread: requests.Session is not documented as thread-safe.
    _local: threading.local = field(default_factory=threading.local, repr=False)

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def send(self, url: str, secret: str, message: Message) -> None:
        """Deliver or raise (TransientError after the retries, PermanentError at once)."""
        body = message.body()

        def sign(prepared: requests.PreparedRequest) -> None:
            # Signed afresh for every try: a retry carries a current timestamp, within the receiver's tolerance.
            prepared.headers[SIGNATURE_HEADER] = signature_header(secret, int(self.clock()), body)

        client = HttpClient(base_url=url, service="webhook", timeout=self.timeout, retry=self.retry,
                            audit=self.audit(message.seller_id), prepare=sign, sleep=self.sleep,
                            session=self._session())
        client.request("POST", url, data=body, headers={
            "Content-Type": "application/json", "User-Agent": USER_AGENT, EVENT_ID_HEADER: message.event_id,
            EVENT_KIND_HEADER: message.kind})
