"""Webhook deliveries: verified, stored once, applied through the same upsert path as a pull.

    receive(env, channel_id, headers, body) -> Receipt        (the endpoint's whole work; no outbound call)
    process_pending(env, channel_id) -> dict[str, int]        (deliveries whose orders must be fetched first)

A delivery is checked in this order:

1. The channel: looked up by id alone (the marketplace knows no seller); none, disabled, or a connector without
   the "webhooks" capability -> NotFound (404), so ids cannot be probed for what they are.
2. A WooCommerce verification ping (`webhook_id=N`, sent unsigned when a webhook is saved) -> "ignored",
   nothing stored.
3. The signature (the connector's verify_webhook, hmac.compare_digest): bad or missing -> AuthenticationFailed
   (401), nothing stored.
4. The delivery row, INSERT ... ON CONFLICT DO NOTHING on (channel, delivery id) and (channel, body sha256):
   a conflict is a redelivery or a replayed body -> "duplicate", nothing applied.
5. The orders: parse_webhook, then apply_order for each in a savepoint. An order the hub cannot hold, or a
   signed body that cannot be parsed at all, is quarantined (source "webhook") with the raw payload: a
   signed delivery is never lost and never answered with an error, so the marketplace does not retry
   forever. Topics carrying no order -> "ignored".

The delivery row, the orders and the quarantine entries are one transaction: a crash rolls all of it back,
so a redelivery is not mistaken for a duplicate of a delivery that was stored but never applied. The one
exception is deliberate: connectors whose parse_webhook has to fetch the order first (Shopee's push names
the order only) are stored as "received" and answered at once; `process_pending` fetches and applies them
later, and polling reconciles whatever a lost push would have brought.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from hub.channels.models import Channel
from hub.channels.port import ChannelOrder
from hub.channels.values import MappingError
from hub.db import dialect_insert
from hub.errors import AuthenticationFailed, HubError, NotFound, PermanentError, TransientError
from hub.outbound.audit import LogAudit
from hub.outbound.audit_store import DbAudit
from hub.sync import quarantine
from hub.sync.apply import apply_order
from hub.sync.connect import capable, open_connector
from hub.sync.env import SyncEnv
from hub.sync.models import WebhookDelivery
from hub.timeutil import utcnow

log = logging.getLogger(__name__)

# Delivery outcomes (WebhookDelivery.outcome) and receipt statuses.
RECEIVED = "received"  # stored, its orders not fetched yet (see process_pending)
APPLIED = "applied"
QUARANTINED = "quarantined"
IGNORED = "ignored"
DUPLICATE = "duplicate"  # a receipt only: nothing was stored

# What a signed body may fail with while being parsed or applied: the payload's fault (or the mapping's), kept
# in quarantine. Anything else (the database gone, a bug) propagates: 500, nothing stored, the marketplace retries.
PAYLOAD_ERRORS = (MappingError, PermanentError, ValueError, KeyError, TypeError, IntegrityError, DataError)


class WebhookUnavailable(HubError):
    """The channel exists but its connector cannot be opened (credentials incomplete): the marketplace should
    retry later, after the seller has fixed the channel."""

    code = "channel_unavailable"
    http_status = 503


@dataclass(frozen=True)
class Kind:
    """Where a marketplace puts a delivery's id and topic. `fetches`: its parse_webhook calls the marketplace
    (the push names the order only), so the delivery is applied later, outside the request."""

    delivery_header: str | None
    topic_header: str | None
    fetches: bool = False


# https://shopify.dev/docs/apps/build/webhooks/subscribe/https (X-Shopify-Webhook-Id: the same on retries);
# WooCommerce: WC_Webhook::get_http_headers (X-WC-Webhook-Delivery-ID); Shopee's push carries no id: the
# body (which has the push's timestamp) is the key.
KINDS: dict[str, Kind] = {
    "shopify": Kind("X-Shopify-Webhook-Id", "X-Shopify-Topic"),
    "woocommerce": Kind("X-WC-Webhook-Delivery-ID", "X-WC-Webhook-Topic"),
    "shopee": Kind(None, None, fetches=True),
}
UNKNOWN_KIND = Kind(None, None)
WOOCOMMERCE_PING = re.compile(rb"webhook_id=\d{1,20}")


@dataclass(frozen=True)
class Receipt:
    status: str  # applied, quarantined, ignored, duplicate, received
    delivery_id: int | None = None  # the WebhookDelivery row; None when nothing was stored
    orders: dict[str, str] = field(default_factory=dict)  # external id -> created/updated/unchanged/quarantined
    message: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"status": self.status}


def header(headers: dict[str, str], name: str | None) -> str | None:
    if name is None:
        return None
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


def body_text(body: bytes) -> str:
    """The body as stored: itself when it is UTF-8 text without NUL (which PostgreSQL text refuses), else
    `base64:` and its base64, so that every byte is kept."""
    try:
        text = body.decode("utf-8")
        if "\x00" not in text and not text.startswith("base64:"):
            return text
    except UnicodeDecodeError:
        pass
    return "base64:" + base64.b64encode(body).decode()


def stored_body(text: str) -> bytes:
    if text.startswith("base64:"):
        try:
            return base64.b64decode(text[7:], validate=True)
        except binascii.Error:
            pass
    return text.encode()


def receive(env: SyncEnv, channel_id: int, headers: dict[str, str], body: bytes) -> Receipt:
    with env.sessions.begin() as session:
        channel = session.get(Channel, channel_id)
        if channel is None or not channel.is_active or not capable(env, channel, "webhooks"):
            raise NotFound(f"no webhook endpoint for channel {channel_id}", code="unknown_channel")
        session.info["seller_id"] = channel.seller_id  # from here on, only this seller's rows
        kind = KINDS.get(channel.kind, UNKNOWN_KIND)
        if channel.kind == "woocommerce" and _is_woocommerce_ping(headers, body):
            return Receipt(IGNORED, message="verification ping")
        try:
            connector = open_connector(env, channel, LogAudit())
        except (KeyError, ValueError, TypeError) as exc:
            log.warning("webhook for channel %s: its connector cannot be opened: %s", channel_id, exc)
            raise WebhookUnavailable(f"channel {channel_id} cannot take webhooks now") from None
        if not _verified(connector, headers, body):
            raise AuthenticationFailed("the webhook signature does not match", code="bad_signature")
        delivery_id = _insert(session, channel, kind, headers, body)
        if delivery_id is None:
            return Receipt(DUPLICATE)
        if kind.fetches:
            return Receipt(RECEIVED, delivery_id)
        delivery = session.get(WebhookDelivery, delivery_id)
        return _settle_delivery(session, channel, delivery, _parse(connector, headers, body), body)


def process_pending(env: SyncEnv, channel_id: int, *, limit: int = 100) -> dict[str, int]:
    """Fetch and apply the stored deliveries of a channel that are still "received" (oldest first). A
    marketplace that cannot be reached leaves them for the next call; anything else settles them. Returns
    counts by outcome. For the worker (or a CLI command) to call; nothing calls it inside a request."""
    counts: dict[str, int] = {}
    with env.sessions() as session:
        channel = session.get(Channel, channel_id)
        if channel is None or not channel.is_active or not capable(env, channel, "webhooks"):
            return counts
        session.expunge(channel)
        pending = list(session.scalars(sa.select(WebhookDelivery.id).where(
            WebhookDelivery.channel_id == channel_id, WebhookDelivery.outcome == RECEIVED,
        ).order_by(WebhookDelivery.id).limit(limit)))
    if not pending:
        return counts
    kind = KINDS.get(channel.kind, UNKNOWN_KIND)
    connector = open_connector(env, channel, DbAudit(env.sessions, seller_id=channel.seller_id,
                                                     channel_id=channel.id))
    for delivery_id in pending:
        with env.sessions() as session:
            delivery = session.get(WebhookDelivery, delivery_id)
            topic, body = delivery.topic, stored_body(delivery.body)
        # The headers are not stored; the topic is, and is all a parse needs besides the body. The fetch runs
        # outside any transaction: no lock is held while the marketplace answers (nor the SQLite write lock
        # the call's audit record needs).
        headers = {kind.topic_header: topic} if kind.topic_header and topic else {}
        try:
            parsed = _parse(connector, headers, body)
        except TransientError as exc:
            log.warning("webhook delivery %s of channel %s left for later: %s", delivery_id, channel_id, exc)
            with env.sessions.begin() as session:
                session.execute(sa.update(WebhookDelivery).where(WebhookDelivery.id == delivery_id).values(
                    message=f"not fetched yet: {exc}"[:4000]))
            counts["later"] = counts.get("later", 0) + 1
            break  # the marketplace is not answering: the rest waits too
        with env.sessions.begin() as session:
            session.info["seller_id"] = channel.seller_id
            delivery = session.get(WebhookDelivery, delivery_id, with_for_update=True)
            if delivery.outcome != RECEIVED:
                continue  # another worker settled it meanwhile
            receipt = _settle_delivery(session, session.get(Channel, channel_id), delivery, parsed, body)
        counts[receipt.status] = counts.get(receipt.status, 0) + 1
    return counts


def _is_woocommerce_ping(headers: dict[str, str], body: bytes) -> bool:
    return header(headers, "X-WC-Webhook-Signature") is None and WOOCOMMERCE_PING.fullmatch(body.strip()) is not None


def _verified(connector: Any, headers: dict[str, str], body: bytes) -> bool:
    try:
        return bool(connector.verify_webhook(headers, body))
    except (KeyError, ValueError, TypeError, UnicodeError):  # a header that is not even text, say
        return False


def _topic(kind: Kind, headers: dict[str, str], body: bytes) -> str:
    """The topic header; where there is none, a push code in the body (Shopee: {"code": 3, ...})."""
    topic = header(headers, kind.topic_header)
    if topic is None:
        payload = _json(body)
        code = payload.get("code") if isinstance(payload, dict) else None
        topic = f"code {code}" if isinstance(code, (int, str)) and not isinstance(code, bool) else ""
    return topic.strip()[:64]


def _insert(session: Session, channel: Channel, kind: Kind, headers: dict[str, str], body: bytes) -> int | None:
    """The delivery row, or None when a delivery with its id or its body is already stored."""
    delivery_id = (header(headers, kind.delivery_header) or "").strip()[:128] or None
    insert = dialect_insert(session)(WebhookDelivery).values(
        seller_id=channel.seller_id, channel_id=channel.id, delivery_id=delivery_id,
        topic=_topic(kind, headers, body), body_sha256=hashlib.sha256(body).hexdigest(), body=body_text(body),
        received_at=utcnow(), outcome=RECEIVED, message="")
    return session.execute(insert.on_conflict_do_nothing().returning(WebhookDelivery.id)).scalar_one_or_none()


def _parse(connector: Any, headers: dict[str, str], body: bytes) -> list[ChannelOrder] | Exception:
    """The delivery's orders, or the error that makes the body unreadable (to be quarantined). TransientError
    (the marketplace did not answer a fetch) and anything unexpected propagate."""
    try:
        return connector.parse_webhook(headers, body)
    except TransientError:
        raise
    except PAYLOAD_ERRORS as exc:
        return exc


def _settle_delivery(session: Session, channel: Channel, delivery: WebhookDelivery,
                     parsed: list[ChannelOrder] | Exception, body: bytes) -> Receipt:
    """Apply a stored delivery's orders in the caller's transaction, each in a savepoint; settles its outcome."""
    if isinstance(parsed, Exception):
        reason = _reason(parsed)
        _hold(session, channel, delivery, reason, _payload(body), _external_id(body))
        return _settle(delivery, QUARANTINED, reason, {})
    orders = parsed
    if not orders:
        return _settle(delivery, IGNORED, f"topic {delivery.topic or '(none)'} carries no order", {})
    results: dict[str, str] = {}
    notes: list[str] = []
    for order in orders:
        try:
            with session.begin_nested():
                outcome, _ = apply_order(session, channel, order)
        except PAYLOAD_ERRORS as exc:
            _hold(session, channel, delivery, _reason(exc), order.raw or _payload(body), order.external_id)
            results[order.external_id] = QUARANTINED
            notes.append(f"order {order.external_id} quarantined: {_reason(exc)}")
            continue
        results[order.external_id] = outcome.value
        notes.append(f"order {order.external_id} {outcome.value}")
    status = QUARANTINED if QUARANTINED in results.values() else APPLIED
    return _settle(delivery, status, "; ".join(notes), results)


def _settle(delivery: WebhookDelivery, outcome: str, message: str, orders: dict[str, str]) -> Receipt:
    delivery.outcome, delivery.message, delivery.processed_at = outcome, message[:4000], utcnow()
    return Receipt(outcome, delivery.id, orders, message)


def _hold(session: Session, channel: Channel, delivery: WebhookDelivery, reason: str, payload: dict[str, Any],
          external_id: str) -> None:
    """Quarantine with the payload; should the database refuse the payload itself (PostgreSQL's JSONB takes
    no \\u0000), with the raw body as text instead. The delivery row keeps the body either way."""
    try:
        with session.begin_nested():
            quarantine.hold(session, channel, reason=reason, payload=payload, external_id=external_id,
                            source="webhook")
    except (sa.exc.StatementError, RecursionError, TypeError, ValueError):
        quarantine.hold(session, channel, reason=reason, payload={"webhook_body": delivery.body},
                        external_id=external_id, source="webhook")


def _json(body: bytes) -> Any:
    """The body as JSON with exact numbers (as the JSON columns store them); None when it is not JSON."""
    try:
        return json.loads(body, parse_float=Decimal, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        return None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _payload(body: bytes) -> dict[str, Any]:
    """The body as a quarantine payload: the JSON object itself where it is one (so a replay can map it again),
    else the text wrapped."""
    parsed = _json(body)
    return parsed if isinstance(parsed, dict) else {"webhook_body": body_text(body)}


def _external_id(body: bytes) -> str:
    """The order a body names, as far as it can be told: its `id` (Shopify, WooCommerce) or `data.ordersn`
    (a Shopee push); "" otherwise."""
    parsed = _json(body)
    if not isinstance(parsed, dict):
        return ""
    data = parsed.get("data") if isinstance(parsed.get("data"), dict) else {}
    value = parsed.get("id", data.get("ordersn", ""))
    return str(value)[:128] if isinstance(value, (str, int)) and not isinstance(value, bool) else ""


def _reason(exc: Exception) -> str:
    if isinstance(exc, (IntegrityError, DataError)):
        return f"the database refused the order: {type(exc.orig).__name__}: {str(exc.orig).splitlines()[0]}"
    return f"{type(exc).__name__}: {exc}" if isinstance(exc, (KeyError, TypeError)) else str(exc)
