"""A seller's webhook endpoints and dead letters: the use cases the dashboard (and an API) call.

The signing secret is made here, returned once (on create and on rotate) and stored only sealed with the
CredentialBox; the seller verifies `X-Hub-Signature` with it (hub.outbox.signing explains the scheme).
Every query is scoped by the actor's seller; another seller's endpoint or delivery is a NotFound.
"""

from __future__ import annotations

import ipaddress
import secrets
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.accounts.actor import Actor
from hub.accounts.models import Role
from hub.channels.secrets import CredentialBox
from hub.errors import ValidationError
from hub.outbox.dispatch import mark_published
from hub.outbox.models import DeliveryStatus, EventKind, OutboxDelivery, OutboxEvent, WebhookEndpoint
from hub.tenancy import owned
from hub.timeutil import utcnow

MAX_ENDPOINTS = 20  # per seller: each one multiplies every event's deliveries


@dataclass(frozen=True)
class DeadLetter:
    delivery_id: int
    event_id: str
    kind: str
    subject: str
    destination: str
    attempts: int
    last_error: str
    created_at: object


def _new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def _check_url(url: str, allow_private: bool) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 500:
        raise ValidationError("the endpoint must be an http(s) URL of at most 500 characters",
                              fields={"url": "not an http(s) URL"})
    if not allow_private:
        # The hub POSTs wherever a seller says: not into its own network (loopback, private ranges, the cloud
        # metadata address). Checked when the URL is set; a name re-pointed later is not caught here.
        try:
            addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 443,
                                                                  proto=socket.IPPROTO_TCP)}
        except (OSError, UnicodeError):
            raise ValidationError(f"{parts.hostname} does not resolve", fields={"url": "unknown host"}) from None
        if any(not ipaddress.ip_address(a.split("%")[0]).is_global for a in addresses):
            raise ValidationError("the endpoint must be on the public internet",
                                  fields={"url": "a private, loopback or link-local address"})
    return url


def _check_kinds(kinds: list[str] | None) -> list[str]:
    known = {str(k) for k in EventKind}
    unknown = sorted(set(kinds or []) - known)
    if unknown:
        raise ValidationError(f"unknown event kinds: {', '.join(unknown)}",
                              fields={"kinds": f"choose from {', '.join(sorted(known))}"})
    return sorted(set(kinds or []))


def create_endpoint(session: Session, actor: Actor, box: CredentialBox, url: str, kinds: list[str] | None = None,
                    description: str = "", *, allow_private: bool = False) -> tuple[WebhookEndpoint, str]:
    """A new enabled endpoint and its signing secret, shown this once. `kinds` empty: every kind.
    `allow_private` (OUTBOX_WEBHOOK_ALLOW_PRIVATE: demo, tests) accepts addresses inside the hub's network."""
    actor.require(Role.OWNER, "manage webhook endpoints")
    seller_id = actor.acting_seller("manage webhook endpoints")
    count = session.scalar(sa.select(sa.func.count()).select_from(WebhookEndpoint).where(
        WebhookEndpoint.seller_id == seller_id, WebhookEndpoint.enabled.is_(True))) or 0
    if count >= MAX_ENDPOINTS:
        raise ValidationError(f"at most {MAX_ENDPOINTS} enabled endpoints; disable one first",
                              fields={"url": "too many endpoints"})
    secret = _new_secret()
    endpoint = WebhookEndpoint(seller_id=seller_id, url=_check_url(url, allow_private), kinds=_check_kinds(kinds),
                               secret_sealed=box.seal({"secret": secret}), enabled=True,
                               description=description.strip()[:200])
    session.add(endpoint)
    session.flush()
    return endpoint, secret


def list_endpoints(session: Session, actor: Actor) -> list[WebhookEndpoint]:
    return list(session.scalars(sa.select(WebhookEndpoint).where(actor.sees(WebhookEndpoint.seller_id))
                                .order_by(WebhookEndpoint.id)))


def get_endpoint(session: Session, actor: Actor, endpoint_id: int) -> WebhookEndpoint:
    return owned(session, actor, WebhookEndpoint, endpoint_id, "webhook endpoint")


def disable_endpoint(session: Session, actor: Actor, endpoint_id: int) -> WebhookEndpoint:
    """No new deliveries; the pending ones are dead-lettered when their turn comes (requeue after re-enabling)."""
    actor.require(Role.OWNER, "manage webhook endpoints")
    endpoint = get_endpoint(session, actor, endpoint_id)
    if endpoint.enabled:
        endpoint.enabled, endpoint.disabled_at = False, utcnow()
    return endpoint


def enable_endpoint(session: Session, actor: Actor, endpoint_id: int) -> WebhookEndpoint:
    actor.require(Role.OWNER, "manage webhook endpoints")
    endpoint = get_endpoint(session, actor, endpoint_id)
    endpoint.enabled, endpoint.disabled_at = True, None
    return endpoint


def rotate_secret(session: Session, actor: Actor, box: CredentialBox, endpoint_id: int) -> str:
    """A new signing secret, shown this once; deliveries from now on are signed with it."""
    actor.require(Role.OWNER, "manage webhook endpoints")
    endpoint = get_endpoint(session, actor, endpoint_id)
    secret = _new_secret()
    endpoint.secret_sealed = box.seal({"secret": secret})
    return secret


def dead_letters(session: Session, actor: Actor, limit: int = 100) -> list[DeadLetter]:
    """Deliveries given up on, newest first: what the seller (or an operator, unscoped) may requeue."""
    D = OutboxDelivery
    rows = session.execute(
        sa.select(D.id, D.event_id, OutboxEvent.kind, OutboxEvent.subject, D.destination, D.attempts,
                  D.last_error, OutboxEvent.created_at)
        .join(OutboxEvent, OutboxEvent.event_id == D.event_id)
        .where(D.status == DeliveryStatus.DEAD, actor.sees(D.seller_id)).order_by(D.id.desc()).limit(limit)).all()
    return [DeadLetter(*row) for row in rows]


def requeue(session: Session, actor: Actor, delivery_id: int) -> OutboxDelivery:
    """Give a dead delivery a fresh set of attempts, due now."""
    actor.require(Role.STAFF, "requeue webhook deliveries")
    delivery = owned(session, actor, OutboxDelivery, delivery_id, "dead delivery",
                     OutboxDelivery.status == DeliveryStatus.DEAD)
    now = utcnow()
    delivery.status, delivery.attempts, delivery.next_attempt_at = DeliveryStatus.PENDING, 0, now
    delivery.claimed_by = delivery.claimed_until = None
    session.flush()
    mark_published(session, {delivery.event_id}, now)  # its event is not published any more
    return delivery
