"""The dispatcher: delivers outbox events at least once, each destination on its own retry schedule.

One pass does three things, each in its own short transaction:

1. fan out: events not yet fanned out get one delivery row per destination (the broker when one is configured,
   each enabled endpoint of the seller subscribed to the kind). The unique (event_id, destination) makes a race
   between two dispatchers, or a crash half-way, harmless: the INSERTs ignore what exists.
2. claim: due pending deliveries are leased (claimed_by, claimed_until). On PostgreSQL the SELECT takes its rows
   FOR UPDATE SKIP LOCKED, so two dispatchers claiming at once take different rows instead of queueing behind
   each other; on SQLite the write lock taken at BEGIN serialises claims and the lease does the rest.
3. deliver, then record: the outcomes of the whole batch are written in one transaction, and only by the
   dispatcher still holding the lease. A dispatcher killed between publishing and recording leaves its deliveries
   pending; once the lease runs out any dispatcher makes them again. Nothing is lost; some messages may arrive
   twice, and consumers deduplicate by event id.

A failed attempt waits OUTBOX_RETRY_BASE_SECONDS * 2^(attempts-1), capped at OUTBOX_RETRY_MAX_SECONDS, and then
between half and all of that at random (so a seller's endpoint that comes back is not hit by every retry at
once); after OUTBOX_MAX_ATTEMPTS attempts the delivery is dead (hub.outbox.endpoints.requeue revives it). An
event is published (`published_at`) once none of its deliveries is pending.
"""

from __future__ import annotations

import logging
import random
import threading
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from hub.channels.secrets import CredentialBox, CredentialsUnreadable
from hub.db import dialect_insert, is_postgres
from hub.errors import HubError
from hub.outbox.message import Message
from hub.outbox.models import BROKER, DeliveryStatus, OutboxDelivery, OutboxEvent, WebhookEndpoint
from hub.outbox.webhooks import WebhookSender
from hub.timeutil import utcnow

log = logging.getLogger(__name__)

WEBHOOK_PREFIX = "webhook:"


class Publisher(Protocol):
    def publish(self, message: Message) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class OutboxSettings:
    broker_url: str = ""
    exchange: str = "order_hub.events"
    batch_size: int = 100
    lease: timedelta = timedelta(seconds=120)
    max_attempts: int = 8
    retry_base_seconds: float = 10.0
    retry_max_seconds: float = 3600.0
    interval_seconds: float = 5.0
    webhook_timeout_seconds: float = 10.0
    threads: int = 4

    @classmethod
    def from_settings(cls, s: Mapping[str, Any]) -> OutboxSettings:
        d = cls()
        return cls(broker_url=str(s.get("BROKER_URL") or ""), exchange=str(s.get("OUTBOX_EXCHANGE") or d.exchange),
                   batch_size=int(s.get("OUTBOX_BATCH_SIZE", d.batch_size)),
                   lease=timedelta(seconds=float(s.get("OUTBOX_LEASE_SECONDS", d.lease.total_seconds()))),
                   max_attempts=int(s.get("OUTBOX_MAX_ATTEMPTS", d.max_attempts)),
                   retry_base_seconds=float(s.get("OUTBOX_RETRY_BASE_SECONDS", d.retry_base_seconds)),
                   retry_max_seconds=float(s.get("OUTBOX_RETRY_MAX_SECONDS", d.retry_max_seconds)),
                   interval_seconds=float(s.get("OUTBOX_DISPATCH_SECONDS", d.interval_seconds)),
                   webhook_timeout_seconds=float(s.get("OUTBOX_WEBHOOK_TIMEOUT_SECONDS", d.webhook_timeout_seconds)),
                   threads=int(s.get("OUTBOX_THREADS", d.threads)))


@dataclass
class PassResult:
    fanned_out: int = 0
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    postponed: int = 0

    @property
    def worked(self) -> bool:
        return bool(self.fanned_out or self.delivered or self.failed or self.dead or self.postponed)

    def add(self, other: PassResult) -> None:
        self.fanned_out += other.fanned_out
        self.delivered += other.delivered
        self.failed += other.failed
        self.dead += other.dead
        self.postponed += other.postponed


