"""eBay REST APIs over hub.outbound.http: OAuth user tokens, Fulfillment API, Inventory API.

One method per endpoint, each with its reference page. Every call goes through `HttpClient` (timeouts,
retries of transient failures, audit records with secrets redacted, JSON numbers as Decimal).

Auth: a User access token (about 2 hours) minted from the seller's refresh token with the client id and
secret (https://developer.ebay.com/api-docs/static/oauth-refresh-token-request.html), cached until a
minute before it expires and minted again on expiry or when eBay answers 401 (errorId 1001).

Rate limits are daily call quotas per API (https://developer.ebay.com/develop/api/sell/api_call_limits);
eBay sends no rate-limit headers, so there are none to read: a spent quota is HTTP 429 with errorId 2001
"Too many requests", which HttpClient treats as transient (retried with backoff, Retry-After honoured
if ever sent).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

from hub.channels.registry import Connection
from hub.errors import AuthenticationFailed, PermanentError
from hub.outbound.http import HttpClient, Response, RetryPolicy

T = TypeVar("T")

TOKEN_PATH = "/identity/v1/oauth2/token"  # noqa: S105  (a path, not a secret)
FULFILLMENT = "/sell/fulfillment/v1"
INVENTORY = "/sell/inventory/v1"
DEFAULT_SCOPES = ("https://api.ebay.com/oauth/api_scope/sell.fulfillment "
                  "https://api.ebay.com/oauth/api_scope/sell.inventory")
TOKEN_MARGIN_SECONDS = 60.0  # mint a new token this long before the old one runs out


@dataclass
class _Token:
    value: str
    expires_at: float  # on the client's monotonic clock


class EbayClient:
    """Credentials: client_id, client_secret, refresh_token (and optionally scope)."""

    def __init__(self, connection: Connection, *, clock: Callable[[], float] = time.monotonic) -> None:
        missing = [k for k in ("client_id", "client_secret", "refresh_token") if not connection.credentials.get(k)]
        if missing:
            raise AuthenticationFailed(f"eBay credentials lack {', '.join(missing)}")
        self._credentials = connection.credentials
        self._clock = clock
        self._token: _Token | None = None
        retry = connection.options.get("retry", RetryPolicy())
        self.http = HttpClient(base_url=connection.base_url, service="ebay", audit=connection.audit,
                               timeout=connection.timeout,
                               prepare=self._authorize, sleep=connection.sleep, retry=retry)
        self.identity = HttpClient(base_url=connection.base_url, service="ebay-identity", audit=connection.audit,
                                   timeout=connection.timeout,
                                   sleep=connection.sleep, retry=retry, session=self.http.session)

    # --- auth -------------------------------------------------------------------------------------
    def refresh_access_token(self) -> str:
        """POST /identity/v1/oauth2/token with grant_type=refresh_token: a new User access token.

        https://developer.ebay.com/api-docs/static/oauth-refresh-token-request.html
        """
        pair = f"{self._credentials['client_id']}:{self._credentials['client_secret']}".encode()
        headers = {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii"),
                   "Content-Type": "application/x-www-form-urlencoded"}
        form = {"grant_type": "refresh_token", "refresh_token": self._credentials["refresh_token"],
                "scope": self._credentials.get("scope") or DEFAULT_SCOPES}
        try:  # idempotent: an answer cut in transit is asked for again, minting again is harmless
            body, _ = self.identity.request_json("POST", TOKEN_PATH, data=form, headers=headers, idempotent=True)
        except PermanentError as exc:
            if exc.status in (400, 401):
                raise AuthenticationFailed(f"eBay refused the refresh token: {exc.message}") from None
            raise
        token, lifetime = body.get("access_token"), body.get("expires_in")
        if not isinstance(token, str) or not token or not isinstance(lifetime, int):
            raise PermanentError(f"eBay token answer lacks access_token/expires_in: {sorted(body)}")
        self._token = _Token(token, self._clock() + lifetime - TOKEN_MARGIN_SECONDS)
        return token

    def _access_token(self) -> str:
        if self._token is None or self._clock() >= self._token.expires_at:
            return self.refresh_access_token()
        return self._token.value

    def _authorize(self, request: Any) -> None:
        request.headers["Authorization"] = f"Bearer {self._access_token()}"

    def _read(self, method: str, path: str, **kwargs: Any) -> Any:
        """A call whose JSON body is parsed; a body cut short in transit is fetched again when the call may be
        repeated (GET, or `idempotent=True`)."""
        body, _ = self._authorized(self.http.request_json, method, path, **kwargs)
        return body

    def _call(self, method: str, path: str, **kwargs: Any) -> Response:
        return self._authorized(self.http.request, method, path, **kwargs)

    def _authorized(self, send: Callable[..., T], method: str, path: str, **kwargs: Any) -> T:
        """A call with the cached token; on 401 the token is minted again and the call made once more."""
        try:
            return send(method, path, **kwargs)
        except PermanentError as exc:
            if exc.status != 401:
                raise
            self._token = None
            return send(method, path, **kwargs)

    # --- Fulfillment API ---------------------------------------------------------------------------
    def get_orders(self, *, filter: str, limit: int, offset: int, field_groups: str = "TAX_BREAKDOWN") -> Any:
        """GET /sell/fulfillment/v1/order?filter=…&limit=…&offset=…: one page of orders.

        https://developer.ebay.com/api-docs/sell/fulfillment/resources/order/methods/getOrders
        The filter's brackets are percent-encoded (`lastmodifieddate:%5B…..%5D`), as the page asks.
        `fieldGroups=TAX_BREAKDOWN` adds the breakdown of taxes and fees to each order.
        """
        query = (f"filter={quote(filter, safe=':.,-')}&limit={int(limit)}&offset={int(offset)}"
                 f"&fieldGroups={quote(field_groups)}")
        return self._read("GET", f"{FULFILLMENT}/order?{query}")

    def get_order(self, order_id: str, field_groups: str = "TAX_BREAKDOWN") -> Any:
        """GET /sell/fulfillment/v1/order/{orderId}: one order.

        https://developer.ebay.com/api-docs/sell/fulfillment/resources/order/methods/getOrder
        """
        return self._read("GET", f"{FULFILLMENT}/order/{quote(order_id, safe='')}?fieldGroups={field_groups}")

    def create_shipping_fulfillment(self, order_id: str, details: Mapping[str, Any]) -> str:
        """POST /sell/fulfillment/v1/order/{orderId}/shipping_fulfillment: the fulfilment id (from Location).

        https://developer.ebay.com/api-docs/sell/fulfillment/resources/order/shipping_fulfillment/methods/createShippingFulfillment
        Body: ShippingFulfillmentDetails {lineItems: [{lineItemId, quantity}], shippedDate, shippingCarrierCode,
        trackingNumber} (https://developer.ebay.com/api-docs/sell/fulfillment/types/sel:ShippingFulfillmentDetails).
        """
        response = self._call("POST", f"{FULFILLMENT}/order/{quote(order_id, safe='')}/shipping_fulfillment",
                              json_body=dict(details))
        location = response.headers.get("Location", "")
        return urlsplit(location).path.rstrip("/").rsplit("/", 1)[-1] if location else ""

    def get_shipping_fulfillments(self, order_id: str) -> Any:
        """GET /sell/fulfillment/v1/order/{orderId}/shipping_fulfillment: the order's fulfilments.

        https://developer.ebay.com/api-docs/sell/fulfillment/resources/order/shipping_fulfillment/methods/getShippingFulfillments
        """
        return self._read("GET", f"{FULFILLMENT}/order/{quote(order_id, safe='')}/shipping_fulfillment")

    # --- Inventory API -----------------------------------------------------------------------------
    def bulk_update_price_quantity(self, requests: list[dict[str, Any]]) -> Any:
        """POST /sell/inventory/v1/bulk_update_price_quantity: up to 25 SKUs; per-SKU/offer `statusCode`.

        https://developer.ebay.com/api-docs/sell/inventory/resources/inventory_item/methods/bulkUpdatePriceQuantity
        Body `{requests: [{sku, shipToLocationAvailability: {quantity}, offers: [{offerId, availableQuantity,
        price: {value: "19.99", currency: "USD"}}]}]}`: a price is an Amount whose `value` is a decimal string
        (https://developer.ebay.com/api-docs/sell/inventory/types/slr:OfferPriceQuantity). Only published offers
        are revised. Answers 200 when every item succeeded and 207 (Multi-Status) when some did not, each item
        of `responses` carrying sku, offerId, statusCode and errors.
        """
        return self._read("POST", f"{INVENTORY}/bulk_update_price_quantity", json_body={"requests": requests},
                          ok=(207,), idempotent=True)  # absolute quantities and prices: safe to send again

    def bulk_get_inventory_item(self, skus: list[str]) -> Any:
        """POST /sell/inventory/v1/bulk_get_inventory_item {requests: [{sku}]}: up to 25 inventory items at once.
        Answers `{responses: [{sku, statusCode, inventoryItem: {availability: {shipToLocationAvailability:
        {quantity}}}, errors}]}`, 200 when every SKU was found and 207 when some were not.

        https://developer.ebay.com/api-docs/sell/inventory/resources/inventory_item/methods/bulkGetInventoryItem
        (cap: https://developer.ebay.com/api-docs/sell/inventory/types/slr:BulkGetInventoryItem)
        """
        return self._read("POST", f"{INVENTORY}/bulk_get_inventory_item",
                          json_body={"requests": [{"sku": sku} for sku in skus]},
                          ok=(207,), idempotent=True)  # a read sent by POST: safe to send again

    def get_offers(self, sku: str) -> Any:
        """GET /sell/inventory/v1/offer?sku=…: the SKU's offers (offerId, marketplaceId, format, status,
        pricingSummary.price {value, currency}). A 404 (no offer for the SKU) returns eBay's `{errors: […]}` body.

        https://developer.ebay.com/api-docs/sell/inventory/resources/offer/methods/getOffers
        """
        body, response = self._authorized(self.http.request_json, "GET", f"{INVENTORY}/offer?sku={quote(sku, safe='')}",
                                          ok=(404,))
        return response.json() if response.status == 404 else body

    def get_inventory_item(self, sku: str) -> Any:
        """GET /sell/inventory/v1/inventory_item/{sku}: one inventory item with its availability.

        https://developer.ebay.com/api-docs/sell/inventory/resources/inventory_item/methods/getInventoryItem
        """
        return self._read("GET", f"{INVENTORY}/inventory_item/{quote(sku, safe='')}")
