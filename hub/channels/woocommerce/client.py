"""HTTP client of the WooCommerce REST API v3: one method per endpoint, auth as WooCommerce checks it.

Authentication (https://woocommerce.github.io/woocommerce-rest-api-docs/#authentication):

- over HTTPS, HTTP Basic with consumer_key:consumer_secret;
- over plain HTTP, OAuth 1.0a "one-legged": oauth_consumer_key, oauth_timestamp, oauth_nonce,
  oauth_signature_method and oauth_signature in the query string, the signature an HMAC-SHA1 keyed with
  `consumer_secret + "&"` over `METHOD&rawurlencode(url)&params`, where the parameters are sorted by name,
  each name and value RFC 3986 encoded, joined `name=value`, and each pair encoded once more and joined
  with `%26` (WC_REST_Authentication::check_oauth_signature, `join_with_equals_sign`). The server keeps
  the nonces of the last 15 minutes and refuses timestamps further than 15 minutes away.

Core WooCommerce has no rate limit of its own (hosts and proxies add theirs). Where one answers with the
`RateLimit-Limit/-Remaining/-Reset` headers of WooCommerce's own (Store API) limiter
(https://developer.woocommerce.com/docs/apis/store-api/rate-limiting/; Reset is a Unix timestamp), they are
read into `last_rate_limit` and, once Remaining is 0, the next call waits until Reset instead of drawing a 429.
A 429 that comes anyway is retried by HttpClient after its Retry-After.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import requests

from hub.errors import PermanentError
from hub.outbound.audit import AuditSink, CallRecord
from hub.outbound.http import HttpClient, Response

API = "/wp-json/wc/v3"
MAX_PER_PAGE = 100  # WordPress REST collections refuse per_page above 100
RATE_LIMIT_MAX_WAIT = 120.0  # never trust a RateLimit-Reset further off than this (as Retry-After's cap)


def rfc3986(value: str) -> str:
    """PHP rawurlencode: everything but A-Z a-z 0-9 - _ . ~ is percent-encoded."""
    return quote(value, safe="~")


def oauth_base_string(method: str, url: str, params: Mapping[str, str]) -> str:
    """The string WooCommerce signs: `METHOD&rawurlencode(url without query)&encoded sorted params`."""
    parts = urlsplit(url)
    base_url = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    pairs = [rfc3986(f"{rfc3986(k)}={rfc3986(v)}") for k, v in sorted(params.items()) if k != "oauth_signature"]
    return f"{method.upper()}&{rfc3986(base_url)}&{'%26'.join(pairs)}"


def oauth_signature(secret: str, method: str, url: str, params: Mapping[str, str], algorithm: str = "HMAC-SHA1") -> str:
    digest = {"HMAC-SHA1": hashlib.sha1, "HMAC-SHA256": hashlib.sha256}[algorithm]
    mac = hmac.new(f"{secret}&".encode(), oauth_base_string(method, url, params).encode(), digest)
    return base64.b64encode(mac.digest()).decode()


@dataclass
class OAuthSigner:
    """Adds one-legged OAuth 1.0a query parameters to a prepared request (fresh nonce on every attempt)."""

    consumer_key: str
    consumer_secret: str
    clock: Callable[[], float] = time.time
    nonce: Callable[[], str] = lambda: secrets.token_hex(16)

    def __call__(self, request: requests.PreparedRequest) -> None:
        parts = urlsplit(request.url or "")
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        params.update(oauth_consumer_key=self.consumer_key, oauth_nonce=self.nonce(),
                      oauth_signature_method="HMAC-SHA1", oauth_timestamp=str(int(self.clock())))
        params["oauth_signature"] = oauth_signature(self.consumer_secret, request.method or "GET", request.url or "",
                                                    params)
        query = "&".join(f"{rfc3986(k)}={rfc3986(v)}" for k, v in params.items())
        request.url = urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


@dataclass
class BasicAuth:
    consumer_key: str
    consumer_secret: str

    def __call__(self, request: requests.PreparedRequest) -> None:
        token = base64.b64encode(f"{self.consumer_key}:{self.consumer_secret}".encode()).decode()
        request.headers["Authorization"] = f"Basic {token}"


OAUTH_SECRET_PARAMS = frozenset({"oauth_consumer_key", "oauth_signature", "oauth_nonce"})


@dataclass
class OAuthRedactingAudit:
    """Passes call records on with the OAuth key, nonce and signature blanked out of the URL (the shared
    redaction knows consumer_key and signature, not their oauth_ names)."""

    inner: AuditSink

    def record(self, call: CallRecord) -> None:
        parts = urlsplit(call.url)
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        query = [(k, "***" if k in OAUTH_SECRET_PARAMS else v) for k, v in pairs]
        url = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query, safe="*:,[]"), ""))
        self.inner.record(replace(call, url=url))


@dataclass(frozen=True)
class Page:
    items: list[Any]
    total: int | None  # X-WP-Total
    total_pages: int | None  # X-WP-TotalPages
    next_url: str | None  # Link rel="next"


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class WooCommerceClient:
    def __init__(self, base_url: str, consumer_key: str, consumer_secret: str, *, audit: AuditSink,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time,
                 timeout: tuple[float, float] = (5.0, 30.0)) -> None:
        if urlsplit(base_url).scheme == "https":
            prepare: Callable[[requests.PreparedRequest], None] = BasicAuth(consumer_key, consumer_secret)
        else:
            prepare = OAuthSigner(consumer_key, consumer_secret, clock=clock)
        self.http = HttpClient(base_url, "woocommerce", audit=OAuthRedactingAudit(audit), prepare=prepare,
                               sleep=sleep, pace=self._pace, timeout=timeout)
        self.last_rate_limit: dict[str, str] = {}
        self.clock = clock  # wall time (Unix seconds): RateLimit-Reset is a timestamp
        self.sleep = sleep

    def _pace(self) -> None:
        """Before each attempt: when the last answer said the window is spent, wait for its reset."""
        headers = {k.lower(): v for k, v in self.last_rate_limit.items()}
        try:
            remaining = int(headers["ratelimit-remaining"])
            reset = float(headers["ratelimit-reset"])
        except (KeyError, ValueError):
            return
        if remaining > 0:
            return
        wait = min(reset - self.clock(), RATE_LIMIT_MAX_WAIT)
        self.last_rate_limit = {}  # one wait per spent window; the next answer says how the new one stands
        if wait > 0:
            self.sleep(wait)

    def _call(self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json_body: Any = None,
              idempotent: bool | None = None) -> tuple[Any, Response]:
        """The JSON body and the response; a body cut short on the way is asked for again, like any transport
        fault, when the call may be repeated (GET, or `idempotent=True`)."""
        body, response = self.http.request_json(method, API + path, params=params, json_body=json_body,
                                                idempotent=idempotent)
        self.last_rate_limit = {k: v for k, v in response.headers.items() if k.lower().startswith("ratelimit-")}
        return body, response

    def list_orders(self, *, modified_after: str, page: int, per_page: int = MAX_PER_PAGE) -> Page:
        """GET /orders, oldest id first. https://woocommerce.github.io/woocommerce-rest-api-docs/#list-all-orders

        `modified_after` is ISO 8601 without an offset, read as UTC because of dates_are_gmt=true; the
        match is strictly after. Ordering by id keeps pages stable while orders are modified meanwhile.
        """
        params = {"modified_after": modified_after, "dates_are_gmt": "true", "orderby": "id", "order": "asc",
                  "page": str(page), "per_page": str(min(per_page, MAX_PER_PAGE))}
        body, response = self._call("GET", "/orders", params=params)
        if not isinstance(body, list):
            raise PermanentError(f"woocommerce: GET /orders answered a {type(body).__name__}, not a list")
        links = requests.utils.parse_header_links(response.headers.get("Link", ""))
        next_url = next((link.get("url") for link in links if link.get("rel") == "next"), None)
        return Page(body, _int_header(response.headers, "X-WP-Total"),
                    _int_header(response.headers, "X-WP-TotalPages"), next_url)

    def get_order(self, order_id: str) -> dict[str, Any]:
        """GET /orders/<id>. https://woocommerce.github.io/woocommerce-rest-api-docs/#retrieve-an-order"""
        body, _ = self._call("GET", f"/orders/{quote(order_id, safe='')}")
        return body

    def update_order(self, order_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """PUT /orders/<id>. https://woocommerce.github.io/woocommerce-rest-api-docs/#update-an-order"""
        body, _ = self._call("PUT", f"/orders/{quote(order_id, safe='')}", json_body=dict(changes),
                             idempotent=True)  # sets fields to given values: the same again changes nothing
        return body

    def create_order_note(self, order_id: str, note: str, *, customer_note: bool) -> dict[str, Any]:
        """POST /orders/<id>/notes. https://woocommerce.github.io/woocommerce-rest-api-docs/#create-an-order-note"""
        body, _ = self._call("POST", f"/orders/{quote(order_id, safe='')}/notes",
                             json_body={"note": note, "customer_note": customer_note})
        return body

    def list_products_by_sku(self, skus: list[str]) -> list[dict[str, Any]]:
        """GET /products?sku=a,b,c (comma-separated SKUs). https://woocommerce.github.io/woocommerce-rest-api-docs/#list-all-products"""
        body, _ = self._call("GET", "/products", params={"sku": ",".join(skus), "per_page": str(MAX_PER_PAGE)})
        if not isinstance(body, list):
            raise PermanentError(f"woocommerce: GET /products answered a {type(body).__name__}, not a list")
        return body

    def current_currency(self) -> str:
        """GET /data/currencies/current: the shop's currency code, in which product prices are kept.
        https://woocommerce.github.io/woocommerce-rest-api-docs/#retrieve-current-currency"""
        body, _ = self._call("GET", "/data/currencies/current")
        code = body.get("code") if isinstance(body, dict) else None
        if not isinstance(code, str) or not code:
            raise PermanentError(f"woocommerce: GET /data/currencies/current gave no currency code: {body!r}")
        return code

    def batch_update_prices(self, prices: list[tuple[int, str]]) -> dict[str, Any]:
        """POST /products/batch {update: [{id, regular_price}, ...]}: sets regular prices, at most 100 products a
        call (the batch cap, shared with every other batch update). regular_price is a string, a decimal with `.`
        in the shop's currency. The answer lists, in request order, each product as it now is, or
        `{id, error: {code, message, data}}` for one that could not be updated.
        https://woocommerce.github.io/woocommerce-rest-api-docs/#batch-update-products
        (fields: https://woocommerce.github.io/woocommerce-rest-api-docs/#product-properties)"""
        body, _ = self._call("POST", "/products/batch",
                             json_body={"update": [{"id": pid, "regular_price": price} for pid, price in prices]},
                             idempotent=True)  # absolute prices: the same again changes nothing
        if not isinstance(body, dict):
            raise PermanentError(f"woocommerce: POST /products/batch answered a {type(body).__name__}, not an object")
        return body

    def batch_products(self, update: list[dict[str, Any]]) -> dict[str, Any]:
        """POST /products/batch {update: [...]}. https://woocommerce.github.io/woocommerce-rest-api-docs/#batch-update-products"""
        body, _ = self._call("POST", "/products/batch", json_body={"update": update},
                             idempotent=True)  # absolute stock quantities: the same again changes nothing
        return body

    # --- reviews ---------------------------------------------------------------------------------------------
    def list_reviews(self, *, after: str, page: int, per_page: int = MAX_PER_PAGE) -> Page:
        """GET /products/reviews, oldest id first, every status (approved, hold, spam, trash).
        https://woocommerce.github.io/woocommerce-rest-api-docs/#list-all-product-reviews

        `after` (ISO 8601) goes into WP_Comment_Query's date_query on `comment_date`, the site-local time: the
        caller widens it by the largest UTC offset and filters on date_created_gmt itself."""
        params = {"after": after, "status": "all", "orderby": "id", "order": "asc", "page": str(page),
                  "per_page": str(min(per_page, MAX_PER_PAGE))}
        body, response = self._call("GET", "/products/reviews", params=params)
        if not isinstance(body, list):
            raise PermanentError(f"woocommerce: GET /products/reviews answered a {type(body).__name__}, not a list")
        return Page(body, _int_header(response.headers, "X-WP-Total"),
                    _int_header(response.headers, "X-WP-TotalPages"), None)

    def list_products_by_id(self, ids: list[int]) -> list[dict[str, Any]]:
        """GET /products?include=1,2,3 (at most 100 ids). https://woocommerce.github.io/woocommerce-rest-api-docs/#list-all-products"""
        body, _ = self._call("GET", "/products", params={"include": ",".join(str(i) for i in ids),
                                                         "per_page": str(MAX_PER_PAGE)})
        if not isinstance(body, list):
            raise PermanentError(f"woocommerce: GET /products answered a {type(body).__name__}, not a list")
        return body
