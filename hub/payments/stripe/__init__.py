"""The Stripe adapter: PaymentIntents and refunds (client.py, mapping.py, provider.py) and signed webhooks
(notifications.py). Registered by NAME in hub.payments.registry, as the PayPal and Alipay packages are."""

from __future__ import annotations

from hub.outbound.http import HttpClient
from hub.payments.stripe.client import StripeClient
from hub.payments.stripe.notifications import StripeNotifications
from hub.payments.stripe.provider import StripeProvider

NAME = "stripe"
# secret_key: sk_live_… / sk_test_…; webhook_secret: the endpoint's whsec_… signing secret.
CREDENTIAL_FIELDS = ("secret_key", "webhook_secret")
DEFAULT_BASE_URL = "https://api.stripe.com"


def provider(base_url: str, credentials: dict[str, str], http: HttpClient) -> StripeProvider:
    return StripeProvider(StripeClient(http, credentials.get("secret_key", "")))


def notifications(base_url: str, credentials: dict[str, str], http: HttpClient) -> StripeNotifications:
    return StripeNotifications(credentials.get("webhook_secret", ""))


__all__ = ["CREDENTIAL_FIELDS", "NAME", "notifications", "provider"]
