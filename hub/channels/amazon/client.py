"""HTTP client for the Amazon Selling Partner API: Login with Amazon tokens, usage-plan pacing, one method per
endpoint. Every call goes through `hub.outbound.http.HttpClient` (timeouts, retries of 5xx, audit records).

- Auth: an LWA access token from `POST /auth/o2/token` (grant_type=refresh_token) is sent as
  `x-amz-access-token`; it lives an hour and is cached until shortly before it expires, and refreshed once when
  SP-API answers 401/403 (`Unauthorized`, e.g. "The access token you provided has expired.").
  https://developer-docs.amazon.com/sp-api/docs/connecting-to-the-selling-partner-api
- Usage plans are token buckets per operation (rate per second, burst). Every response carries
  `x-amzn-RateLimit-Limit` (the rate applied); the client keeps a bucket per operation with that rate and the
  documented burst and waits (Connection.sleep) before a call would be refused. A 429 `QuotaExceeded` is
  answered by waiting one token's time and trying again.
  https://developer-docs.amazon.com/sp-api/docs/usage-plans-and-rate-limits
- Pacing and token expiry read Connection.clock (monotonic; tests fake it together with Connection.sleep).

Options (Connection.options): `lwa_endpoint` (default https://api.amazon.com/auth/o2/token; a sandbox serves it
on its own base URL). Credentials: `client_id`, `client_secret`, `refresh_token`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from hub.channels.registry import Connection
from hub.errors import PermanentError, TransientError
from hub.outbound.http import HttpClient
from hub.outbound.pacing import HEADROOM, shared

LWA_ENDPOINT = "https://api.amazon.com/auth/o2/token"
TOKEN_REFRESH_MARGIN_SECONDS = 60.0  # refresh this long before the token's stated expiry
MAX_THROTTLED_ATTEMPTS = 6  # 429s answered with a wait before giving up (as a TransientError)
SAFETY_FACTOR = 1.01  # wait a little longer than the bucket needs: clocks and rounding differ

# operation -> (requests per second, burst): the documented default usage plans.
USAGE_PLANS: dict[str, tuple[float, float]] = {
    "getOrders": (0.0167, 20),
    "getOrder": (0.5, 30),
    "getOrderItems": (0.5, 30),
    "confirmShipment": (2.0, 10),
    "getListingsItem": (5.0, 10),
    "patchListingsItem": (5.0, 5),
}


@dataclass
class Pacer:
    """The client's own copy of a usage plan's token bucket: how long to wait before the next call."""

    rate: float
    burst: float
    clock: Callable[[], float]
    tokens: float = -1.0
    at: float = 0.0

    def __post_init__(self) -> None:
        if self.tokens < 0:
            self.tokens = self.burst
            self.at = self.clock()

    def wait(self) -> float:
        """Spend one token; the seconds to sleep first (0 when one is available)."""
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + max(0.0, now - self.at) * self.rate)
        self.at = max(self.at, now)
        if self.tokens >= 1 - 1e-9:  # a token refilled to 0.999999999 by float arithmetic is a token
            self.tokens -= 1
            return 0.0
        seconds = (1 - self.tokens) / self.rate * SAFETY_FACTOR
        self.tokens = 0.0
        self.at += seconds  # the token refills while we sleep
        return seconds

    def empty(self) -> float:
        """The server said the bucket is empty: wait one token's time."""
        self.tokens = 0.0
        self.at = max(self.at, self.clock())
        return 1 / self.rate


