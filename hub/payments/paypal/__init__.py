"""PayPal adapter (Orders v2, Payments v2, webhooks), loaded by name by the payments core."""

from __future__ import annotations

from collections.abc import Mapping

from hub.outbound.http import HttpClient
from hub.payments.paypal.client import PayPalClient
from hub.payments.paypal.notifications import PayPalNotifications
from hub.payments.paypal.provider import PayPalProvider
from hub.payments.port import NotificationParser, PaymentProvider

NAME = "paypal"
CREDENTIAL_FIELDS = ("client_id", "client_secret", "webhook_id")


def _client(credentials: Mapping[str, str], http: HttpClient) -> PayPalClient:
    return PayPalClient(http, credentials["client_id"], credentials["client_secret"])


def provider(base_url: str, credentials: Mapping[str, str], http: HttpClient) -> PaymentProvider:
    """`base_url` is https://api-m.paypal.com (live) or https://api-m.sandbox.paypal.com; `http` is built
    on it by the caller, so it is not used here beyond that."""
    return PayPalProvider(_client(credentials, http))


def notifications(base_url: str, credentials: Mapping[str, str], http: HttpClient) -> NotificationParser:
    return PayPalNotifications(_client(credentials, http), credentials["webhook_id"])


__all__ = ["CREDENTIAL_FIELDS", "NAME", "PayPalClient", "notifications", "provider"]
