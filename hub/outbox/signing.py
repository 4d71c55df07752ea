"""Webhook signatures: `X-Hub-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`.

The shape Stripe uses (see /work/shared/reference/payments-logistics-fx.md), so sellers' existing verifiers need
little change: the timestamp inside the signed text lets a receiver refuse replays older than its tolerance, and
`v1=` leaves room for a second scheme during a change of algorithm.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Hub-Signature"
EVENT_ID_HEADER = "X-Hub-Event-Id"
EVENT_KIND_HEADER = "X-Hub-Event"


def digest(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={digest(secret, timestamp, body)}"


def verify(secret: str, header: str, body: bytes, now: int, tolerance: int = 300) -> bool:
    """What a receiver does: recompute, compare in constant time, refuse a stale timestamp."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(digest(secret, timestamp, body), parts.get("v1", ""))