@dataclass(frozen=True)
class _Job:
    """A claimed delivery, read out of its transaction: what to send where."""

    delivery_id: int
    destination: str
    attempts: int
    message: Message
    url: str = ""
    secret_sealed: str = ""
    endpoint_enabled: bool = True


@dataclass(frozen=True)
class _Outcome:
    job: _Job
    error: str = ""  # empty: delivered
    final: bool = False  # dead at once, whatever the attempts (the endpoint was disabled or deleted)
    # Not tried: an earlier delivery to the same destination failed in this pass. No attempt is counted; it
    # waits as long as that one, so a dead endpoint costs one attempt per pass, not one per queued event.
    postponed: bool = False


def backoff_seconds(attempts: int, base: float, cap: float, rand: Callable[[], float]) -> float:
    """Exponential in the attempts made, capped, with "equal jitter": between half and all of the step."""
    step = min(cap, base * 2 ** max(attempts - 1, 0))
    return step / 2 + rand() * step / 2


@dataclass
class Dispatcher:
    sessions: sessionmaker[Session]
    settings: OutboxSettings
    box: CredentialBox
    broker: Publisher | None = None
    webhooks: WebhookSender = field(default_factory=WebhookSender)
    clock: Callable[[], datetime] = utcnow
    rand: Callable[[], float] = random.random
    name: str = field(default_factory=lambda: str(uuid.uuid4()))  # the lease owner: one per dispatcher

    @classmethod
    def build(cls, sessions: sessionmaker[Session], settings: Mapping[str, Any], box: CredentialBox,
              **kw: Any) -> Dispatcher:
        """From the application's settings: a kombu publisher when BROKER_URL is set, an audited webhook sender."""
        from hub.outbound.audit_store import DbAudit
        from hub.outbox.broker import BrokerPublisher

        config = OutboxSettings.from_settings(settings)
        if "broker" not in kw and config.broker_url:
            kw["broker"] = BrokerPublisher(config.broker_url, config.exchange)
        if "webhooks" not in kw:
            timeout = config.webhook_timeout_seconds
            kw["webhooks"] = WebhookSender(audit=lambda seller_id: DbAudit(sessions, seller_id=seller_id),
                                           timeout=(min(timeout, 5.0), timeout))
        return cls(sessions=sessions, settings=config, box=box, **kw)

    # --- one pass -------------------------------------------------------------------------------------------

    def run_once(self) -> PassResult:
        result = PassResult(fanned_out=self.fan_out())
        jobs = self.claim()
        if jobs:
            result.add(self.record(self.deliver(jobs)))
        return result

    def drain(self, max_passes: int = 10_000, stop: threading.Event | None = None) -> PassResult:
        """Passes until one finds nothing due (or `stop` is set): what `hub outbox dispatch --once` and the
        worker's job run."""
        total = PassResult()
        for _ in range(max_passes):
            if stop is not None and stop.is_set():
                break
            result = self.run_once()
            total.add(result)
            if not result.worked:
                break
        return total

    def run_forever(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                result = self.drain(stop=stop)
                if result.worked:
                    log.info("outbox: %s", result)
            except Exception:  # the database or broker is down: log, wait, try again; never die
                log.exception("outbox dispatch pass failed")
            stop.wait(self.settings.interval_seconds)

    def close(self) -> None:
        if self.broker is not None:
            self.broker.close()

    # --- 1. fan out ------------------------------------------------------------------------------------------

    def fan_out(self) -> int:
        with self.sessions.begin() as session:
            query = (sa.select(OutboxEvent).where(OutboxEvent.fanned_out_at.is_(None))
                     .order_by(OutboxEvent.id).limit(self.settings.batch_size))
            if is_postgres(session):
                query = query.with_for_update(skip_locked=True)
            events = list(session.scalars(query))
            if not events:
                return 0
            endpoints: dict[int, list[WebhookEndpoint]] = {}
            for endpoint in session.scalars(sa.select(WebhookEndpoint).where(
                    WebhookEndpoint.enabled.is_(True),
                    WebhookEndpoint.seller_id.in_({e.seller_id for e in events})).order_by(WebhookEndpoint.id)):
                endpoints.setdefault(endpoint.seller_id, []).append(endpoint)
            now = self.clock()
            rows = []
            for event in events:
                targets: list[tuple[str, int | None]] = [(BROKER, None)] if self.broker is not None else []
                targets += [(f"{WEBHOOK_PREFIX}{e.id}", e.id) for e in endpoints.get(event.seller_id, [])
                            if not e.kinds or event.kind in e.kinds]
                rows += [{"seller_id": event.seller_id, "event_id": event.event_id, "destination": destination,
                          "endpoint_id": endpoint_id, "status": DeliveryStatus.PENDING, "attempts": 0,
                          "next_attempt_at": now, "last_error": "", "created_at": now}
                         for destination, endpoint_id in targets]
                event.fanned_out_at = now
                if not targets:  # nobody to tell: published as far as the outbox is concerned
                    event.published_at = now
            if rows:
                session.execute(dialect_insert(session)(OutboxDelivery).values(rows).on_conflict_do_nothing())
            return len(events)

    # --- 2. claim --------------------------------------------------------------------------------------------

    def claim(self) -> list[_Job]:
        with self.sessions.begin() as session:
            now = self.clock()
            D = OutboxDelivery
            query = (sa.select(D.id).where(D.status == DeliveryStatus.PENDING, D.next_attempt_at <= now,
                                           sa.or_(D.claimed_until.is_(None), D.claimed_until < now))
                     .order_by(D.next_attempt_at, D.id).limit(self.settings.batch_size))
            if is_postgres(session):
                query = query.with_for_update(skip_locked=True)
            ids = list(session.scalars(query))
            if not ids:
                return []
            session.execute(sa.update(D).where(D.id.in_(ids)).values(
                claimed_by=self.name, claimed_until=now + self.settings.lease)
                .execution_options(synchronize_session=False))
            rows = session.execute(
                sa.select(D.id, D.destination, D.attempts, OutboxEvent, WebhookEndpoint.url,
                          WebhookEndpoint.secret_sealed, WebhookEndpoint.enabled)
                .join(OutboxEvent, OutboxEvent.event_id == D.event_id)
                .outerjoin(WebhookEndpoint, WebhookEndpoint.id == D.endpoint_id)
                .where(D.id.in_(ids)).order_by(OutboxEvent.id, D.id)).all()
            return [_Job(delivery_id=row[0], destination=row[1], attempts=row[2], message=Message(
                event_id=row[3].event_id, kind=row[3].kind, subject=row[3].subject, seller_id=row[3].seller_id,
                created_at=row[3].created_at, payload=row[3].payload), url=row[4] or "", secret_sealed=row[5] or "",
                endpoint_enabled=bool(row[6]) if row[1] != BROKER else True) for row in rows]

    # --- 3. deliver and record -------------------------------------------------------------------------------

    def deliver(self, jobs: list[_Job]) -> list[_Outcome]:
        """Each destination's jobs in order, destinations side by side (OUTBOX_THREADS): one seller's slow
        endpoint must not hold back the broker or the other sellers."""
        groups: dict[str, list[_Job]] = {}
        for job in jobs:
            groups.setdefault(job.destination, []).append(job)
        threads = min(self.settings.threads, len(groups))
        if threads <= 1:
            return [outcome for group in groups.values() for outcome in self._deliver_group(group)]
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="outbox") as pool:
            return [outcome for outcomes in pool.map(self._deliver_group, groups.values()) for outcome in outcomes]

    def _deliver_group(self, jobs: list[_Job]) -> list[_Outcome]:
        outcomes: list[_Outcome] = []
        failing = ""
        for job in jobs:
            if failing:
                outcomes.append(_Outcome(job, f"postponed: an earlier delivery failed: {failing}"[:500],
                                         postponed=True))
                continue
            outcome = self._deliver(job)
            outcomes.append(outcome)
            if outcome.error and not outcome.final:
                failing = outcome.error
        return outcomes

    def _deliver(self, job: _Job) -> _Outcome:
        try:
            if job.destination == BROKER:
                if self.broker is None:
                    return _Outcome(job, "no broker is configured (BROKER_URL is empty)")
                self.broker.publish(job.message)
            else:
                if not job.url or not job.endpoint_enabled:
                    return _Outcome(job, "the endpoint is disabled or gone", final=True)
                secret = self.box.open(job.secret_sealed).get("secret", "")
                self.webhooks.send(job.url, secret, job.message)
        except CredentialsUnreadable as exc:
            return _Outcome(job, str(exc))
        except HubError as exc:
            return _Outcome(job, str(exc) or type(exc).__name__)
        except Exception as exc:  # a bug or an unexpected library error fails this delivery, not the batch
            log.exception("outbox delivery %s to %s raised", job.delivery_id, job.destination)
            return _Outcome(job, f"{type(exc).__name__}: {exc}")
        return _Outcome(job)

    def record(self, outcomes: list[_Outcome]) -> PassResult:
        result = PassResult()
        D = OutboxDelivery
        with self.sessions.begin() as session:
            now = self.clock()
            event_ids = sorted({o.job.message.event_id for o in outcomes})
            if is_postgres(session):
                # Two dispatchers settling deliveries of one event (broker here, a webhook there) would each not
                # see the other's uncommitted update, and neither would mark the event published: take turns.
                session.execute(sa.select(OutboxEvent.id).where(OutboxEvent.event_id.in_(event_ids))
                                .order_by(OutboxEvent.id).with_for_update())
            for outcome in outcomes:
                job = outcome.job
                attempts = job.attempts if outcome.postponed else job.attempts + 1
                if not outcome.error:
                    values: dict[str, Any] = {"status": DeliveryStatus.DELIVERED, "delivered_at": now,
                                              "last_error": ""}
                    counter = "delivered"
                elif outcome.final or attempts >= self.settings.max_attempts:
                    values = {"status": DeliveryStatus.DEAD, "last_error": outcome.error[:500]}
                    counter = "dead"
                else:
                    wait = backoff_seconds(max(attempts, 1), self.settings.retry_base_seconds,
                                           self.settings.retry_max_seconds, self.rand)
                    values = {"next_attempt_at": now + timedelta(seconds=wait), "last_error": outcome.error[:500]}
                    counter = "postponed" if outcome.postponed else "failed"
                # Only while the lease is still ours: after it ran out another dispatcher owns the delivery.
                mine = session.execute(sa.update(D).where(
                    D.id == job.delivery_id, D.claimed_by == self.name, D.status == DeliveryStatus.PENDING)
                    .values(attempts=attempts, claimed_by=None, claimed_until=None, **values)
                    .execution_options(synchronize_session=False)).rowcount
                if not mine:
                    log.info("outbox delivery %s: lease lost before its outcome was recorded", job.delivery_id)
                    continue
                setattr(result, counter, getattr(result, counter) + 1)
                if counter == "dead":
                    log.warning("outbox delivery %s of event %s to %s is dead after %d attempts: %s",
                                job.delivery_id, job.message.event_id, job.destination, attempts, outcome.error)
            mark_published(session, set(event_ids), now)
        return result


