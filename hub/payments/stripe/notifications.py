"""Stripe webhooks: https://docs.stripe.com/webhooks#verify-manually

`Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…]`: each v1 is the hex HMAC-SHA256 of "{t}.{raw body}"
under the endpoint's signing secret (several while a secret is being rolled). The body is verified byte for
byte before it is parsed, compared in constant time, and refused when t is more than 300 s from now either way,
so a captured delivery cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime

from hub.payments.port import PaymentStatus, ProviderEvent, SignatureInvalid
from hub.payments.stripe import mapping

TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The header value Stripe would send (the sandbox signs with it too)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str | None, body: bytes, now: datetime,
           tolerance: int = TOLERANCE_SECONDS) -> None:
    if not secret:
        raise SignatureInvalid("no webhook signing secret is configured for this account")
    if not header:
        raise SignatureInvalid("no Stripe-Signature header")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise SignatureInvalid("the Stripe-Signature timestamp is not a number") from None
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        raise SignatureInvalid("the Stripe-Signature header has no timestamp or no v1 signature")
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    # Every candidate is compared (no early exit on a match) so the time taken says nothing about which one.
    matched = False
    for candidate in signatures:
        matched |= hmac.compare_digest(expected.encode(), candidate.encode())
    if not matched:
        raise SignatureInvalid("the Stripe-Signature does not match the body")
    if abs(now.timestamp() - timestamp) > tolerance:
        raise SignatureInvalid(f"the Stripe-Signature timestamp is more than {tolerance} s away from now")


class StripeNotifications:
    def __init__(self, webhook_secret: str) -> None:
        self.webhook_secret = webhook_secret

    def parse(self, headers: dict[str, str], body: bytes, now: datetime) -> ProviderEvent:
        lowered = {k.lower(): v for k, v in headers.items()}
        verify(self.webhook_secret, lowered.get("stripe-signature"), body, now)
        try:
            data = json.loads(body)
            event = mapping.event(data)
            if event is None:  # a kind the hub does not follow: recorded, and reports nothing new
                obj = (data.get("data") or {}).get("object") or {}
                event = ProviderEvent(event_id=str(data["id"]), provider_id=str(obj.get("payment_intent")
                                                                                or obj.get("id") or ""),
                                      status=PaymentStatus.PENDING,
                                      occurred_at=datetime.fromtimestamp(int(data.get("created") or 0), now.tzinfo),
                                      raw=data)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise SignatureInvalid(f"a signed Stripe event that cannot be read: {exc}") from None
        return event

    def acknowledgement(self) -> tuple[int, str, str]:
        return 200, "application/json", '{"received": true}'
