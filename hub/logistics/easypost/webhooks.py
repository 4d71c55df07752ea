"""EasyPost webhook events: the signature check and the tracker events they carry.

https://docs.easypost.com/guides/webhooks-guide: each delivery is an Event `{"object": "Event", "id": "evt_...",
"description": "tracker.updated", "result": {<the tracker>}}`, signed in the header
`X-Hmac-Signature: hmac-sha256-hex=<hex HMAC-SHA256 of the raw body keyed with the webhook secret>`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from hub.errors import PermanentError
from hub.jsonexact import parse_json
from hub.logistics.easypost import mapping
from hub.logistics.port import TrackingUpdate

HEADER = "X-Hmac-Signature"
PREFIX = "hmac-sha256-hex="
TRACKER_EVENTS = frozenset({"tracker.created", "tracker.updated"})


class BadSignature(PermanentError):
    code = "bad_signature"
    http_status = 401


def signature(body: bytes, secret: str) -> str:
    return PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(headers: Mapping[str, str], body: bytes, secret: str) -> None:
    given = next((v for k, v in headers.items() if k.lower() == HEADER.lower()), "")
    if not secret or not given or not hmac.compare_digest(given.encode(), signature(body, secret).encode()):
        raise BadSignature("the webhook's signature does not match")


def parse(body: bytes) -> list[TrackingUpdate]:
    """The tracking update of a tracker event; nothing for the other events (batches, refunds, ...)."""
    try:
        event = parse_json(body.decode())
    except ValueError:  # UnicodeDecodeError included
        raise PermanentError("the webhook's body is not JSON") from None
    if not isinstance(event, dict) or event.get("description") not in TRACKER_EVENTS:
        return []
    result = event.get("result")
    if not isinstance(result, dict) or not result.get("tracking_code"):
        raise PermanentError("a tracker event without a tracker")
    return [mapping.tracker_update(result)]
