"""HTTP client of the DHL Express MyDHL API (REST, v2): one method per endpoint.
https://developer.dhl.com/api-reference/dhl-express-mydhl-api

Auth: HTTP Basic with the API user name and password. Every call carries `Message-Reference` (28-36 characters,
DHL's id of the request) and `Message-Reference-Date`; for the shipment call the reference is the hub's
idempotency key, so a retry after a lost answer is recognised as the same request. Errors come as
`{"instance", "detail", "title", "message", "status"}`.

MyDHL has no call to void a shipment: an air waybill that is never scanned is not billed.
"""

from __future__ import annotations

import email.utils
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hub.logistics.http import BasicAuth
from hub.outbound.audit import AuditSink, LogAudit
from hub.outbound.http import HttpClient, RetryPolicy
from hub.timeutil import utcnow

DOCS = "https://developer.dhl.com/api-reference/dhl-express-mydhl-api"


def message_headers(reference: str | None = None) -> dict[str, str]:
    return {"Message-Reference": reference or f"hub-{uuid.uuid4().hex}",
            "Message-Reference-Date": email.utils.format_datetime(utcnow(), usegmt=True)}


@dataclass
class DhlClient:
    http: HttpClient

    @classmethod
    def build(cls, base_url: str, username: str, password: str, *, audit: AuditSink | None = None,
              sleep: Callable[[float], None] | None = None, retry: RetryPolicy | None = None,
              timeout: tuple[float, float] = (5.0, 30.0)) -> DhlClient:
        extra: dict[str, Any] = {"sleep": sleep} if sleep else {}
        return cls(HttpClient(base_url=base_url, service="dhl", timeout=timeout, retry=retry or RetryPolicy(),
                              audit=audit or LogAudit(), prepare=BasicAuth(username, password), **extra))

    def rates(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST /rates (many pieces): {DOCS}#operations-rating-exp-api-rates-many. Rating changes nothing."""
        result, _ = self.http.request_json("POST", "/rates", json_body=body, headers=message_headers(),
                                           idempotent=True)
        return result

    def create_shipment(self, body: dict[str, Any], reference: str) -> dict[str, Any]:
        """POST /shipments: {DOCS}#operations-shipment-exp-api-shipments

        `reference` goes in Message-Reference on every attempt: the same reference gives back the shipment
        already created instead of a second air waybill, so the call is marked idempotent."""
        result, _ = self.http.request_json("POST", "/shipments", json_body=body, headers=message_headers(reference),
                                           idempotent=True)
        return result

    def track(self, tracking_number: str) -> dict[str, Any]:
        """GET /shipments/{shipmentTrackingNumber}/tracking: {DOCS}#operations-tracking-exp-api-shipments-tracking"""
        result, _ = self.http.request_json("GET", f"/shipments/{tracking_number}/tracking",
                                           params={"trackingView": "all-checkpoints", "levelOfDetail": "all"},
                                           headers=message_headers())
        return result
