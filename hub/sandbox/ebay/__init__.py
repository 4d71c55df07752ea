"""A local stand-in for eBay's OAuth, Fulfillment and Inventory REST APIs.

Speaks closely enough that the real connector runs unchanged against it:

- `POST /identity/v1/oauth2/token` (refresh-token grant, HTTP Basic client id:secret) mints User access tokens
  of 7200 s; every /sell call needs `Authorization: Bearer <token>`, else 401 errorId 1001 "Invalid access
  token" (https://developer.ebay.com/api-docs/static/oauth-refresh-token-request.html).
- `GET /sell/fulfillment/v1/order` with `filter=lastmodifieddate:[from..to]` (UTC, milliseconds, Z only:
  a local time is refused), `limit` 1..1000 (default 50), `offset`; orders of the last 90 days, oldest
  first (eBay's own sort order is not documented); answers `{href, total, limit, offset, next, prev,
  orders}`; eBay-collected tax is inside `pricingSummary.total`. `GET …/order/{orderId}`.
- `POST …/order/{orderId}/shipping_fulfillment` -> 201 + Location; `GET …/shipping_fulfillment[/{id}]`.
- `POST /sell/inventory/v1/bulk_update_price_quantity` (at most 25 requests and 25 offers; per-item statusCode;
  200 or 207; an offer's price `{value: "19.99", currency}` is checked against the offer: a decimal string above
  zero, in its marketplace's currency, within that currency's minor units, published offers only),
  `GET /sell/inventory/v1/offer?sku=…` (getOffers) and `GET /sell/inventory/v1/inventory_item/{sku}`.
- Daily call quotas per API (https://developer.ebay.com/develop/api/sell/api_call_limits): once spent,
  HTTP 429 with errorId 2001 "Too many requests" until the next (UTC) day. No rate-limit headers, as eBay.
- `POST /sell/inventory/v1/bulk_get_inventory_item` (bulkGetInventoryItem: at most 25 SKUs; per-SKU statusCode,
  200 or 207).
- Faults (hub.sandbox.faults): 500s, 429 bursts, latency, bodies cut in half, an order repeated across pages;
  `malformed_order_rate` orders served without orderPaymentStatus. `POST /_sandbox/advance {"count"}` ships
  that many open orders now.

Error ids other than 1001, 2001 and 25710 are the sandbox's own choice (marked below); bodies have eBay's
shape `{errors: [{errorId, domain, category, message}]}`.
"""

from __future__ import annotations

import base64
import copy
import json
import random
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from flask import Flask, Response, g, request

from hub.money import minor_units
from hub.sandbox.ebay import data
from hub.sandbox.faults import Faults
from hub.timeutil import utcnow

CLIENT_ID = "OrderHub-demo-PRD-5a1b2c3d4"
CLIENT_SECRET = "PRD-5a1b2c3d4e5f-sandbox"  # noqa: S105  (the sandbox's published demo secret)
REFRESH_TOKEN = "v^1.1#i^1#r^1#p^3#f^0#t^sandbox-refresh"  # noqa: S105
TOKEN_SECONDS = 7200
DAILY_QUOTAS = {"identity": 50_000, "fulfillment": 100_000, "inventory": 2_000_000}
BULK_LIMIT = 25
LOOKBACK = timedelta(days=90)
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
PRICE = re.compile(r"^\d+(\.\d+)?$")
FILTER = re.compile(r"^(?P<field>lastmodifieddate|creationdate):\[(?P<start>[^\]]*?)\.\.(?P<end>[^\]]*)\]$")


def error(status: int, error_id: int, message: str, *, domain: str = "API_FULFILLMENT", category: str = "REQUEST",
          **extra: Any) -> Response:
    body = {"errors": [{"errorId": error_id, "domain": domain, "category": category, "message": message, **extra}]}
    return Response(json.dumps(body), status=status, mimetype="application/json")


def answer(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json",
                    headers=headers or {})