class AmazonClient:
    def __init__(self, connection: Connection) -> None:
        credentials = connection.credentials
        missing = [k for k in ("client_id", "client_secret", "refresh_token") if not credentials.get(k)]
        if missing:
            raise PermanentError(f"amazon: credentials lack {', '.join(missing)}")
        self._credentials = credentials
        self._sleep = connection.sleep
        self._clock = connection.clock
        self.http = HttpClient(connection.base_url, service="amazon", audit=connection.audit, sleep=connection.sleep,
                               timeout=connection.timeout)
        self._lwa_endpoint = str(connection.options.get("lwa_endpoint") or LWA_ENDPOINT)
        self.lwa = HttpClient(self._lwa_endpoint, service="amazon-lwa", audit=connection.audit,
                              timeout=connection.timeout, sleep=connection.sleep)
        self._token: str | None = None
        self._token_good_until = 0.0
        self.pacers: dict[str, Pacer] = {}

    # --- Login with Amazon -------------------------------------------------------------------
    def request_access_token(self) -> dict[str, Any]:
        """Exchange the refresh token for an access token.
        https://developer-docs.amazon.com/sp-api/docs/connecting-to-the-selling-partner-api#step-1-request-a-login-with-amazon-access-token
        """
        form = {"grant_type": "refresh_token", "refresh_token": self._credentials["refresh_token"],
                "client_id": self._credentials["client_id"], "client_secret": self._credentials["client_secret"]}
        body = self.lwa.request("POST", self._lwa_endpoint, data=form,
                                headers={"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"}).json()
        if not isinstance(body, dict) or not body.get("access_token"):
            raise PermanentError("amazon-lwa: token answer without access_token")
        return body

    def access_token(self, *, fresh: bool = False) -> str:
        if fresh or self._token is None or self._clock() >= self._token_good_until:
            body = self.request_access_token()
            lifetime = float(body.get("expires_in") or 3600)
            self._token = str(body["access_token"])
            self._token_good_until = self._clock() + max(0.0, lifetime - TOKEN_REFRESH_MARGIN_SECONDS)
        return self._token

    # --- the calls ---------------------------------------------------------------------------
    def _pacer(self, operation: str) -> Pacer:
        if operation not in self.pacers:
            rate, burst = USAGE_PLANS[operation]
            # Under the plan's numbers, not at them (hub.outbound.pacing.HEADROOM): at the limit, calls that
            # arrive closer together than they were sent are refused now and then.
            self.pacers[operation] = shared(
                ("amazon", self.http.base_url, self._credentials["client_id"], operation, self._clock),
                lambda: Pacer(rate * HEADROOM, max(1.0, float(int(burst * HEADROOM))), self._clock))
        return self.pacers[operation]

    def call(self, operation: str, method: str, path: str, *, params: Mapping[str, Any] | None = None,
             json_body: Any = None, idempotent: bool | None = None) -> Any:
        """One SP-API operation: paced by its usage plan, authenticated, 429 and expired tokens handled. Returns
        the JSON body (None for 204). A body cut short in transit is asked for again by HttpClient when the
        operation may be repeated: reads, and what the caller marks `idempotent`."""
        pacer = self._pacer(operation)
        refreshed = False
        throttled = 0
        while True:
            wait = pacer.wait()
            if wait:
                self._sleep(wait)
            headers = {"x-amz-access-token": self.access_token(), "Accept": "application/json"}
            body, response = self.http.request_json(method, path, params=params, json_body=json_body,
                                                    headers=headers, ok=(401, 403, 429), idempotent=idempotent)
            limit = _rate_limit(response.headers.get("x-amzn-RateLimit-Limit"))
            if limit:
                pacer.rate = limit * HEADROOM
            if response.status == 429:
                throttled += 1
                if throttled >= MAX_THROTTLED_ATTEMPTS:
                    raise TransientError(f"amazon: {operation} still throttled after {throttled} tries", status=429,
                                         retry_after=1 / pacer.rate)
                self._sleep(pacer.empty())
                continue
            if response.status in (401, 403):
                if refreshed:
                    raise PermanentError(f"amazon: {operation} refused ({response.status}): {response.text[:300]}",
                                         status=response.status)
                self.access_token(fresh=True)
                refreshed = True
                continue
            return body

    def get_orders(self, marketplace_ids: list[str], *, last_updated_after: str | None = None,
                   next_token: str | None = None, max_results: int = 100) -> dict[str, Any]:
        """getOrders: `GET /orders/v0/orders`; with NextToken the other filters are ignored.
        https://developer-docs.amazon.com/sp-api/docs/orders-api-v0-reference#getorders
        """
        params: dict[str, Any] = {"MarketplaceIds": ",".join(marketplace_ids)}
        if next_token:
            params["NextToken"] = next_token
        else:
            params["LastUpdatedAfter"] = last_updated_after
            params["MaxResultsPerPage"] = max(1, min(100, max_results))
        return self.call("getOrders", "GET", "/orders/v0/orders", params=params)

    def get_order(self, order_id: str) -> dict[str, Any]:
        """getOrder: `GET /orders/v0/orders/{orderId}`.
        https://developer-docs.amazon.com/sp-api/docs/orders-api-v0-reference#getorder
        """
        return self.call("getOrder", "GET", f"/orders/v0/orders/{quote(order_id, safe='')}")

    def get_order_items(self, order_id: str, *, next_token: str | None = None) -> dict[str, Any]:
        """getOrderItems: `GET /orders/v0/orders/{orderId}/orderItems`, paged by NextToken.
        https://developer-docs.amazon.com/sp-api/docs/orders-api-v0-reference#getorderitems
        """
        params = {"NextToken": next_token} if next_token else None
        return self.call("getOrderItems", "GET", f"/orders/v0/orders/{quote(order_id, safe='')}/orderItems",
                         params=params)

    def all_order_items(self, order_id: str) -> list[dict[str, Any]]:
        """Every getOrderItems page of one order, following NextToken."""
        pages = [self.get_order_items(order_id)]
        while token := (pages[-1].get("payload") or {}).get("NextToken"):
            pages.append(self.get_order_items(order_id, next_token=token))
        return pages

    def confirm_shipment(self, order_id: str, body: dict[str, Any]) -> None:
        """confirmShipment: `POST /orders/v0/orders/{orderId}/shipmentConfirmation`, 204 on success.
        https://developer-docs.amazon.com/sp-api/docs/orders-api-v0-reference#confirmshipment
        https://developer-docs.amazon.com/sp-api/docs/confirm-the-shipment-status
        """
        self.call("confirmShipment", "POST", f"/orders/v0/orders/{quote(order_id, safe='')}/shipmentConfirmation",
                  json_body=body, idempotent=True)  # the same packageReferenceId again edits that package

    def get_listings_item(self, seller_id: str, sku: str, marketplace_ids: list[str],
                          included_data: tuple[str, ...] = ("fulfillmentAvailability",)) -> dict[str, Any]:
        """getListingsItem: `GET /listings/2021-08-01/items/{sellerId}/{sku}?marketplaceIds=…&includedData=…`;
        with includedData=fulfillmentAvailability the answer has `fulfillmentAvailability: [{fulfillmentChannelCode,
        quantity}]`. An unknown SKU is a 404 (PermanentError, status 404).
        https://developer-docs.amazon.com/sp-api/docs/listings-items-api-v2021-08-01-reference#getlistingsitem
        """
        path = f"/listings/2021-08-01/items/{quote(seller_id, safe='')}/{quote(sku, safe='')}"
        return self.call("getListingsItem", "GET", path, params={"marketplaceIds": ",".join(marketplace_ids),
                                                                 "includedData": ",".join(included_data)})

    def patch_listings_item(self, seller_id: str, sku: str, marketplace_ids: list[str],
                            body: dict[str, Any]) -> dict[str, Any]:
        """patchListingsItem: `PATCH /listings/2021-08-01/items/{sellerId}/{sku}?marketplaceIds=…`.
        https://developer-docs.amazon.com/sp-api/docs/listings-items-api-v2021-08-01-reference#patchlistingsitem
        """
        path = f"/listings/2021-08-01/items/{quote(seller_id, safe='')}/{quote(sku, safe='')}"
        return self.call("patchListingsItem", "PATCH", path, params={"marketplaceIds": ",".join(marketplace_ids)},
                         json_body=body, idempotent=True)  # a "replace" of an absolute quantity

    def patch_listings_price(self, seller_id: str, sku: str, product_type: str, offers: list[dict[str, Any]],
                             marketplace_ids: list[str]) -> dict[str, Any]:
        """patchListingsItem replacing `/attributes/purchasable_offer`: the price of one SKU in the given
        marketplaces, one offer per marketplace: `{marketplace_id, currency, audience: "ALL",
        our_price: [{schedule: [{value_with_tax: <JSON number>}]}]}`. Decimal amounts are written as exact JSON
        numbers. Answers `{sku, status: ACCEPTED|INVALID, submissionId, issues}`.
        https://developer-docs.amazon.com/sp-api/docs/manage-purchasable-offer
        https://developer-docs.amazon.com/sp-api/reference/patchlistingsitem-1
        """
        body = {"productType": product_type, "patches": [
            {"op": "replace", "path": "/attributes/purchasable_offer", "value": offers}]}
        return self.patch_listings_item(seller_id, sku, marketplace_ids, body)  # a replace: safe to repeat




def _rate_limit(value: str | None) -> float | None:
    try:
        rate = float(value) if value else None
    except ValueError:
        return None
    return rate if rate and rate > 0 and rate == rate else None
