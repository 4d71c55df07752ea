"""HTTP client of the EasyPost API v2: one method per endpoint. https://docs.easypost.com/docs

Auth: HTTP Basic with the API key as the user name and no password (https://docs.easypost.com/docs/authentication).
Errors come as `{"error": {"code", "message", "errors": [...]}}`; HttpClient turns 429/5xx into TransientError and
retries them, any other 4xx into PermanentError, whose message carries the body (and so the error code).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hub.logistics.http import BasicAuth, BytesSession
from hub.outbound.audit import AuditSink, LogAudit
from hub.outbound.http import HttpClient, RetryPolicy

DOCS = "https://docs.easypost.com/docs"


@dataclass
class EasyPostClient:
    http: HttpClient
    files: HttpClient  # label downloads: same auth and audit, bytes kept whole

    @classmethod
    def build(cls, base_url: str, api_key: str, *, audit: AuditSink | None = None,
              sleep: Callable[[float], None] | None = None, retry: RetryPolicy | None = None,
              timeout: tuple[float, float] = (5.0, 30.0)) -> EasyPostClient:
        def client(**kw: Any) -> HttpClient:
            extra: dict[str, Any] = {"sleep": sleep} if sleep else {}
            return HttpClient(base_url=base_url, service="easypost", timeout=timeout, retry=retry or RetryPolicy(),
                              audit=audit or LogAudit(), prepare=BasicAuth(api_key), **extra, **kw)

        return cls(http=client(), files=client(session=BytesSession()))

    def create_shipment(self, shipment: dict[str, Any]) -> dict[str, Any]:
        """POST /v2/shipments: https://docs.easypost.com/docs/shipments#create-a-shipment

        Rates come back with the shipment. Marked idempotent: with a `reference` the same shipment is returned
        again, so a cut answer may be asked for once more."""
        body, _ = self.http.request_json("POST", "/v2/shipments", json_body={"shipment": shipment}, idempotent=True)
        return body

    def retrieve_shipment(self, shipment_id: str) -> dict[str, Any]:
        """GET /v2/shipments/{id}: https://docs.easypost.com/docs/shipments#retrieve-a-shipment"""
        body, _ = self.http.request_json("GET", f"/v2/shipments/{shipment_id}")
        return body

    def buy_shipment(self, shipment_id: str, rate_id: str) -> dict[str, Any]:
        """POST /v2/shipments/{id}/buy: https://docs.easypost.com/docs/shipments#buy-a-shipment

        Safe to send again: a shipment already bought is refused (422 SHIPMENT.POSTAGE.EXISTS), never charged
        twice; the adapter then reads the bought shipment."""
        body, _ = self.http.request_json("POST", f"/v2/shipments/{shipment_id}/buy",
                                         json_body={"rate": {"id": rate_id}}, idempotent=True)
        return body

    def refund_shipment(self, shipment_id: str) -> dict[str, Any]:
        """POST /v2/shipments/{id}/refund: https://docs.easypost.com/docs/shipments#refund-a-shipment"""
        body, _ = self.http.request_json("POST", f"/v2/shipments/{shipment_id}/refund", json_body={},
                                         idempotent=True)
        return body

    def create_tracker(self, tracking_code: str, carrier: str = "") -> dict[str, Any]:
        """POST /v2/trackers: https://docs.easypost.com/docs/trackers#create-a-tracker

        Deduplicated by EasyPost on carrier + tracking code: asking again returns the same tracker."""
        tracker = {"tracking_code": tracking_code, **({"carrier": carrier} if carrier else {})}
        body, _ = self.http.request_json("POST", "/v2/trackers", json_body={"tracker": tracker}, idempotent=True)
        return body

    def retrieve_tracker(self, tracker_id: str) -> dict[str, Any]:
        """GET /v2/trackers/{id}: https://docs.easypost.com/docs/trackers#retrieve-a-tracker"""
        body, _ = self.http.request_json("GET", f"/v2/trackers/{tracker_id}")
        return body

    def download_label(self, url: str) -> bytes:
        """GET postage_label.label_url (https://docs.easypost.com/docs/shipments/postage-label): the label file."""
        response = self.files.request("GET", url)
        return response.text.encode("latin-1")
