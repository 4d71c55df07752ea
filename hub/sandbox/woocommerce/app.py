"""A WooCommerce REST API v3 stand-in: https://woocommerce.github.io/woocommerce-rest-api-docs/

Auth as WC_REST_Authentication does it: Basic over HTTPS, one-legged OAuth 1.0a over plain HTTP (signature,
15-minute timestamp window, nonce replay), failures answered 401 with WooCommerce's error body
`{code, message, data: {status}}`; a request without credentials reaches the route as a guest and is
refused by its permission check (woocommerce_rest_cannot_view, ..._edit, ..._create, ..._batch).

Rate limiting: core WooCommerce has none on /wc/v3. `rate_limit=(limit, seconds)` puts in front the
fixed-window limiter WooCommerce ships for its Store API (RateLimit-Limit/-Remaining/-Reset headers, 429
`rate_limit_exceeded` with Retry-After), as a host or proxy would.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from babel.numbers import get_currency_name, get_currency_symbol
from flask import Flask, Response, g, request

from hub.channels.woocommerce.client import oauth_signature
from hub.sandbox.faults import Faults
from hub.sandbox.woocommerce.state import CONSUMER_KEY, CONSUMER_SECRET, SITE_OFFSET, STATUSES, ShopState

API = "/wp-json/wc/v3"
OAUTH_WINDOW_SECONDS = 15 * 60
BATCH_LIMIT = 100
OAUTH_PARAMS = ("oauth_consumer_key", "oauth_timestamp", "oauth_nonce", "oauth_signature", "oauth_signature_method")


def wp_error(code: str, message: str, status: int, headers: dict[str, str] | None = None, **data: Any) -> Response:
    body = json.dumps({"code": code, "message": message, "data": {"status": status, **data}})
    return Response(body, status=status, mimetype="application/json", headers=headers or {})


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False), status=status, mimetype="application/json",
                    headers=headers or {})


class FixedWindow:
    def __init__(self, limit: int, seconds: int, clock: Callable[[], float]) -> None:
        self.limit, self.seconds, self.clock = limit, seconds, clock
        self.window_start = -math.inf
        self.used = 0

    def take(self) -> tuple[bool, dict[str, str]]:
        now = self.clock()
        if now >= self.window_start + self.seconds:
            self.window_start, self.used = now, 0
        reset = self.window_start + self.seconds
        allowed = self.used < self.limit
        if allowed:
            self.used += 1
        headers = {"RateLimit-Limit": str(self.limit), "RateLimit-Remaining": str(self.limit - self.used),
                   "RateLimit-Reset": str(math.ceil(reset))}
        if not allowed:
            headers["RateLimit-Retry-After"] = headers["Retry-After"] = str(max(1, math.ceil(reset - now)))
        return allowed, headers


def create_app(seed: int = 42, orders: int = 200, clock: Callable[[], float] | None = None,
               faults: Faults | None = None, rate_limit: tuple[int, int] | None = None,
               currency: str = "EUR", malformed_order_rate: float = 0.0) -> Flask:
    """`currency` is the shop's own (one of state.RATE_FROM_EUR): product prices are kept in it.
    `malformed_order_rate`: that share of orders (seeded) is served without `currency`, which the connector
    rejects."""
    clock = clock or (lambda: datetime.now(UTC).timestamp())
    state = ShopState(seed=seed, order_count=orders, clock=clock, currency=currency,
                      malformed_order_rate=malformed_order_rate)
    faults = faults or Faults(seed=seed)
    limiter = FixedWindow(*rate_limit, clock=clock) if rate_limit else None
    app = Flask("woocommerce-sandbox")
    app.extensions["sandbox"] = state
    app.extensions["faults"] = faults

    # --- auth, faults, limits ---------------------------------------------------------------------------------
    def authenticate() -> Response | None:
        g.user = None
        if request.is_secure:
            auth = request.authorization
            if auth and auth.type == "basic" and auth.username and auth.password:
                if auth.username != CONSUMER_KEY:
                    return None
                if auth.password != CONSUMER_SECRET:
                    return wp_error("woocommerce_rest_authentication_error", "Consumer secret is invalid.", 401,
                                    {"WWW-Authenticate": 'Basic realm="WooCommerce API. Use a consumer key in the '
                                     'username field and a consumer secret in the password field."'})
                g.user = CONSUMER_KEY
            return None
        params: dict[str, str] = {**request.args.to_dict(), **request.form.to_dict()}
        if not any(params.get(name) for name in OAUTH_PARAMS):
            return None  # a guest
        missing = [name for name in OAUTH_PARAMS if not params.get(name)]
        if missing:
            word = "parameter" if len(missing) == 1 else "parameters"
            return wp_error("woocommerce_rest_authentication_missing_parameter",
                            f"Missing OAuth {word} {', '.join(missing)}", 401)
        if params["oauth_consumer_key"] != CONSUMER_KEY:
            return wp_error("woocommerce_rest_authentication_error", "Consumer key is invalid.", 401)
        method = params["oauth_signature_method"]
        if method not in ("HMAC-SHA1", "HMAC-SHA256"):
            return wp_error("woocommerce_rest_authentication_error",
                            "Invalid signature - signature method is invalid.", 401)
        given = unquote(params["oauth_signature"].replace(" ", "+"))
        url = request.host_url.rstrip("/") + request.path
        expected = oauth_signature(CONSUMER_SECRET, request.method, url, params, method)
        if not _equal(expected, given):
            return wp_error("woocommerce_rest_authentication_error",
                            "Invalid signature - provided signature does not match.", 401)
        try:
            timestamp = int(params["oauth_timestamp"])
        except ValueError:
            timestamp = 0
        now = clock()
        if timestamp < now - OAUTH_WINDOW_SECONDS or timestamp > now + OAUTH_WINDOW_SECONDS:
            return wp_error("woocommerce_rest_authentication_error", "Invalid timestamp.", 401)
        if not state.use_nonce(params["oauth_nonce"], timestamp, OAUTH_WINDOW_SECONDS):
            return wp_error("woocommerce_rest_authentication_error",
                            "Invalid nonce - nonce has already been used.", 401)
        g.user = CONSUMER_KEY
        return None

    @app.before_request
    def gate() -> Response | None:
        g.limit_headers = {}
        if not request.path.startswith(API):
            return None
        faults.delay()
        if faults.take_throttle():
            return wp_error("rate_limit_exceeded", "Too many requests. Please wait 1 seconds before trying again.",
                            429, {"Retry-After": "1", "RateLimit-Retry-After": "1"})
        if limiter is not None:
            allowed, g.limit_headers = limiter.take()
            if not allowed:
                wait = g.limit_headers["Retry-After"]
                return wp_error("rate_limit_exceeded",
                                f"Too many requests. Please wait {wait} seconds before trying again.", 429,
                                g.limit_headers)
        if faults.roll(faults.error_rate):
            return json_response({"code": "internal_server_error",
                                  "message": "<p>There has been a critical error on this website.</p>",
                                  "data": {"status": 500}, "additional_errors": []}, 500)
        return authenticate()

    @app.after_request
    def finish(response: Response) -> Response:
        for name, value in getattr(g, "limit_headers", {}).items():
            response.headers.setdefault(name, value)
        if request.path.startswith(API) and response.status_code == 200 and faults.roll(faults.malformed_rate):
            text = response.get_data()
            response.set_data(text[: len(text) // 2])
        return response

    def guest(code: str, message: str) -> Response | None:
        return None if g.user else wp_error(code, message, 401)

    def invalid_param(name: str, reason: str) -> Response:
        return wp_error("rest_invalid_param", f"Invalid parameter(s): {name}", 400, params={name: reason})

    def int_arg(name: str, default: int) -> int | Response:
        raw = request.args.get(name)
        if raw is None:
            return default
        try:
            return int(raw)
        except ValueError:
            return invalid_param(name, f"{name} is not of type integer.")

    # --- orders ------------------------------------------------------------------------------------------------
    @app.get(f"{API}/orders")
    def list_orders() -> Response:
        refused = guest("woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        if refused:
            return refused
        page, per_page = int_arg("page", 1), int_arg("per_page", 10)
        if isinstance(page, Response):
            return page
        if isinstance(per_page, Response):
            return per_page
        if not 1 <= per_page <= 100:
            return invalid_param("per_page", "per_page must be between 1 (inclusive) and 100 (inclusive)")
        if page < 1:
            return invalid_param("page", "page must be greater than or equal to 1")
        use_gmt = request.args.get("dates_are_gmt", "false").lower() in ("1", "true")
        after = request.args.get("modified_after")
        with state.lock:
            rows = list(state.orders.values())
        if after:
            try:
                parsed = datetime.fromisoformat(after.replace("Z", "+00:00"))
            except ValueError:
                return invalid_param("modified_after", "Invalid date.")
            field = "date_modified_gmt" if use_gmt else "date_modified"
            if parsed.tzinfo is not None:
                parsed = parsed.astimezone(UTC).replace(tzinfo=None)
                field = "date_modified_gmt"
            rows = [o for o in rows if datetime.fromisoformat(o[field]) > parsed]  # WP_Date_Query: strictly after
        status = request.args.get("status", "any")
        if status != "any":
            rows = [o for o in rows if o["status"] in status.split(",")]
        else:
            rows = [o for o in rows if o["status"] != "trash"]  # "any" leaves the bin out, as WordPress does
        orderby = request.args.get("orderby", "date")
        key = {"id": lambda o: o["id"], "date": lambda o: (o["date_created_gmt"], o["id"]),
               "modified": lambda o: (o["date_modified_gmt"], o["id"])}.get(orderby)
        if key is None:
            return invalid_param("orderby", "orderby is not one of date, id, include, title, slug, modified.")
        rows.sort(key=key, reverse=request.args.get("order", "desc") == "desc")
        total = len(rows)
        pages = math.ceil(total / per_page)
        if page > pages and total > 0:
            return wp_error("woocommerce_rest_invalid_page_number",
                            "The page number requested is larger than the number of pages available.", 400)
        start = (page - 1) * per_page
        chosen = rows[start:start + per_page]
        if faults.repeat_across_pages and page > 1 and start - 1 < total:
            chosen = [rows[start - 1], *chosen]
        base = request.base_url
        query = {k: v for k, v in request.args.items() if not k.startswith("oauth_")}
        links = []
        for rel, number in (("prev", page - 1), ("next", page + 1)):
            if 1 <= number <= pages:
                href = base + "?" + "&".join(f"{k}={v}" for k, v in {**query, "page": number}.items())
                links.append(f'<{href}>; rel="{rel}"')
        headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
        if links:
            headers["Link"] = ", ".join(links)
        return json_response([state.served(o) for o in chosen], headers=headers)

    def find_order(order_id: int) -> dict[str, Any] | None:
        return state.orders.get(order_id)

    @app.get(f"{API}/orders/<int:order_id>")
    def get_order(order_id: int) -> Response:
        refused = guest("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource.")
        if refused:
            return refused
        order = find_order(order_id)
        if order is None:
            return wp_error("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 404)
        return json_response(state.served(order))

    @app.route(f"{API}/orders/<int:order_id>", methods=["PUT", "POST", "PATCH"])
    def update_order(order_id: int) -> Response:
        refused = guest("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource.")
        if refused:
            return refused
        if find_order(order_id) is None:
            return wp_error("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 400)
        body = request.get_json(silent=True) or {}
        if "status" in body:
            if body["status"] not in STATUSES:
                return invalid_param("status", f"status is not one of {', '.join(STATUSES)}.")
            return json_response(state.set_status(order_id, body["status"]))
        return json_response(find_order(order_id))

    @app.post(f"{API}/orders/<int:order_id>/notes")
    def create_note(order_id: int) -> Response:
        refused = guest("woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources.")
        if refused:
            return refused
        if find_order(order_id) is None:
            return wp_error("woocommerce_rest_order_invalid_id", "Invalid order ID.", 404)
        body = request.get_json(silent=True) or {}
        if not body.get("note"):
            return wp_error("rest_missing_callback_param", "Missing parameter(s): note", 400, params=["note"])
        return json_response(state.add_note(order_id, str(body["note"]), bool(body.get("customer_note"))), 201)

    # --- products ----------------------------------------------------------------------------------------------
    @app.get(f"{API}/products")
    def list_products() -> Response:
        refused = guest("woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        if refused:
            return refused
        rows = sorted(state.products.values(), key=lambda p: p["id"])
        if request.args.get("sku"):
            wanted = {s.strip() for s in request.args["sku"].split(",")}
            rows = [p for p in rows if p["sku"] in wanted]
        if request.args.get("include"):
            ids = {int(i) for i in request.args["include"].split(",") if i.strip().isdigit()}
            rows = [p for p in rows if p["id"] in ids]
        per_page = int_arg("per_page", 10)
        if isinstance(per_page, Response):
            return per_page
        if not 1 <= per_page <= 100:
            return invalid_param("per_page", "per_page must be between 1 (inclusive) and 100 (inclusive)")
        return json_response(rows[:per_page], headers={"X-WP-Total": str(len(rows)),
                                                       "X-WP-TotalPages": str(math.ceil(len(rows) / per_page))})

    @app.get(f"{API}/products/reviews")
    def list_reviews() -> Response:
        """As WC_REST_Product_Reviews_Controller::get_items: `after`/`before` on the site-local comment_date,
        status approved by default (`all` for every one), orderby date (default), date_gmt or id."""
        refused = guest("woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        if refused:
            return refused
        page, per_page = int_arg("page", 1), int_arg("per_page", 10)
        if isinstance(page, Response):
            return page
        if isinstance(per_page, Response):
            return per_page
        if not 1 <= per_page <= 100:
            return invalid_param("per_page", "per_page must be between 1 (inclusive) and 100 (inclusive)")
        status = request.args.get("status", "approved")
        if status not in ("all", "approved", "hold", "spam", "trash"):
            return invalid_param("status", "status is not one of all, hold, approved, spam, trash.")
        with state.lock:
            rows = [r for r in state.reviews.values() if status == "all" or r["status"] == status]
        for name, keep in (("after", lambda r, at: datetime.fromisoformat(r["date_created"]) > at),
                           ("before", lambda r, at: datetime.fromisoformat(r["date_created"]) < at)):
            if request.args.get(name):
                try:
                    moment = datetime.fromisoformat(request.args[name].replace("Z", "+00:00"))
                except ValueError:
                    return invalid_param(name, "Invalid date.")
                if moment.tzinfo is not None:  # WordPress reads the date in the site's zone
                    moment = moment.astimezone(SITE_OFFSET).replace(tzinfo=None)
                rows = [r for r in rows if keep(r, moment)]
        if request.args.get("product"):
            products = {int(i) for i in request.args["product"].split(",") if i.strip().isdigit()}
            rows = [r for r in rows if r["product_id"] in products]
        orderby = request.args.get("orderby", "date_gmt")
        key = {"id": lambda r: r["id"], "date": lambda r: (r["date_created"], r["id"]),
               "date_gmt": lambda r: (r["date_created_gmt"], r["id"])}.get(orderby)
        if key is None:
            return invalid_param("orderby", "orderby is not one of date, date_gmt, id, include, product.")
        rows.sort(key=key, reverse=request.args.get("order", "desc") == "desc")
        total = len(rows)
        pages = math.ceil(total / per_page)
        start = (page - 1) * per_page
        return json_response(rows[start:start + per_page],
                             headers={"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)})

    @app.post(f"{API}/products/batch")
    def batch_products() -> Response:
        refused = guest("woocommerce_rest_cannot_batch",
                        "Sorry, you are not allowed to batch manipulate this resource.")
        if refused:
            return refused
        body = request.get_json(silent=True) or {}
        items = sum(len(body.get(k) or []) for k in ("create", "update", "delete"))
        if items > BATCH_LIMIT:
            return wp_error("woocommerce_rest_request_entity_too_large",
                            f"Unable to accept more than {BATCH_LIMIT} items for this request.", 413)
        answer = []
        for item in body.get("update") or []:
            product = state.products.get(item.get("id")) if isinstance(item, dict) else None
            if product is None:
                answer.append({"id": item.get("id") if isinstance(item, dict) else 0,
                               "error": {"code": "woocommerce_rest_product_invalid_id", "message": "Invalid ID.",
                                         "data": {"status": 400}}})
                continue
            if "regular_price" in item:
                refused_price = price_error(item["regular_price"])
                if refused_price:
                    answer.append({"id": item["id"], "error": refused_price})
                    continue
            with state.lock:
                if "regular_price" in item:
                    state.set_regular_price(item["id"], item["regular_price"])
                if "manage_stock" in item:
                    product["manage_stock"] = bool(item["manage_stock"])
                if "stock_quantity" in item:
                    product["stock_quantity"] = int(item["stock_quantity"])
                    product["stock_status"] = "instock" if product["stock_quantity"] > 0 else "outofstock"
                product["date_modified_gmt"] = state.now().replace(tzinfo=None).isoformat(timespec="seconds")
            answer.append(dict(product))
        return json_response({"update": answer})

    # --- data ----------------------------------------------------------------------------------------------------
    @app.get(f"{API}/data/currencies/current")
    def current_currency() -> Response:
        refused = guest("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource.")
        if refused:
            return refused
        code = state.currency
        return json_response({"code": code, "name": get_currency_name(code, locale="en_US"),
                              "symbol": get_currency_symbol(code, locale="en_US"),
                              "_links": {"self": [{"href": f"{request.host_url.rstrip('/')}{API}/data/currencies/"
                                                           f"{code}"}]}})

    @app.errorhandler(404)
    @app.errorhandler(405)
    def no_route(error: Exception) -> Response:
        if request.path.startswith("/wp-json/"):
            return wp_error("rest_no_route", "No route was found matching the URL and request method.", 404)
        return Response("Not Found", status=404)

    # --- sandbox introspection ---------------------------------------------------------------------------------
    @app.get("/_sandbox/products")
    def sandbox_products() -> Response:
        return json_response(sorted(state.products.values(), key=lambda p: p["id"]))

    @app.get("/_sandbox/orders/<int:order_id>")
    def sandbox_order(order_id: int) -> Response:
        order = find_order(order_id)
        return json_response({**order, "notes": state.notes.get(order_id, [])}) if order else Response(status=404)

    @app.post("/_sandbox/tick")
    @app.post("/_sandbox/advance")  # the name the other sandboxes use
    def sandbox_tick() -> Response:
        body = request.get_json(silent=True) or {}
        return json_response({"changed": state.tick(int(body.get("count", 5)), body.get("seed"))})

    @app.post("/_sandbox/reviews")
    def sandbox_add_review() -> Response:
        """A buyer reviews a product: {product_id, rating, review, reviewer, status?}."""
        body = request.get_json(silent=True) or {}
        if body.get("product_id") not in state.products or body.get("rating") not in range(0, 6):
            return wp_error("rest_invalid_param", "product_id must be a product and rating 0 to 5", 400)
        return json_response(state.add_review(int(body["product_id"]), int(body["rating"]),
                                              str(body.get("review") or ""), str(body.get("reviewer") or "Buyer"),
                                              status=str(body.get("status") or "approved")), 201)

    @app.post("/_sandbox/faults")
    def sandbox_faults() -> Response:
        faults.update(**(request.get_json(silent=True) or {}))
        return json_response({"ok": True})

    return app


def price_error(value: Any) -> dict[str, Any] | None:
    """Why a batch item's regular_price is refused, as a per-item error, or None. The product schema types it a
    string ("Product regular price."), a decimal with `.` as separator, or "" for no price; a JSON number would
    go through PHP floats (wc_format_decimal), so it is refused here rather than rounded."""
    if not isinstance(value, str):
        reason = "regular_price is not of type string."
    elif value == "" or re.fullmatch(r"\d+(\.\d+)?", value):
        return None
    else:
        reason = "regular_price is not a non-negative decimal number."
    return {"code": "rest_invalid_param", "message": "Invalid parameter(s): regular_price",
            "data": {"status": 400, "params": {"regular_price": reason}}}


def _equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def signed_webhook(order: dict[str, Any], secret: str, topic: str = "order.updated") -> tuple[dict[str, str], bytes]:
    """A delivery as WooCommerce sends it: the order JSON and X-WC-Webhook-* headers."""
    body = json.dumps(order, ensure_ascii=False).encode()
    signature = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    resource, _, event = topic.partition(".")
    headers = {"Content-Type": "application/json", "X-WC-Webhook-Source": "http://127.0.0.1/",
               "X-WC-Webhook-Topic": topic, "X-WC-Webhook-Resource": resource, "X-WC-Webhook-Event": event,
               "X-WC-Webhook-Signature": signature, "X-WC-Webhook-ID": "1",
               "X-WC-Webhook-Delivery-ID": str(abs(hash(body)) % 10_000)}
    return headers, body