def parse_time(value: str) -> datetime | None:
    if not TIME.match(value):
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass
class EbayState:
    clock: Callable[[], datetime]
    faults: Faults
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    inventory: dict[str, int] = field(default_factory=data.inventory)
    offers: dict[str, dict[str, Any]] = field(default_factory=data.offers)
    fulfillments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    tokens: dict[str, datetime] = field(default_factory=dict)
    quotas: dict[str, int] = field(default_factory=lambda: dict(DAILY_QUOTAS))
    usage: dict[tuple[str, date], int] = field(default_factory=dict)
    token_seconds: int = TOKEN_SECONDS
    lock: threading.RLock = field(default_factory=threading.RLock)
    malformed: set[str] = field(default_factory=set)  # orders served without orderPaymentStatus

    def advance(self, count: int, seed: int = 0) -> list[str]:
        """Time passes: `count` paid, unshipped, uncancelled orders are shipped in full now (a fulfilment each)."""
        rng = random.Random(seed)  # noqa: S311  (demo data)
        with self.lock:
            open_ids = sorted(i for i, o in self.orders.items() if o["orderFulfillmentStatus"] == "NOT_STARTED"
                              and o["orderPaymentStatus"] == "PAID"
                              and o["cancelStatus"]["cancelState"] == "NONE_REQUESTED")
            chosen = rng.sample(open_ids, min(count, len(open_ids)))
            for order_id in chosen:
                order = self.orders[order_id]
                for line in order["lineItems"]:
                    line["lineItemFulfillmentStatus"] = "FULFILLED"
                self._record(order, [{"lineItemId": ln["lineItemId"], "quantity": ln["quantity"]}
                                     for ln in order["lineItems"]], self.now_text(), "USPS",
                             f"9400{rng.randrange(10 ** 17):017d}")
                self.touch(order_id, orderFulfillmentStatus="FULFILLED")
            return chosen

    def seed(self, seed: int, count: int, malformed_order_rate: float = 0.0) -> None:
        rng = random.Random(seed)  # noqa: S311  (demo data)
        faulty = random.Random(f"{seed}-malformed")  # noqa: S311  (its own: other seeded data stays as it was)
        now = self.clock()
        for index in range(count):
            order = data.make_order(rng, index, now)
            self.orders[order["orderId"]] = order
            if faulty.random() < malformed_order_rate:
                self.malformed.add(order["orderId"])
            for line in order["lineItems"]:
                if line["lineItemFulfillmentStatus"] == "FULFILLED":
                    self._record(order, [{"lineItemId": line["lineItemId"], "quantity": line["quantity"]}],
                                 order["lastModifiedDate"], "USPS", f"9400{rng.randrange(10 ** 17):017d}")

    def _record(self, order: dict[str, Any], lines: list[dict[str, Any]], shipped: str, carrier: str,
                tracking: str) -> dict[str, Any]:
        existing = self.fulfillments.setdefault(order["orderId"], [])
        fulfillment_id = tracking if tracking and all(f["fulfillmentId"] != tracking for f in existing) \
            else f"{len(existing) + 1}{secrets.randbelow(10 ** 12):012d}"
        record = {"fulfillmentId": fulfillment_id, "lineItems": lines, "shipmentTrackingNumber": tracking,
                  "shippedDate": shipped, "shippingCarrierCode": carrier}
        existing.append(record)
        order["fulfillmentHrefs"].append(
            f"/sell/fulfillment/v1/order/{quote(order['orderId'], safe='')}/shipping_fulfillment/{fulfillment_id}")
        return record

    def now_text(self) -> str:
        return data.ebay_time(self.clock())

    def touch(self, order_id: str, **changes: Any) -> dict[str, Any]:
        """Change an order as eBay would (status moves, …) and stamp its lastModifiedDate."""
        with self.lock:
            order = self.orders[order_id]
            order.update(changes)
            order["lastModifiedDate"] = self.now_text()
            return order

    def shipped(self, order_id: str, line_id: str) -> int:
        return sum(int(item["quantity"]) for f in self.fulfillments.get(order_id, []) for item in f["lineItems"]
                   if item["lineItemId"] == line_id)

    def spend(self, api: str) -> bool:
        """Count one call against the API's daily quota; False once it is spent."""
        with self.lock:
            key = (api, self.clock().date())
            if self.usage.get(key, 0) >= self.quotas[api]:
                return False
            self.usage[key] = self.usage.get(key, 0) + 1
            return True


