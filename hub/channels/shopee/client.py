"""Shopee Open Platform v2 over HTTP: signing, the response envelope, token refresh, one method per endpoint.

Every call carries `partner_id`, `timestamp` (unix seconds, valid 5 minutes) and `sign` in the query;
shop calls also `access_token` and `shop_id`. `sign` is hex(HMAC-SHA256(partner_key, partner_id + path +
timestamp [+ access_token + shop_id])), computed in `HttpClient.prepare` so each retry is re-stamped and
re-signed. https://open.shopee.com/developer-guide/16 (API calls, signature calculation)

Errors come in the envelope `{request_id, error, message, warning, response}`, with HTTP 200 for most
business errors and 403 for auth/sign errors; a non-empty `error` is raised here as PermanentError
(or TransientError for server/busy errors).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests

from hub.errors import PermanentError, TransientError
from hub.outbound.audit import AuditSink, LogAudit
from hub.outbound.http import HttpClient, Response, RetryPolicy
from hub.outbound.pacing import Pacer

SERVICE = "shopee"
PAGE_SIZE_MAX = 100  # get_order_list page_size
DETAIL_BATCH_MAX = 50  # get_order_detail order_sn_list
ITEM_BASE_INFO_BATCH_MAX = 50  # get_item_base_info item_id_list
PRICE_LIST_MAX = 50  # update_price price_list: "Length should be between 1 to 50"
COMMENT_PAGE_MAX = 100  # get_comment page_size: 1 to 100
ORDER_WINDOW_SECONDS = 15 * 24 * 3600  # get_order_list: time_to - time_from <= 15 days
# Fields asked of get_order_detail; item_list and total_amount are what the mapping needs.
OPTIONAL_ORDER_FIELDS = (
    "buyer_user_id,buyer_username,estimated_shipping_fee,recipient_address,actual_shipping_fee,goods_to_declare,"
    "note,note_update_time,item_list,pay_time,dropshipper,dropshipper_phone,split_up,buyer_cancel_reason,"
    "cancel_by,cancel_reason,actual_shipping_fee_confirmed,buyer_cpf_id,fulfillment_flag,pickup_done_time,"
    "package_list,shipping_carrier,payment_method,total_amount,invoice_data,order_chargeable_weight_gram"
)
PUBLIC_PATHS = frozenset({"/api/v2/auth/access_token/get", "/api/v2/auth/token/get"})
# Client-side pacing: Shopee publishes no per-endpoint limits for v2, only (v1 error table) that more than 1000
# calls a minute are banned for an hour; the sandbox enforces 10/s with a burst of 20 (hub/sandbox/shopee), so
# the client keeps to that. Connection.options["rate_limit"] = (rate, burst) overrides it.
RATE_PER_SECOND = 10.0
RATE_BURST = 20.0
# Envelope errors worth retrying; error_too_many_request is Shopee's throttling error (v1 error table, HTTP 429).
TRANSIENT_ERRORS = frozenset({"error_server", "error_busy", "error_inner", "error_inner_error", "error_network",
                              "error_too_many_request"})
# An expired or revoked access token: the live API spells it "invalid_acceess_token" (sic), as integrators
# report; "invalid_access_token" is accepted too.
TOKEN_ERRORS = frozenset({"invalid_acceess_token", "invalid_access_token"})
DOCS = "https://open.shopee.com/documents/v2/"


def is_throttled(response: Response) -> bool:
    """An envelope saying error_too_many_request under a 2xx status (HTTP 429 is counted by HttpClient)."""
    if response.status >= 300 or "error_too_many_request" not in response.text:
        return False
    try:
        return json.loads(response.text).get("error") == "error_too_many_request"
    except (ValueError, AttributeError):
        return False


class ShopeeError(PermanentError):
    def __init__(self, message: str, *, error: str, status: int | None = None):
        super().__init__(message, status=status)
        self.error = error


class ShopeeTransientError(TransientError):
    pass


def sign(partner_key: str, partner_id: str, path: str, timestamp: int, access_token: str = "",
         shop_id: str = "") -> str:
    base = f"{partner_id}{path}{timestamp}{access_token}{shop_id}"
    return hmac.new(partner_key.encode(), base.encode(), hashlib.sha256).hexdigest()


@dataclass
class Tokens:
    access_token: str
    refresh_token: str
    expires_at: float | None = None


class ShopeeClient:
    def __init__(self, base_url: str, *, partner_id: str, partner_key: str, shop_id: str, access_token: str,
                 refresh_token: str = "", audit: AuditSink | None = None, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.time, retry: RetryPolicy | None = None,
                 on_tokens: Callable[[Tokens], None] | None = None, pacer: Pacer | None = None,
                 timeout: tuple[float, float] = (5.0, 30.0)):
        self.partner_id = str(partner_id)
        self.partner_key = partner_key
        self.shop_id = str(shop_id)
        self.tokens = Tokens(access_token, refresh_token)
        self.clock = clock
        self.on_tokens = on_tokens
        # The pacer waits before each attempt, ahead of signing, so the signed timestamp is the sending time.
        self.http = HttpClient(base_url, SERVICE, audit=audit or LogAudit(), prepare=self._sign, sleep=sleep,
                               retry=retry or RetryPolicy(), pace=pacer.acquire if pacer else None,
                               throttled=is_throttled, timeout=timeout)

    # --- signing and the envelope ------------------------------------------------------------
    def _sign(self, prepared: requests.PreparedRequest) -> None:
        parts = urlsplit(prepared.url or "")
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        stamp = int(self.clock())
        query["partner_id"] = self.partner_id
        query["timestamp"] = str(stamp)
        if parts.path in PUBLIC_PATHS:
            query.pop("access_token", None)
            query.pop("shop_id", None)
            query["sign"] = sign(self.partner_key, self.partner_id, parts.path, stamp)
        else:
            query["access_token"] = self.tokens.access_token
            query["shop_id"] = self.shop_id
            query["sign"] = sign(self.partner_key, self.partner_id, parts.path, stamp, self.tokens.access_token,
                                 self.shop_id)
        prepared.url = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query, safe=","), ""))

    def call(self, method: str, path: str, *, params: Mapping[str, Any] | None = None, body: Any = None,
             refreshed: bool = False, idempotent: bool | None = None) -> dict[str, Any]:
        """One signed call; the parsed envelope. HTTP 429/5xx are retried by HttpClient; a transient error in an
        HTTP 200 envelope is retried here with the same policy; an expired access token is refreshed once.

        HttpClient writes Decimals in the body as exact JSON numbers. With `idempotent=True` (a call setting
        absolute values) a 2xx body cut short in transit is asked for again."""
        policy = self.http.retry
        for attempt in range(1, policy.attempts + 1):
            if idempotent is None:
                response = self.http.request(method, path, params=params, json_body=body, ok=(400, 401, 403, 404))
                envelope = response.json()
            else:
                envelope, response = self.http.request_json(
                    method, path, params=params, json_body=body, ok=(400, 401, 403, 404), idempotent=idempotent)
                if response.status >= 300:
                    envelope = response.json()
            if not isinstance(envelope, dict):
                raise PermanentError(f"shopee: {path} answered {response.status} with a body that is not an object")
            error = str(envelope.get("error") or "")
            if not error and response.status < 300:
                return envelope
            message = str(envelope.get("message") or "")
            summary = f"shopee: {path} answered {response.status} {error or 'error'}: {message}"
            if error in TOKEN_ERRORS and self.tokens.refresh_token and not refreshed and path not in PUBLIC_PATHS:
                self.refresh_access_token()
                return self.call(method, path, params=params, body=body, refreshed=True, idempotent=idempotent)
            if error not in TRANSIENT_ERRORS:
                raise ShopeeError(summary, error=error or "error", status=response.status)
            if attempt == policy.attempts:
                raise ShopeeTransientError(summary, status=response.status)
            self.http.sleep(min(policy.max_seconds, policy.initial_seconds * 2 ** (attempt - 1)))
        raise AssertionError("unreachable")

    # --- endpoints -----------------------------------------------------------------------------
    def refresh_access_token(self) -> Tokens:
        """v2.public.refresh_access_token: a new access token (4 h) and a NEW refresh token, which must be kept.
        https://open.shopee.com/documents/v2/v2.public.refresh_access_token?module=104&type=1"""
        envelope = self.call("POST", "/api/v2/auth/access_token/get", body={
            "refresh_token": self.tokens.refresh_token, "partner_id": int(self.partner_id),
            "shop_id": int(self.shop_id)})
        expire_in = envelope.get("expire_in")
        self.tokens = Tokens(str(envelope["access_token"]), str(envelope["refresh_token"]),
                             self.clock() + int(expire_in) if expire_in is not None else None)
        if self.on_tokens is not None:
            self.on_tokens(self.tokens)
        return self.tokens

    def get_order_list(self, time_from: int, time_to: int, cursor: str = "", page_size: int = PAGE_SIZE_MAX,
                       ) -> dict[str, Any]:
        """v2.order.get_order_list by update_time: `response {more, next_cursor, order_list: [{order_sn}]}`.
        https://open.shopee.com/documents/v2/v2.order.get_order_list?module=94&type=1"""
        if time_to - time_from > ORDER_WINDOW_SECONDS:
            raise ValueError("get_order_list covers at most 15 days; split the range")
        return self.call("GET", "/api/v2/order/get_order_list", params={
            "time_range_field": "update_time", "time_from": time_from, "time_to": time_to,
            "page_size": min(page_size, PAGE_SIZE_MAX), "cursor": cursor})

    def get_order_detail(self, order_sns: list[str]) -> dict[str, Any]:
        """v2.order.get_order_detail for at most 50 order numbers: `response.order_list[]`.
        https://open.shopee.com/documents/v2/v2.order.get_order_detail?module=94&type=1"""
        if len(order_sns) > DETAIL_BATCH_MAX:
            raise ValueError(f"get_order_detail takes at most {DETAIL_BATCH_MAX} order numbers")
        return self.call("GET", "/api/v2/order/get_order_detail", params={
            "order_sn_list": ",".join(order_sns), "response_optional_fields": OPTIONAL_ORDER_FIELDS})

    def get_item_list(self, offset: int = 0, page_size: int = 100, item_status: str = "NORMAL") -> dict[str, Any]:
        """v2.product.get_item_list: `response {item: [{item_id, item_status, update_time}], has_next_page,
        next_offset, total_count}`. https://open.shopee.com/documents/v2/v2.product.get_item_list?module=89&type=1"""
        return self.call("GET", "/api/v2/product/get_item_list", params={
            "offset": offset, "page_size": page_size, "item_status": item_status})

    def get_item_base_info(self, item_ids: list[int]) -> dict[str, Any]:
        """v2.product.get_item_base_info: `response.item_list[] {item_id, item_sku, has_model, ...}`.
        https://open.shopee.com/documents/v2/v2.product.get_item_base_info?module=89&type=1"""
        if len(item_ids) > ITEM_BASE_INFO_BATCH_MAX:
            raise ValueError(f"get_item_base_info takes at most {ITEM_BASE_INFO_BATCH_MAX} items")
        return self.call("GET", "/api/v2/product/get_item_base_info",
                         params={"item_id_list": ",".join(str(i) for i in item_ids)})

    def get_model_list(self, item_id: int) -> dict[str, Any]:
        """v2.product.get_model_list: `response {tier_variation, model: [{model_id, model_sku, ...}]}`.
        https://open.shopee.com/documents/v2/v2.product.get_model_list?module=89&type=1"""
        return self.call("GET", "/api/v2/product/get_model_list", params={"item_id": item_id})

    def update_stock(self, item_id: int, stocks: list[tuple[int, int]]) -> dict[str, Any]:
        """v2.product.update_stock for ONE item: `{item_id, stock_list: [{model_id, seller_stock: [{stock}]}]}` ->
        `response {success_list, failure_list}`. model_id 0 for an item without variants.
        https://open.shopee.com/documents/v2/v2.product.update_stock?module=89&type=1"""
        return self.call("POST", "/api/v2/product/update_stock", body={
            "item_id": item_id,
            "stock_list": [{"model_id": model_id, "seller_stock": [{"stock": stock}]} for model_id, stock in stocks]})

    def update_price(self, item_id: int, prices: list[tuple[int, Decimal]]) -> dict[str, Any]:
        """v2.product.update_price for ONE item: `{item_id, price_list: [{model_id, original_price}]}` with 1 to 50
        entries -> `response {success_list: [{model_id, original_price}], failure_list: [{model_id,
        failed_reason}]}`. original_price is a JSON number in the shop currency's major units; model_id 0 for an
        item without variants. Sets absolute prices, so a cut answer may be asked for again.
        https://open.shopee.com/documents/v2/v2.product.update_price?module=89&type=1"""
        if not 1 <= len(prices) <= PRICE_LIST_MAX:
            raise ValueError(f"update_price takes 1 to {PRICE_LIST_MAX} prices per call")
        if any(not isinstance(price, Decimal) for _, price in prices):
            raise TypeError("update_price takes Decimal prices")
        return self.call("POST", "/api/v2/product/update_price", idempotent=True, body={
            "item_id": item_id,
            "price_list": [{"model_id": model_id, "original_price": price} for model_id, price in prices]})

    def get_comment(self, cursor: str = "", page_size: int = COMMENT_PAGE_MAX, *, item_id: int | None = None,
                    ) -> dict[str, Any]:
        """v2.product.get_comment: the shop's buyer comments (ratings), up to 1000, by cursor; no time filter.
        `response {item_comment_list: [{comment_id, order_sn, item_id, model_id_list, rating_star, comment,
        buyer_username, hidden, create_time, media: {image_url_list, video_url_list}, comment_reply}], more,
        next_cursor}`. https://open.shopee.com/documents/v2/v2.product.get_comment?module=89&type=1"""
        params: dict[str, Any] = {"cursor": cursor, "page_size": max(1, min(page_size, COMMENT_PAGE_MAX))}
        if item_id is not None:
            params["item_id"] = item_id
        return self.call("GET", "/api/v2/product/get_comment", params=params)

    def ship_order(self, order_sn: str, *, package_number: str = "", pickup: dict[str, Any] | None = None,
                   dropoff: dict[str, Any] | None = None, non_integrated: dict[str, Any] | None = None,
                   ) -> dict[str, Any]:
        """v2.logistics.ship_order: arrange shipment with exactly one of pickup / dropoff / non_integrated
        (`non_integrated: {tracking_number}` for a seller's own carrier).
        https://open.shopee.com/documents/v2/v2.logistics.ship_order?module=95&type=1"""
        chosen = [m for m in (pickup, dropoff, non_integrated) if m is not None]
        if len(chosen) != 1:
            raise ValueError("ship_order takes exactly one of pickup, dropoff, non_integrated")
        body: dict[str, Any] = {"order_sn": order_sn}
        if package_number:
            body["package_number"] = package_number
        for name, value in (("pickup", pickup), ("dropoff", dropoff), ("non_integrated", non_integrated)):
            if value is not None:
                body[name] = value
        return self.call("POST", "/api/v2/logistics/ship_order", body=body)


