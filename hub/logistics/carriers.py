"""From a stored carrier account to the adapter that speaks its API (credentials opened only in memory)."""

from __future__ import annotations

from collections.abc import Callable

from hub.channels.secrets import CredentialBox
from hub.errors import PermanentError
from hub.logistics.dhl.adapter import DhlCarrier
from hub.logistics.dhl.client import DhlClient
from hub.logistics.easypost.adapter import EasyPostCarrier
from hub.logistics.easypost.client import EasyPostClient
from hub.logistics.models import CarrierAccount
from hub.logistics.port import CarrierPort
from hub.outbound.audit import AuditSink
from hub.outbound.http import RetryPolicy

# What the services take to reach carriers: hand-written fakes in service tests, carrier_for in the app.
CarrierFactory = Callable[[CarrierAccount], CarrierPort]

REQUIRED = {"easypost": ("api_key",), "dhl": ("username", "password", "account_number")}


def carrier_for(account: CarrierAccount, box: CredentialBox, *, audit: AuditSink | None = None,
                sleep: Callable[[float], None] | None = None, retry: RetryPolicy | None = None,
                timeout: tuple[float, float] = (5.0, 30.0)) -> CarrierPort:
    credentials = box.open(account.credentials)
    missing = [name for name in REQUIRED.get(account.kind, ()) if not credentials.get(name)]
    if missing:
        raise PermanentError(f"carrier account {account.name} lacks {', '.join(missing)}", code="account_incomplete")
    if account.kind == "easypost":
        return EasyPostCarrier(EasyPostClient.build(account.base_url, credentials["api_key"], audit=audit,
                                                    sleep=sleep, retry=retry, timeout=timeout))
    if account.kind == "dhl":
        client = DhlClient.build(account.base_url, credentials["username"], credentials["password"], audit=audit,
                                 sleep=sleep, retry=retry, timeout=timeout)
        return DhlCarrier(client, credentials["account_number"])
    raise PermanentError(f"no carrier adapter for {account.kind!r}", code="unknown_carrier")