def create_app(seed: int = 42, orders: int = 200, clock: Callable[[], datetime] | None = None,
               faults: Faults | None = None, malformed_order_rate: float = 0.0) -> Flask:
    """`malformed_order_rate`: that share of orders (seeded) is served without orderPaymentStatus, which the
    connector rejects."""
    state = EbayState(clock=clock or utcnow, faults=faults or Faults(seed=seed))
    state.seed(seed, orders, malformed_order_rate)
    app = Flask("sandbox-ebay")
    app.extensions["sandbox"] = state

    def gate(api: str, *, authenticated: bool = True) -> Response | None:
        """Auth, quota and faults, in the order eBay's gateway applies them."""
        state.faults.delay()
        if authenticated:
            header = request.headers.get("Authorization", "")
            token = header[7:] if header.startswith("Bearer ") else ""
            with state.lock:
                expires = state.tokens.get(token)
            if not token or expires is None or state.clock() >= expires:
                return error(401, 1001, "Invalid access token", domain="OAuth",
                             longMessage="Invalid access token. Check the value of the Authorization HTTP request "
                                         "header.")
        if not state.spend(api) or state.faults.take_throttle():
            return error(429, 2001, "Too many requests", domain="ACCESS",
                         longMessage="The request limit has been reached for the resource.")
        if state.faults.roll(state.faults.error_rate):
            return error(500, 2003, "Internal error", domain="ACCESS", category="APPLICATION")  # id: sandbox's
        g.malformed = state.faults.roll(state.faults.malformed_rate)
        return None

    @app.after_request
    def cut(response: Response) -> Response:
        if getattr(g, "malformed", False) and response.status_code == 200:
            body = response.get_data()
            response.set_data(body[: len(body) // 2])
        return response

    # --- OAuth ------------------------------------------------------------------------------------
    @app.post("/identity/v1/oauth2/token")
    def token() -> Response:
        if (refused := gate("identity", authenticated=False)) is not None:
            return refused
        header = request.headers.get("Authorization", "")
        try:
            pair = base64.b64decode(header[6:], validate=True).decode() if header.startswith("Basic ") else ""
        except ValueError:
            pair = ""
        if pair != f"{CLIENT_ID}:{CLIENT_SECRET}":
            return answer({"error": "invalid_client", "error_description": "client authentication failed"}, 401)
        if request.form.get("grant_type") != "refresh_token":
            return answer({"error": "unsupported_grant_type",
                           "error_description": "grant type in request is not supported by the authorization server"},
                          400)
        if request.form.get("refresh_token") != REFRESH_TOKEN:
            return answer({"error": "invalid_grant", "error_description": "the provided authorization refresh token "
                           "is invalid or was issued to another client"}, 400)
        access = "v^1.1#i^1#p^3#I^3#r^0#t^" + secrets.token_urlsafe(48)
        with state.lock:
            state.tokens[access] = state.clock() + timedelta(seconds=state.token_seconds)
        return answer({"access_token": access, "expires_in": state.token_seconds, "token_type": "User Access Token"})

    # --- Fulfillment API --------------------------------------------------------------------------
    def visible(order: dict[str, Any]) -> dict[str, Any]:
        shown = copy.deepcopy(order)
        if order["orderId"] in state.malformed:
            del shown["orderPaymentStatus"]
        return shown

    @app.get("/sell/fulfillment/v1/order")
    def get_orders() -> Response:
        if (refused := gate("fulfillment")) is not None:
            return refused
        now = state.clock()
        try:
            limit = int(request.args.get("limit", "50"))
            offset = int(request.args.get("offset", "0"))
        except ValueError:
            return error(400, 30700, "Invalid limit or offset")  # errorId: the sandbox's choice
        if not 1 <= limit <= 1000 or offset < 0:
            return error(400, 30700, "The limit must be 1 to 1000 and the offset 0 or more.")
        field_name, start, end = "creationdate", now - LOOKBACK, now
        raw_filter = request.args.get("filter")
        if raw_filter:
            match = FILTER.match(raw_filter)
            bounds = (match["start"], match["end"]) if match else ("?", "")
            parsed = [parse_time(b) if b else None for b in bounds]
            if not match or (bounds[0] and parsed[0] is None) or (bounds[1] and parsed[1] is None):
                return error(400, 30800, "Invalid filter. Dates are UTC: YYYY-MM-DDThh:mm:ss.sssZ",
                             parameters=[{"name": "filter", "value": raw_filter}])  # errorId: the sandbox's choice
            field_name = match["field"]
            start, end = parsed[0] or start, parsed[1] or now
        key = "lastModifiedDate" if field_name == "lastmodifieddate" else "creationDate"
        with state.lock:
            matching = [o for o in state.orders.values()
                        if parse_time(o["creationDate"]) >= now - LOOKBACK and start <= parse_time(o[key]) <= end]
            matching.sort(key=lambda o: (o["creationDate"], o["orderId"]))
            page = matching[offset:offset + limit]
            if state.faults.repeat_across_pages and offset > 0 and offset <= len(matching):
                page = [matching[offset - 1], *page]
            orders_out = [visible(o) for o in page]
        base = request.base_url
        query = {k: v for k, v in request.args.items() if k not in ("limit", "offset")}
        link = "&".join(f"{k}={quote(v, safe=':.,-')}" for k, v in query.items())

        def href(at: int) -> str:
            return f"{base}?{link}{'&' if link else ''}limit={limit}&offset={at}"

        body: dict[str, Any] = {"href": href(offset), "total": len(matching), "limit": limit, "offset": offset,
                                "orders": orders_out}
        if offset + limit < len(matching):
            body["next"] = href(offset + limit)
        if offset > 0:
            body["prev"] = href(max(0, offset - limit))
        return answer(body)

    def find(order_id: str) -> dict[str, Any] | None:
        return state.orders.get(order_id)

    def no_order(order_id: str) -> Response:
        return error(404, 32100, f"Invalid order ID: {order_id}")  # errorId: the sandbox's choice

    @app.get("/sell/fulfillment/v1/order/<order_id>/shipping_fulfillment")
    def get_fulfillments(order_id: str) -> Response:
        if (refused := gate("fulfillment")) is not None:
            return refused
        if find(order_id) is None:
            return no_order(order_id)
        with state.lock:
            found = copy.deepcopy(state.fulfillments.get(order_id, []))
        return answer({"fulfillments": found, "total": len(found), "warnings": []})

    @app.get("/sell/fulfillment/v1/order/<order_id>/shipping_fulfillment/<fulfillment_id>")
    def get_fulfillment(order_id: str, fulfillment_id: str) -> Response:
        if (refused := gate("fulfillment")) is not None:
            return refused
        for record in state.fulfillments.get(order_id, []):
            if record["fulfillmentId"] == fulfillment_id:
                return answer(record)
        return error(404, 32400, f"Invalid fulfillment ID: {fulfillment_id}")  # errorId: the sandbox's choice

    @app.post("/sell/fulfillment/v1/order/<order_id>/shipping_fulfillment")
    def create_fulfillment(order_id: str) -> Response:
        if (refused := gate("fulfillment")) is not None:
            return refused
        body = request.get_json(silent=True)
        with state.lock:
            order = find(order_id)
            if order is None:
                return no_order(order_id)
            if not isinstance(body, dict) or not isinstance(body.get("lineItems"), list) or not body["lineItems"]:
                return error(400, 32200, "lineItems is required")  # errorId: the sandbox's choice
            if order["cancelStatus"]["cancelState"] == "CANCELED":
                return error(409, 32600, "The order is cancelled")  # errorId: the sandbox's choice
            shipped = body.get("shippedDate") or state.now_text()
            if parse_time(shipped) is None:
                return error(400, 32300, "Invalid shippedDate: use YYYY-MM-DDThh:mm:ss.sssZ (UTC)")
            lines = {line["lineItemId"]: line for line in order["lineItems"]}
            wanted = []
            for item in body["lineItems"]:
                line = lines.get(item.get("lineItemId")) if isinstance(item, dict) else None
                quantity = item.get("quantity") if isinstance(item, dict) else None
                if line is None:
                    return error(400, 32210, f"Invalid lineItemId: {item!r}")
                if not isinstance(quantity, int) or quantity < 1 or \
                        quantity > line["quantity"] - state.shipped(order_id, line["lineItemId"]):
                    return error(400, 32220, f"Invalid quantity for line item {line['lineItemId']}")
                wanted.append({"lineItemId": line["lineItemId"], "quantity": quantity})
            record = state._record(order, wanted, shipped, str(body.get("shippingCarrierCode") or ""),
                                   str(body.get("trackingNumber") or ""))
            for line in order["lineItems"]:
                if state.shipped(order_id, line["lineItemId"]) >= line["quantity"]:
                    line["lineItemFulfillmentStatus"] = "FULFILLED"
            done = all(line["lineItemFulfillmentStatus"] == "FULFILLED" for line in order["lineItems"])
            state.touch(order_id, orderFulfillmentStatus="FULFILLED" if done else "IN_PROGRESS")
        location = f"{request.base_url}/{record['fulfillmentId']}"
        return Response("", status=201, headers={"Location": location})

    @app.get("/sell/fulfillment/v1/order/<order_id>")
    def get_order(order_id: str) -> Response:
        if (refused := gate("fulfillment")) is not None:
            return refused
        with state.lock:
            order = find(order_id)
            if order is None:
                return no_order(order_id)
            return answer(visible(order))

    # --- Inventory API ----------------------------------------------------------------------------
    not_found = {"errorId": 25710, "domain": "API_INVENTORY", "category": "REQUEST",
                 "message": "We didn't find the entity you are requesting. Please verify the request"}

    def offer_problem(found: dict[str, Any], offer: dict[str, Any]) -> str:
        """Why eBay would refuse this offer's new price or quantity, or "": the price is an Amount whose value is a
        decimal string above zero, in the offer's marketplace currency, within its minor units; only published
        offers are revised."""
        if "price" not in offer and "availableQuantity" not in offer:
            return "Either availableQuantity or price is required"
        if found["status"] != "PUBLISHED":
            return f"Offer {found['offerId']} is not published: use updateOffer"
        quantity = offer.get("availableQuantity")
        if "availableQuantity" in offer and (not isinstance(quantity, int) or quantity < 0):
            return "The availableQuantity must be a whole number, 0 or more"
        if "price" not in offer:
            return ""
        price = offer["price"]
        value = price.get("value") if isinstance(price, dict) else None
        currency = price.get("currency") if isinstance(price, dict) else None
        if not isinstance(value, str) or not PRICE.match(value):
            return f"Invalid price value {value!r}: a decimal string, e.g. \"19.99\""
        listed = found["pricingSummary"]["price"]["currency"]
        if currency != listed:
            return f"Invalid currency {currency!r}: offers on {found['marketplaceId']} are priced in {listed}"
        places = len(value.partition(".")[2])
        if places > minor_units(listed):
            return f"Invalid price value {value}: {listed} has {minor_units(listed)} decimal places"
        if Decimal(value) <= 0:
            return "The price must be greater than 0"
        return ""

    @app.get("/sell/inventory/v1/offer")
    def get_offers() -> Response:
        if (refused := gate("inventory")) is not None:
            return refused
        sku = request.args.get("sku", "")
        if not sku:
            return error(400, 25707, "Invalid sku", domain="API_INVENTORY")  # errorId: the sandbox's choice
        with state.lock:
            found = [copy.deepcopy(o) for o in state.offers.values() if o["sku"] == sku]
        if not found:
            return answer({"errors": [not_found]}, 404)
        return answer({"href": request.url, "limit": 100, "offers": found, "size": len(found), "total": len(found)})

    @app.post("/sell/inventory/v1/bulk_update_price_quantity")
    def bulk_update() -> Response:
        if (refused := gate("inventory")) is not None:
            return refused
        body = request.get_json(silent=True)
        items = body.get("requests") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            return error(400, 25709, "requests is required", domain="API_INVENTORY")  # errorId: sandbox's
        if len(items) > BULK_LIMIT:
            return error(400, 25709, f"At most {BULK_LIMIT} requests per call", domain="API_INVENTORY")
        offer_count = sum(len(i.get("offers") or []) for i in items if isinstance(i, dict))
        if offer_count > BULK_LIMIT:
            return error(400, 25709, f"At most {BULK_LIMIT} offers per call", domain="API_INVENTORY")
        responses = []
        with state.lock:
            for item in items:
                sku = item.get("sku") if isinstance(item, dict) else None
                quantity = (item.get("shipToLocationAvailability") or {}).get("quantity") if sku else None
                if sku not in state.inventory:
                    responses.append({"sku": sku, "statusCode": 404, "errors": [not_found]})
                    continue
                if quantity is not None:
                    if not isinstance(quantity, int) or quantity < 0:
                        responses.append({"sku": sku, "statusCode": 400, "errors": [{
                            "errorId": 25604, "domain": "API_INVENTORY", "category": "REQUEST",
                            "message": "The quantity must be a whole number, 0 or more"}]})
                        continue
                    state.inventory[sku] = quantity
                offers = item.get("offers") or []
                if not offers:
                    responses.append({"sku": sku, "statusCode": 200})
                for offer in offers:
                    found = state.offers.get(str(offer.get("offerId"))) if isinstance(offer, dict) else None
                    if found is None or found["sku"] != sku:
                        responses.append({"sku": sku, "offerId": offer.get("offerId") if isinstance(offer, dict)
                                          else None, "statusCode": 404, "errors": [not_found]})
                        continue
                    problem = offer_problem(found, offer)
                    if problem:
                        responses.append({"sku": sku, "offerId": offer["offerId"], "statusCode": 400, "errors": [{
                            "errorId": 25709, "domain": "API_INVENTORY", "category": "REQUEST",
                            "message": problem}]})  # errorId 25709 "Invalid value": the sandbox's choice
                        continue
                    if "availableQuantity" in offer:
                        found["availableQuantity"] = offer["availableQuantity"]
                    if "price" in offer:
                        found["pricingSummary"]["price"] = {"value": offer["price"]["value"],
                                                            "currency": offer["price"]["currency"]}
                    responses.append({"sku": sku, "offerId": offer["offerId"], "statusCode": 200})
        status = 200 if all(r["statusCode"] == 200 for r in responses) else 207
        return answer({"responses": responses}, status)

    def inventory_item(sku: str) -> dict[str, Any]:
        return {"sku": sku, "availability": {"shipToLocationAvailability": {"quantity": state.inventory[sku]}},
                "condition": "NEW", "product": {"title": sku}}

    @app.get("/sell/inventory/v1/inventory_item/<path:sku>")
    def get_inventory_item(sku: str) -> Response:
        if (refused := gate("inventory")) is not None:
            return refused
        if sku not in state.inventory:
            return answer({"errors": [not_found]}, 404)
        return answer(inventory_item(sku))

    @app.post("/sell/inventory/v1/bulk_get_inventory_item")
    def bulk_get_inventory_item() -> Response:
        if (refused := gate("inventory")) is not None:
            return refused
        body = request.get_json(silent=True)
        items = body.get("requests") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items or len(items) > BULK_LIMIT:
            return error(400, 25709, f"Send 1 to {BULK_LIMIT} requests", domain="API_INVENTORY")  # id: sandbox's
        responses = []
        with state.lock:
            for item in items:
                sku = item.get("sku") if isinstance(item, dict) else None
                if isinstance(sku, str) and sku in state.inventory:
                    responses.append({"statusCode": 200, "sku": sku, "inventoryItem": inventory_item(sku)})
                else:
                    responses.append({"statusCode": 404, "sku": sku, "errors": [not_found]})
        return answer({"responses": responses}, 200 if all(r["statusCode"] == 200 for r in responses) else 207)

    # --- sandbox controls -------------------------------------------------------------------------
    @app.get("/_sandbox/state")
    def sandbox_state() -> Response:
        with state.lock:
            return answer({"orders": len(state.orders), "inventory": state.inventory,
                           "offers": state.offers, "fulfillments": state.fulfillments,
                           "usage": {f"{api} {day}": n for (api, day), n in state.usage.items()}})

    @app.post("/_sandbox/faults")
    def sandbox_faults() -> Response:
        try:
            state.faults.update(**(request.get_json(silent=True) or {}))
        except (TypeError, ValueError) as exc:
            return answer({"error": str(exc)}, 400)
        return answer({"ok": True})

    @app.post("/_sandbox/advance")
    def sandbox_advance() -> Response:
        knobs = request.get_json(silent=True) or {}
        return answer({"moved": state.advance(int(knobs.get("count", 10)), int(knobs.get("seed", 0)))})

    @app.post("/_sandbox/touch/<order_id>")
    def sandbox_touch(order_id: str) -> Response:
        if order_id not in state.orders:
            return no_order(order_id)
        return answer(state.touch(order_id, **(request.get_json(silent=True) or {})))

    return app
