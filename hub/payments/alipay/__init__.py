"""Alipay adapter (open API gateway, RSA2; page pay, query, refund, close, async notify), loaded by name."""

from __future__ import annotations

from collections.abc import Mapping

from hub.outbound.http import HttpClient
from hub.payments.alipay.client import AlipayClient
from hub.payments.alipay.notifications import AlipayNotifications
from hub.payments.alipay.provider import AlipayProvider
from hub.payments.alipay.signing import load_private_key, load_public_key
from hub.payments.port import NotificationParser, PaymentProvider

NAME = "alipay"
# app_private_key: the app's RSA2 private key (PEM or the console's base64); alipay_public_key: Alipay's key.
CREDENTIAL_FIELDS = ("app_id", "app_private_key", "alipay_public_key")


def provider(base_url: str, credentials: Mapping[str, str], http: HttpClient) -> PaymentProvider:
    """`base_url` is https://openapi.alipay.com (live) or https://openapi-sandbox.dl.alipaydev.com; `http`
    is built on it by the caller."""
    client = AlipayClient(http, credentials["app_id"], load_private_key(credentials["app_private_key"]),
                          load_public_key(credentials["alipay_public_key"]))
    return AlipayProvider(client)


def notifications(base_url: str, credentials: Mapping[str, str], http: HttpClient) -> NotificationParser:
    return AlipayNotifications(credentials["app_id"], load_public_key(credentials["alipay_public_key"]))


__all__ = ["CREDENTIAL_FIELDS", "NAME", "AlipayClient", "notifications", "provider"]
