"""PayPal webhooks: verified by PayPal itself, through POST /v1/notifications/verify-webhook-signature.

https://developer.paypal.com/api/rest/webhooks/rest/#link-verifysignature — the five PAYPAL-* transmission
headers, the seller's webhook_id and the event as received go to PayPal, which answers
`verification_status` SUCCESS or FAILURE. Anything but SUCCESS — FAILURE, a missing header, a body that is
not a JSON object, a 4xx — is a SignatureInvalid; a PayPal that cannot be reached is a TransientError, so
the webhook is answered 5xx and PayPal sends it again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hub.errors import PermanentError, TransientError
from hub.jsonexact import parse_json
from hub.payments.paypal import mapping
from hub.payments.paypal.client import PayPalClient
from hub.payments.port import ProviderEvent, SignatureInvalid

HEADERS = {  # verification field -> header
    "auth_algo": "paypal-auth-algo",
    "cert_url": "paypal-cert-url",
    "transmission_id": "paypal-transmission-id",
    "transmission_sig": "paypal-transmission-sig",
    "transmission_time": "paypal-transmission-time",
}


class PayPalNotifications:
    def __init__(self, client: PayPalClient, webhook_id: str) -> None:
        self.client, self.webhook_id = client, webhook_id

    def parse(self, headers: dict[str, str], body: bytes, now: datetime) -> ProviderEvent:
        lower = {k.lower(): v for k, v in headers.items()}
        verification: dict[str, Any] = {}
        for name, header in HEADERS.items():
            if not lower.get(header):
                raise SignatureInvalid(f"PayPal webhook without the {header} header")
            verification[name] = lower[header]
        try:
            event = parse_json(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise SignatureInvalid("PayPal webhook body is not JSON") from None
        if not isinstance(event, dict):
            raise SignatureInvalid("PayPal webhook body is not an event object")
        verification["webhook_id"] = self.webhook_id
        verification["webhook_event"] = event
        try:
            status = self.client.verify_webhook_signature(verification)
        except TransientError:
            raise
        except PermanentError as exc:  # a 4xx (PaymentDeclined included): refused, whatever its issue
            raise SignatureInvalid(f"PayPal refused to verify the webhook: {exc}") from None
        if status != "SUCCESS":
            raise SignatureInvalid(f"PayPal webhook signature: {status}")
        return mapping.event(event)

    def acknowledgement(self) -> tuple[int, str, str]:
        return 200, "text/plain", "ok"
