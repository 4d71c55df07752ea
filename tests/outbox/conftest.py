"""Fixtures for the outbox: a dispatcher on the test database, and a seller's webhook receiver over real HTTP."""

from __future__ import annotations

import hmac
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, request
from sqlalchemy.orm import Session, sessionmaker

from hub.channels.secrets import CredentialBox
from hub.outbound.audit_store import DbAudit
from hub.outbound.http import RetryPolicy
from hub.outbox.dispatch import Dispatcher, OutboxSettings
from hub.outbox.models import OutboxDelivery, OutboxEvent
from hub.outbox.signing import digest
from hub.outbox.webhooks import WebhookSender
from hub.sandbox.server import running
from hub.timeutil import utcnow


class Clock:
    """A settable UTC clock: the dispatcher's retries come due by moving it, never by waiting."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def box(app: Flask) -> CredentialBox:
    return CredentialBox.from_settings(app.config)


@pytest.fixture
def make_dispatcher(sessions: sessionmaker[Session], box: CredentialBox,
                    clock: Clock) -> Callable[..., Dispatcher]:
    """A dispatcher without a broker unless given one, whose webhook retries do not sleep."""

    def make(**kw: Any) -> Dispatcher:
        settings = kw.pop("settings", OutboxSettings(max_attempts=3, retry_base_seconds=10, retry_max_seconds=60))
        sleeps: list[float] = []
        kw.setdefault("webhooks", WebhookSender(audit=lambda seller_id: DbAudit(sessions, seller_id=seller_id),
                                                sleep=sleeps.append, timeout=(2.0, 5.0),
                                                retry=RetryPolicy(attempts=3, initial_seconds=0.01, max_seconds=0.02)))
        return Dispatcher(sessions=sessions, settings=settings, box=box, clock=clock, rand=lambda: 1.0, **kw)

    return make


@dataclass
class Received:
    event_id: str
    kind: str
    body: dict[str, Any]
    signature_ok: bool


@dataclass
class Receiver:
    """A seller's endpoint: verifies each POST's signature with hmac.compare_digest and answers `status`
    (or the next of `script`, one status per request)."""

    url: str
    secret: str = ""
    status: int = 200
    script: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    hits: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self) -> int:
        with self.lock:
            self.hits += 1
            return self.script.pop(0) if self.script else self.status


def verify(secret: str, header: str, body: bytes) -> bool:
    parts = dict(item.split("=", 1) for item in header.split(","))
    expected = digest(secret, int(parts["t"]), body)
    return hmac.compare_digest(expected, parts.get("v1", ""))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    app = Flask("receiver")
    box: dict[str, Receiver] = {}

    @app.post("/hooks/orders")
    def hook() -> tuple[str, int]:
        r = box["receiver"]
        status = r.answer()
        if status < 300:
            raw = request.get_data()
            with r.lock:
                r.received.append(Received(request.headers["X-Hub-Event-Id"], request.headers["X-Hub-Event"],
                                           json.loads(raw), verify(r.secret, request.headers["X-Hub-Signature"], raw)))
        return "", status

    with running(app) as base:
        box["receiver"] = Receiver(url=f"{base}/hooks/orders")
        yield box["receiver"]


def deliveries(sessions: sessionmaker[Session]) -> list[OutboxDelivery]:
    with sessions() as session:
        return list(session.scalars(sa.select(OutboxDelivery).order_by(OutboxDelivery.id)))


def events(sessions: sessionmaker[Session], kind: str | None = None) -> list[OutboxEvent]:
    with sessions() as session:
        query = sa.select(OutboxEvent).order_by(OutboxEvent.id)
        if kind:
            query = query.where(OutboxEvent.kind == kind)
        return list(session.scalars(query))
