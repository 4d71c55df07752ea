"""From a PaymentAccount row to a live adapter: each provider package (hub.payments.<name>) exposes NAME,
CREDENTIAL_FIELDS, provider(base_url, credentials, http) and notifications(base_url, credentials, http); this
module opens the account's sealed credentials and builds the audited HttpClient they all call through."""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from sqlalchemy.orm import Session, sessionmaker

from hub.channels.secrets import CredentialBox
from hub.errors import NotFound
from hub.outbound.audit import AuditSink, LogAudit
from hub.outbound.audit_store import DbAudit
from hub.outbound.http import HttpClient, RetryPolicy
from hub.payments.models import PaymentAccount
from hub.payments.port import NotificationParser, PaymentProvider

KNOWN = ("stripe", "paypal", "alipay")


def package(name: str) -> ModuleType:
    if name not in KNOWN:
        raise NotFound(f"no payment provider {name!r}")
    try:
        module = importlib.import_module(f"hub.payments.{name}")
    except ImportError:
        raise NotFound(f"the payment provider {name!r} is not installed") from None
    if getattr(module, "NAME", None) != name:
        raise NotFound(f"the payment provider {name!r} is not installed")
    return module


@dataclass
class Providers:
    """Builds adapters for accounts. `sessions` set: every call is audited in external_calls; `sleep` and
    `retry` let tests retry without waiting."""

    box: CredentialBox
    sessions: sessionmaker[Session] | None = None
    timeout: tuple[float, float] = (5.0, 30.0)
    retry: RetryPolicy | None = None
    sleep: Callable[[float], None] = time.sleep

    def http(self, account: PaymentAccount) -> HttpClient:
        audit: AuditSink = DbAudit(self.sessions, seller_id=account.seller_id) if self.sessions else LogAudit()
        return HttpClient(account.base_url, service=account.provider, timeout=self.timeout,
                          retry=self.retry or RetryPolicy(), audit=audit, sleep=self.sleep)

    def provider(self, account: PaymentAccount) -> PaymentProvider:
        return package(account.provider).provider(account.base_url, self.box.open(account.credentials_encrypted),
                                                  self.http(account))

    def notifications(self, account: PaymentAccount) -> NotificationParser:
        return package(account.provider).notifications(account.base_url,
                                                       self.box.open(account.credentials_encrypted),
                                                       self.http(account))