def mark_published(session: Session, event_ids: set[str], now: datetime) -> None:
    """Events among these with no pending delivery left are published; one that has one again is not."""
    if not event_ids:
        return
    pending = sa.exists().where(OutboxDelivery.event_id == OutboxEvent.event_id,
                                OutboxDelivery.status == DeliveryStatus.PENDING)
    session.execute(sa.update(OutboxEvent).where(OutboxEvent.event_id.in_(event_ids), ~pending,
                                                 OutboxEvent.fanned_out_at.is_not(None),
                                                 OutboxEvent.published_at.is_(None))
                    .values(published_at=now).execution_options(synchronize_session=False))
    session.execute(sa.update(OutboxEvent).where(OutboxEvent.event_id.in_(event_ids), pending,
                                                 OutboxEvent.published_at.is_not(None))
                    .values(published_at=None).execution_options(synchronize_session=False))


def prune(session: Session, older_than_days: int, now: datetime | None = None) -> int:
    """Delete events published more than `older_than_days` ago, their deliveries with them (ON DELETE CASCADE);
    events still owed to someone (pending) are kept however old. Returns how many events went."""
    cutoff = (now or utcnow()) - timedelta(days=older_than_days)
    return session.execute(sa.delete(OutboxEvent).where(OutboxEvent.published_at < cutoff)
                           .execution_options(synchronize_session=False)).rowcount or 0
