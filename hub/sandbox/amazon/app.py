"""Amazon SP-API sandbox: LWA tokens, Orders API v0 (getOrders, getOrder, getOrderItems, confirmShipment) and
Listings Items API 2021-08-01 (getListingsItem, patchListingsItem: stock through fulfillment_availability, prices
through purchasable_offer), with the real usage plans as token buckets.

Behaviour follows the Orders API v0 model (https://github.com/amzn/selling-partner-api-models/blob/main/models/
orders-api-model/ordersV0.json), https://developer-docs.amazon.com/sp-api/docs/usage-plans-and-rate-limits and
https://developer-docs.amazon.com/sp-api/docs/connecting-to-the-selling-partner-api:

- every SP-API call needs `x-amz-access-token` from `POST /auth/o2/token`; a missing, forged or expired token is
  answered 403 `{errors: [{code: "Unauthorized", ...}]}`; tokens live 3600 s of the sandbox clock;
- every response carries `x-amzn-RateLimit-Limit` and `x-amzn-RequestId`; an empty bucket answers 429
  `QuotaExceeded`;
- getOrders needs MarketplaceIds and exactly one of CreatedAfter / LastUpdatedAfter; `*Before` must be at least
  2 minutes in the past (and is that by default); with NextToken the other filters are ignored and the page
  continues the original query's snapshot;
- purchasable_offer is a list of offers, each selected by marketplace_id, currency and audience (default ALL),
  the price in `our_price[].schedule[].value_with_tax`, a JSON number
  (https://developer-docs.amazon.com/sp-api/docs/manage-purchasable-offer); patch bodies are read with Decimal
  numbers, so a price is kept exactly as sent;
- OrderTotal is absent for Pending and Canceled orders, items carry no prices while Pending (and QuantityOrdered
  0 once Canceled), ShippingAddress is only given for Unshipped, PartiallyShipped, Shipped, InvoiceUnconfirmed.
  Most addresses come without restricted fields (no Restricted Data Token); some carry names and streets.

Sandbox-only choices (not documented by Amazon): item pages hold 5 items; a patch of an unknown SKU answers
status INVALID with an issue; an offer for a marketplace not in marketplaceIds, in a currency other than the
marketplace's, or with a price that is not a positive number within the currency's ISO minor units makes the
submission INVALID with an issue naming purchasable_offer (Amazon's codes for these are not documented);
`/_sandbox/...` endpoints read state and set fault knobs.
"""

from __future__ import annotations

import copy
import json
import random
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import wraps
from typing import Any

from flask import Flask, Response, jsonify, request

from hub.money import minor_units
from hub.outbound.http import dumps_exact
from hub.sandbox import people
from hub.sandbox.faults import Faults
from hub.sandbox.ratelimit import TokenBucket

CREDENTIALS = {
    "client_id": "amzn1.application-oa2-client.sandbox0001",
    "client_secret": "amzn1.oa2-cs.v1.sandbox-secret",
    "refresh_token": "Atzr|sandbox-refresh-token",
    "seller_id": "A2SANDBOXSELLER1",
}
TOKEN_SECONDS = 3600
ITEMS_PAGE_SIZE = 5
VISIBLE_DELAY = timedelta(minutes=2)  # orders newer than this are not listed yet (LastUpdatedBefore default)

# operation -> (rate per second, burst): the documented default usage plans.
USAGE_PLANS: dict[str, tuple[float, float]] = {
    "getOrders": (0.0167, 20),
    "getOrder": (0.5, 30),
    "getOrderItems": (0.5, 30),
    "confirmShipment": (2.0, 10),
    "getListingsItem": (5.0, 10),
    "patchListingsItem": (5.0, 5),
}

# marketplace id -> (country, currency, order id prefix, VAT rate or US sales tax, tax included)
MARKETPLACES: dict[str, tuple[str, str, str, Decimal, bool]] = {
    "A1PA6795UKMFR9": ("DE", "EUR", "302", Decimal("0.19"), True),
    "A13V1IB3VIYZZH": ("FR", "EUR", "403", Decimal("0.20"), True),
    "A1F83G8C2ARO7P": ("GB", "GBP", "202", Decimal("0.20"), True),
    "A1C3SOZRARQ6R3": ("PL", "PLN", "405", Decimal("0.23"), True),
    "ATVPDKIKX0DER": ("US", "USD", "111", Decimal("0.0825"), False),
    "A2Q3Y263D00KWC": ("BR", "BRL", "701", Decimal("0.17"), True),
    "A1VC38T7YXB528": ("JP", "JPY", "503", Decimal("0.10"), True),
    "A19VAU5U5O7RUS": ("SG", "SGD", "171", Decimal("0.09"), True),
}
SALES_CHANNELS = {"DE": "Amazon.de", "FR": "Amazon.fr", "GB": "Amazon.co.uk", "PL": "Amazon.pl", "US": "Amazon.com",
                  "BR": "Amazon.com.br", "JP": "Amazon.co.jp", "SG": "Amazon.sg"}
# how many units of each currency one EUR of list price makes (rough, for plausible prices)
PRICE_FACTOR = {"EUR": Decimal(1), "GBP": Decimal("0.85"), "PLN": Decimal("4.3"), "USD": Decimal("1.1"),
                "BRL": Decimal("5.9"), "JPY": Decimal(160), "SGD": Decimal("1.45")}
CATALOG = [("MUG-BLUE", "Tasse blau / Blue mug", "12.90"), ("MUG-RED", "Tasse rot / Red mug", "12.90"),
           ("TEE-M", "T-Shirt Größe M", "19.99"), ("TEE-L", "T-Shirt Größe L", "19.99"),
           ("CABLE-USB-C", "USB-C Kabel 1 m", "7.49"), ("LAMP-DESK", "Schreibtischlampe", "34.00"),
           ("BOOK-JP-001", "日本語の本", "15.00"), ("SOCKS-3", "Socken 3er-Pack", "9.95"),
           ("BOTTLE-750", "Trinkflasche 750 ml", "17.50"), ("SCREW-M3", "Schraube M3 (Stück)", "0.03")]
STATUS_WEIGHTS = [("Pending", 8), ("PendingAvailability", 2), ("Unshipped", 28), ("PartiallyShipped", 8),
                  ("Shipped", 40), ("Canceled", 10), ("InvoiceUnconfirmed", 4)]
ADDRESS_STATUSES = frozenset({"Unshipped", "PartiallyShipped", "Shipped", "InvoiceUnconfirmed"})
UNPRICED_STATUSES = frozenset({"Pending", "PendingAvailability"})

# The documented examples of the Orders API v0 model (x-amzn-api-sandbox static responses), served verbatim.
DOCUMENTED_ORDERS: list[tuple[dict[str, Any], list[dict[str, Any]]]] = [
    ({
        "AmazonOrderId": "902-1845936-5435065", "PurchaseDate": "1970-01-19T03:58:30Z",
        "LastUpdateDate": "1970-01-19T03:58:32Z", "OrderStatus": "Unshipped", "FulfillmentChannel": "MFN",
        "SalesChannel": "Amazon.com", "ShipServiceLevel": "Std US D2D Dom",
        "OrderTotal": {"CurrencyCode": "USD", "Amount": "11.01"}, "NumberOfItemsShipped": 0,
        "NumberOfItemsUnshipped": 1, "PaymentMethod": "Other", "PaymentMethodDetails": ["Standard"],
        "IsReplacementOrder": False, "MarketplaceId": "ATVPDKIKX0DER", "ShipmentServiceLevelCategory": "Standard",
        "OrderType": "StandardOrder", "EarliestShipDate": "1970-01-19T03:59:27Z",
        "LatestShipDate": "1970-01-19T04:05:13Z", "IsBusinessOrder": False, "IsPrime": False,
        "IsGlobalExpressEnabled": False, "IsPremiumOrder": False, "IsSoldByAB": False, "IsIBA": False,
    }, [{
        "ASIN": "B00551Q3CS", "OrderItemId": "05015851154158", "SellerSKU": "NABetaASINB00551Q3CS",
        "Title": "B00551Q3CS [Card Book]", "QuantityOrdered": 1, "QuantityShipped": 0,
        "ProductInfo": {"NumberOfItems": "1"}, "ItemPrice": {"CurrencyCode": "USD", "Amount": "10.00"},
        "ItemTax": {"CurrencyCode": "USD", "Amount": "1.01"},
        "PromotionDiscount": {"CurrencyCode": "USD", "Amount": "0.00"}, "IsGift": "false", "ConditionId": "New",
        "ConditionSubtypeId": "New", "IsTransparency": False, "SerialNumberRequired": False,
    }]),
    ({
        "AmazonOrderId": "902-1106328-1059050", "PurchaseDate": "1970-01-19T03:58:30Z",
        "LastUpdateDate": "1970-01-19T03:58:32Z", "OrderStatus": "Unshipped", "FulfillmentChannel": "MFN",
        "OrderTotal": {"CurrencyCode": "USD", "Amount": "17.95"}, "NumberOfItemsShipped": 0,
        "NumberOfItemsUnshipped": 2, "MarketplaceId": "ATVPDKIKX0DER", "OrderType": "StandardOrder",
    }, [{
        "ASIN": "BCTU1104UEFB", "OrderItemId": "79039765272157", "SellerSKU": "CBA_OTF_5",
        "Title": "Example item name", "QuantityOrdered": 2, "QuantityShipped": 0,
        "ItemPrice": {"CurrencyCode": "USD", "Amount": "17.95"},
    }]),
]


def iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _amount(value: Decimal, currency: str) -> dict[str, str]:
    exponent = minor_units(currency)
    return {"CurrencyCode": currency, "Amount": f"{value.quantize(Decimal(1).scaleb(-exponent), ROUND_HALF_UP):f}"}



class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: str = "") -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


class AmazonState:
    """Everything the sandbox knows; all access under `lock`."""

    def __init__(self, seed: int = 42, orders: int = 200, clock: Callable[[], float] | None = None,
                 faults: Faults | None = None, malformed_order_rate: float = 0.0) -> None:
        self.clock = clock or time.monotonic
        self.faults = faults or Faults(seed=seed)
        self.lock = threading.RLock()
        self.seller_id = CREDENTIALS["seller_id"]
        self._clock0 = self.clock()
        self.epoch = datetime.now(UTC).replace(microsecond=0)
        self.rng = random.Random(seed)  # noqa: S311  (test data)
        self.ids = random.Random(seed + 1)  # noqa: S311  (tokens and request ids: apart, so data stays seeded)
        self.orders: dict[str, dict[str, Any]] = {}  # id -> {"order": {...}, "items": [...]} (full data)
        self.listings: dict[str, dict[str, Any]] = {}
        self.shipments: list[dict[str, Any]] = []
        self.submissions: list[dict[str, Any]] = []
        self.access_tokens: dict[str, float] = {}  # token -> expiry on the sandbox clock
        self.next_tokens: dict[str, dict[str, Any]] = {}
        self.buckets = {op: TokenBucket(rate, burst, clock=self.clock) for op, (rate, burst) in USAGE_PLANS.items()}
        self.calls: dict[str, int] = dict.fromkeys(USAGE_PLANS, 0)
        for order, items in DOCUMENTED_ORDERS:
            self.orders[order["AmazonOrderId"]] = {"order": copy.deepcopy(order), "items": copy.deepcopy(items),
                                                   "documented": True}
        for sku, _, price in CATALOG:
            self.listings[sku] = {"sku": sku, "productType": "PRODUCT", "quantity": self.rng.randrange(0, 60),
                                  "prices": {m: {"currency": currency, "amount": _amount(
                                      Decimal(price) * PRICE_FACTOR[currency], currency)["Amount"]}
                                      for m, (_, currency, _, _, _) in MARKETPLACES.items()}}
        for _ in range(orders):
            self._generate()
        # Its own generator, so the rate leaves every other seeded value as it was.
        faulty = random.Random(f"{seed}-malformed")  # noqa: S311  (test data)
        for record in self.orders.values():
            if not record.get("documented") and faulty.random() < malformed_order_rate:
                record["malformed"] = True

    # --- time --------------------------------------------------------------------------------
    def now(self) -> datetime:
        return self.epoch + timedelta(seconds=self.clock() - self._clock0)

    def token(self) -> str:
        return uuid.UUID(int=self.ids.getrandbits(128)).hex

    # --- seeded data -------------------------------------------------------------------------
    def _generate(self) -> None:
        rng = self.rng
        marketplace = rng.choice(list(MARKETPLACES))
        home, currency, prefix, tax_rate, included = MARKETPLACES[marketplace]
        destination = "FR" if home == "DE" and rng.random() < 0.15 else home
        buyer = people.person(rng, (destination,))
        while True:
            order_id = f"{prefix}-{rng.randrange(10**6, 10**7)}-{rng.randrange(10**6, 10**7)}"
            if order_id not in self.orders:
                break
        status = rng.choices([s for s, _ in STATUS_WEIGHTS], [w for _, w in STATUS_WEIGHTS])[0]
        age = timedelta(minutes=rng.randrange(10, 30 * 24 * 60))
        placed = self.epoch - age
        updated = min(placed + timedelta(minutes=rng.randrange(0, 3 * 24 * 60)), self.epoch - timedelta(minutes=5))
        line_count = 12 if rng.random() < 0.03 else rng.choice([1, 1, 1, 2, 2, 3, 4])
        if status == "PartiallyShipped":
            line_count = max(line_count, 2)
        items = []
        for number, (sku, title, price) in enumerate(rng.sample(CATALOG * 2, line_count)):
            quantity = 99999 if rng.random() < 0.015 else rng.choice([1, 1, 1, 2, 3, 5])
            unit = (Decimal(price) * PRICE_FACTOR[currency]).quantize(Decimal(1).scaleb(-minor_units(currency)),
                                                                       ROUND_HALF_UP)
            line_total = unit * quantity
            tax = line_total * tax_rate / (1 + tax_rate) if included else line_total * tax_rate
            item: dict[str, Any] = {
                "ASIN": f"B0{rng.randrange(10**7, 10**8)}", "OrderItemId": f"{rng.randrange(10**13, 10**14)}",
                "SellerSKU": sku, "Title": title, "QuantityOrdered": quantity, "QuantityShipped": 0,
                "ItemPrice": _amount(line_total, currency), "ItemTax": _amount(tax, currency),
                "PromotionDiscount": _amount(Decimal(0), currency), "IsGift": "false", "ConditionId": "New",
            }
            if number == 0 and rng.random() < 0.4:
                shipping = Decimal("4.99") * PRICE_FACTOR[currency]
                item["ShippingPrice"] = _amount(shipping, currency)
                item["ShippingTax"] = _amount(shipping * tax_rate / (1 + tax_rate) if included
                                              else shipping * tax_rate, currency)
            if rng.random() < 0.1:
                item["PromotionDiscount"] = _amount(line_total / 10, currency)
            items.append(item)
        if status in ("Shipped", "InvoiceUnconfirmed"):
            for item in items:
                item["QuantityShipped"] = item["QuantityOrdered"]
        elif status == "PartiallyShipped":
            items[0]["QuantityShipped"] = items[0]["QuantityOrdered"]
        order: dict[str, Any] = {
            "AmazonOrderId": order_id, "PurchaseDate": iso(placed), "LastUpdateDate": iso(updated),
            "OrderStatus": status, "FulfillmentChannel": "AFN" if rng.random() < 0.2 else "MFN",
            "SalesChannel": SALES_CHANNELS[home], "MarketplaceId": marketplace, "PaymentMethod": "Other",
            "PaymentMethodDetails": ["Standard"], "OrderType": "StandardOrder", "IsBusinessOrder": False,
            "IsPrime": rng.random() < 0.3, "IsPremiumOrder": False, "IsGlobalExpressEnabled": False,
            "IsReplacementOrder": False, "IsSoldByAB": False, "IsISPU": False, "IsAccessPointOrder": False,
            "ShipmentServiceLevelCategory": "Standard",
        }
        address: dict[str, Any] = {"City": buyer.city, "PostalCode": buyer.postal_code, "CountryCode": buyer.country}
        if rng.random() < 0.4:  # as if the app held a Restricted Data Token
            address = {"Name": buyer.name, "AddressLine1": buyer.street, **address}
            if buyer.phone:
                address["Phone"] = buyer.phone
        order["ShippingAddress"] = address
        order["BuyerInfo"] = {"BuyerEmail": f"{order_id.replace('-', '')}@marketplace.amazon.example"} \
            if buyer.email else {}
        if "Name" in address:
            order["BuyerInfo"]["BuyerName"] = buyer.name
        self.orders[order_id] = {"order": order, "items": items}
        self._settle(order_id)

    def _settle(self, order_id: str) -> None:
        """Recompute the order's counters and total from its items (total from the full, priced data)."""
        record = self.orders[order_id]
        order, items = record["order"], record["items"]
        currency = MARKETPLACES[order["MarketplaceId"]][1]
        included = MARKETPLACES[order["MarketplaceId"]][4]
        total = Decimal(0)
        for item in items:
            for key, sign in (("ItemPrice", 1), ("ShippingPrice", 1), ("PromotionDiscount", -1),
                              ("ShippingDiscount", -1)) + (() if included else (("ItemTax", 1), ("ShippingTax", 1))):
                if key in item:
                    total += sign * Decimal(item[key]["Amount"])
        order["OrderTotal"] = _amount(total, currency)
        order["NumberOfItemsShipped"] = sum(i["QuantityShipped"] for i in items)
        order["NumberOfItemsUnshipped"] = sum(i["QuantityOrdered"] - i["QuantityShipped"] for i in items)

    # --- views as the API shows them ---------------------------------------------------------
    def order_view(self, order_id: str) -> dict[str, Any]:
        record = self.orders[order_id]
        order = copy.deepcopy(record["order"])
        if record.get("documented"):
            return order
        status = record["order"]["OrderStatus"]
        if record.get("malformed"):
            order.pop("OrderStatus", None)  # required: the connector rejects the order
        if status in UNPRICED_STATUSES or status == "Canceled":
            order.pop("OrderTotal", None)
        if status not in ADDRESS_STATUSES:
            order.pop("ShippingAddress", None)
        if status == "Canceled":
            order["NumberOfItemsShipped"] = order["NumberOfItemsUnshipped"] = 0
        return order

    def items_view(self, order_id: str) -> list[dict[str, Any]]:
        record = self.orders[order_id]
        items = copy.deepcopy(record["items"])
        status = record["order"]["OrderStatus"]
        if record.get("documented"):
            return items
        for item in items:
            if status in UNPRICED_STATUSES or status == "Canceled":
                for key in [k for k in item if isinstance(item[k], dict) and "Amount" in item[k]]:
                    del item[key]
            if status == "Canceled":
                item["QuantityOrdered"] = item["QuantityShipped"] = 0
        return items

    # --- changes over time -------------------------------------------------------------------
    def advance(self, count: int) -> list[str]:
        """Move `count` open orders one step on (Pending -> Unshipped -> Shipped), updated now."""
        with self.lock:
            open_ids = sorted(i for i, r in self.orders.items()
                              if r["order"]["OrderStatus"] in ("Pending", "Unshipped") and not r.get("documented"))
            chosen = self.rng.sample(open_ids, min(count, len(open_ids)))
            for order_id in chosen:
                order = self.orders[order_id]["order"]
                if order["OrderStatus"] == "Pending":
                    order["OrderStatus"] = "Unshipped"
                else:
                    order["OrderStatus"] = "Shipped"
                    for item in self.orders[order_id]["items"]:
                        item["QuantityShipped"] = item["QuantityOrdered"]
                    self._settle(order_id)
                order["LastUpdateDate"] = iso(self.now())
            return chosen

    def corrupt(self, order_id: str) -> None:
        """Make one order unmappable (an amount that is no number) and updated now."""
        with self.lock:
            order = self.orders[order_id]["order"]
            order["OrderTotal"] = {"CurrencyCode": order["OrderTotal"]["CurrencyCode"], "Amount": "twelve"}
            order["OrderStatus"] = "Unshipped"
            order["LastUpdateDate"] = iso(self.now())

    def listable(self, after: datetime, before: datetime, marketplaces: set[str], field: str) -> list[str]:
        chosen = []
        for order_id, record in self.orders.items():
            order = record["order"]
            when = parse_iso(order[field])
            if order["MarketplaceId"] in marketplaces and when is not None and after <= when <= before:
                chosen.append((order[field], order_id))
        return [order_id for _, order_id in sorted(chosen)]


def create_app(seed: int = 42, orders: int = 200, clock: Callable[[], float] | None = None,
               faults: Faults | None = None, malformed_order_rate: float = 0.0) -> Flask:
    """`malformed_order_rate`: that share of generated orders (seeded) is listed without OrderStatus, which the
    connector rejects."""
    state = AmazonState(seed=seed, orders=orders, clock=clock, faults=faults,
                        malformed_order_rate=malformed_order_rate)
    app = Flask("sandbox-amazon")
    app.extensions["sandbox"] = state

    def error_body(status: int, code: str, message: str, details: str = "") -> tuple[Response, int]:
        return jsonify({"errors": [{"code": code, "message": message, "details": details}]}), status

    def sp_api(operation: str) -> Callable:
        def decorate(view: Callable) -> Callable:
            @wraps(view)
            def wrapped(*args: Any, **kwargs: Any) -> Any:
                state.faults.delay()
                with state.lock:
                    response = _answer(view, args, kwargs)
                    response.headers["x-amzn-RateLimit-Limit"] = f"{state.buckets[operation].rate:g}"
                    response.headers["x-amzn-RequestId"] = str(uuid.UUID(int=state.ids.getrandbits(128)))
                    if response.status_code == 200 and state.faults.roll(state.faults.malformed_rate):
                        data = response.get_data()
                        response.set_data(data[: len(data) // 2])
                    return response

            def _answer(view: Callable, args: Any, kwargs: Any) -> Response:
                token = request.headers.get("x-amz-access-token", "")
                expiry = state.access_tokens.get(token)
                if expiry is None:
                    return _response(error_body(403, "Unauthorized", "Access to requested resource is denied."))
                if state.clock() >= expiry:
                    return _response(error_body(403, "Unauthorized", "The access token you provided has expired."))
                if state.buckets[operation].take() is not None or state.faults.take_throttle():
                    return _response(error_body(429, "QuotaExceeded",
                                                "You exceeded your quota for the requested resource."))
                if state.faults.roll(state.faults.error_rate):
                    return _response(error_body(500, "InternalFailure",
                                                "We encountered an internal error. Please try again."))
                state.calls[operation] += 1
                try:
                    return _response(view(*args, **kwargs))
                except ApiError as exc:
                    return _response(error_body(exc.status, exc.code, exc.message, exc.details))

            return wrapped

        return decorate

    def _response(result: Any) -> Response:
        return app.make_response(result)

    # --- Login with Amazon -------------------------------------------------------------------
    @app.post("/auth/o2/token")
    def lwa_token() -> Any:
        form = request.form
        if form.get("grant_type") != "refresh_token":
            return jsonify({"error": "unsupported_grant_type",
                            "error_description": "The authorization grant type is not supported"}), 400
        if form.get("client_id") != CREDENTIALS["client_id"] or form.get("client_secret") != \
                CREDENTIALS["client_secret"]:
            return jsonify({"error": "invalid_client", "error_description": "Client authentication failed"}), 401
        if form.get("refresh_token") != CREDENTIALS["refresh_token"]:
            return jsonify({"error": "invalid_grant",
                            "error_description": "The request has an invalid grant parameter : refresh_token"}), 400
        with state.lock:
            token = f"Atza|{state.token()}"
            state.access_tokens[token] = state.clock() + TOKEN_SECONDS
        return jsonify({"access_token": token, "refresh_token": CREDENTIALS["refresh_token"],
                        "token_type": "bearer", "expires_in": TOKEN_SECONDS})

    # --- Orders API v0 -----------------------------------------------------------------------
    def marketplace_ids() -> set[str]:
        raw = request.args.get("MarketplaceIds", "")
        ids = {m.strip() for m in raw.split(",") if m.strip()}
        if not ids:
            raise ApiError(400, "InvalidInput", "Missing required parameter MarketplaceIds")
        unknown = sorted(ids - set(MARKETPLACES) - {"ATVPDKIKX0DER"})
        if unknown:
            raise ApiError(400, "InvalidInput", f"Invalid MarketplaceIds: {', '.join(unknown)}")
        return ids

    @app.get("/orders/v0/orders")
    @sp_api("getOrders")
    def get_orders() -> Any:
        markets = marketplace_ids()
        next_token = request.args.get("NextToken")
        if next_token:
            query = state.next_tokens.get(next_token)  # reusable: a retry may repeat it
            if query is None or query["kind"] != "orders":
                raise ApiError(400, "InvalidInput", "Invalid NextToken")
        else:
            query = _new_orders_query(markets)
        ids, offset, size = query["ids"], query["offset"], query["size"]
        page = ids[offset: offset + size]
        payload: dict[str, Any] = {"Orders": [state.order_view(i) for i in page]}
        end = offset + len(page)
        if end < len(ids):
            token = state.token()
            follow = end - 1 if state.faults.repeat_across_pages and end - 1 > offset else end
            state.next_tokens[token] = {**query, "offset": follow}
            payload["NextToken"] = token
        payload[query["before_name"]] = query["before"]
        return jsonify({"payload": payload})

    def _new_orders_query(markets: set[str]) -> dict[str, Any]:
        args = request.args
        created_after, updated_after = args.get("CreatedAfter"), args.get("LastUpdatedAfter")
        if bool(created_after) == bool(updated_after):
            raise ApiError(400, "InvalidInput", "Exactly one of CreatedAfter and LastUpdatedAfter is required")
        field, after_name, before_name = (("PurchaseDate", "CreatedAfter", "CreatedBefore") if created_after
                                          else ("LastUpdateDate", "LastUpdatedAfter", "LastUpdatedBefore"))
        after = parse_iso(args.get(after_name))
        if after is None:
            raise ApiError(400, "InvalidInput", f"{after_name} is not an ISO 8601 date")
        latest = state.now() - VISIBLE_DELAY
        before = latest
        if args.get(before_name):
            before = parse_iso(args.get(before_name))
            if before is None:
                raise ApiError(400, "InvalidInput", f"{before_name} is not an ISO 8601 date")
            if before > latest:
                raise ApiError(400, "InvalidInput", f"{before_name} must be at least 2 minutes before the current time")
            if before < after:
                raise ApiError(400, "InvalidInput", f"{before_name} must be equal to or after {after_name}")
        if after > latest:
            raise ApiError(400, "InvalidInput", f"{after_name} must be at least 2 minutes before the current time")
        try:
            size = int(args.get("MaxResultsPerPage", "100"))
        except ValueError:
            raise ApiError(400, "InvalidInput", "MaxResultsPerPage must be a number") from None
        if not 1 <= size <= 100:
            raise ApiError(400, "InvalidInput", "MaxResultsPerPage must be between 1 and 100")
        ids = state.listable(after, before, markets, field)
        return {"kind": "orders", "ids": ids, "offset": 0, "size": size, "before": iso(before),
                "before_name": before_name}

    def known_order(order_id: str) -> None:
        if order_id not in state.orders:
            raise ApiError(404, "NotFound", "The requested order was not found", order_id)

    @app.get("/orders/v0/orders/<order_id>")
    @sp_api("getOrder")
    def get_order(order_id: str) -> Any:
        known_order(order_id)
        return jsonify({"payload": state.order_view(order_id)})

    @app.get("/orders/v0/orders/<order_id>/orderItems")
    @sp_api("getOrderItems")
    def get_order_items(order_id: str) -> Any:
        known_order(order_id)
        offset = 0
        if request.args.get("NextToken"):
            query = state.next_tokens.get(request.args["NextToken"])
            if query is None or query["kind"] != "items" or query["order"] != order_id:
                raise ApiError(400, "InvalidInput", "Invalid NextToken")
            offset = query["offset"]
        items = state.items_view(order_id)
        payload: dict[str, Any] = {"AmazonOrderId": order_id, "OrderItems": items[offset: offset + ITEMS_PAGE_SIZE]}
        if offset + ITEMS_PAGE_SIZE < len(items):
            token = state.token()
            state.next_tokens[token] = {"kind": "items", "order": order_id, "offset": offset + ITEMS_PAGE_SIZE}
            payload["NextToken"] = token
        return jsonify({"payload": payload})

    @app.post("/orders/v0/orders/<order_id>/shipmentConfirmation")
    @sp_api("confirmShipment")
    def confirm_shipment(order_id: str) -> Any:
        known_order(order_id)
        body = request.get_json(silent=True)
        record = state.orders[order_id]
        order, items = record["order"], record["items"]
        package = body.get("packageDetail") if isinstance(body, dict) else None
        if not isinstance(package, dict) or not body.get("marketplaceId"):
            raise ApiError(400, "InvalidInput", "marketplaceId and packageDetail are required")
        if body["marketplaceId"] != order["MarketplaceId"]:
            raise ApiError(400, "InvalidInput", "Marketplace id does not match the order", "1001")
        reference = str(package.get("packageReferenceId") or "")
        if not reference.isdigit() or int(reference) <= 0:
            raise ApiError(400, "InvalidInput", "packageReferenceId must be a positive number")
        if not package.get("carrierCode") or not package.get("trackingNumber"):
            raise ApiError(400, "InvalidInput", "carrierCode and trackingNumber are required")
        if package["carrierCode"] == "Other" and not package.get("carrierName"):
            raise ApiError(400, "InvalidInput", "carrierName is required when carrierCode is Other")
        if parse_iso(package.get("shipDate")) is None:
            raise ApiError(400, "InvalidInput", "Invalid Input")
        lines = package.get("orderItems")
        if not isinstance(lines, list) or not lines:
            raise ApiError(400, "InvalidInput", "orderItems is required")
        if order.get("FulfillmentChannel") == "AFN":
            raise ApiError(400, "InvalidInput", "The order is fulfilled by Amazon")
        if order["OrderStatus"] not in ("Unshipped", "PartiallyShipped", "Shipped"):
            raise ApiError(400, "InvalidInput", f"An order in status {order['OrderStatus']} cannot be confirmed")
        by_id = {item["OrderItemId"]: item for item in items}
        previous = next((s for s in state.shipments if s["orderId"] == order_id
                         and s["packageDetail"]["packageReferenceId"] == reference), None)
        shipped = {i: by_id[i]["QuantityShipped"] for i in by_id}
        if previous:  # the same package again edits it
            for line in previous["packageDetail"]["orderItems"]:
                shipped[line["orderItemId"]] -= line["quantity"]
        for line in lines:
            item_id, quantity = line.get("orderItemId") if isinstance(line, dict) else None, \
                line.get("quantity") if isinstance(line, dict) else None
            if item_id not in by_id:
                raise ApiError(400, "InvalidInput", f"Unknown orderItemId {item_id}")
            if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
                raise ApiError(400, "InvalidInput", f"Invalid quantity for {item_id}")
            shipped[item_id] += quantity
            if shipped[item_id] > by_id[item_id]["QuantityOrdered"]:
                raise ApiError(400, "InvalidInput", f"Quantity shipped exceeds quantity ordered for {item_id}")
        for item_id, quantity in shipped.items():
            by_id[item_id]["QuantityShipped"] = quantity
        if previous:
            state.shipments.remove(previous)
        state.shipments.append({"orderId": order_id, "marketplaceId": body["marketplaceId"],
                                "packageDetail": copy.deepcopy(package), "at": iso(state.now())})
        done = all(i["QuantityShipped"] >= i["QuantityOrdered"] for i in items)
        order["OrderStatus"] = "Shipped" if done else "PartiallyShipped"
        order["LastUpdateDate"] = iso(state.now())
        if not record.get("documented"):
            state._settle(order_id)
        return "", 204

    # --- Listings Items API 2021-08-01 -------------------------------------------------------
    def listing_target(seller_id: str) -> set[str]:
        if seller_id != state.seller_id:
            raise ApiError(403, "Unauthorized", "Access to requested resource is denied.")
        ids = {m.strip() for m in request.args.get("marketplaceIds", "").split(",") if m.strip()}
        if not ids:
            raise ApiError(400, "InvalidInput", "Missing required parameter marketplaceIds")
        return ids

    @app.get("/listings/2021-08-01/items/<seller_id>/<path:sku>")
    @sp_api("getListingsItem")
    def get_listings_item(seller_id: str, sku: str) -> Any:
        markets = listing_target(seller_id)
        listing = state.listings.get(sku)
        if listing is None:
            raise ApiError(404, "NOT_FOUND", f"SKU '{sku}' not found in marketplace")
        offers = [{"marketplace_id": m, "currency": p["currency"], "audience": "ALL",
                   "our_price": [{"schedule": [{"value_with_tax": Decimal(p["amount"])}]}]}
                  for m, p in sorted(listing["prices"].items()) if m in markets]
        body: dict[str, Any] = {"sku": sku, "attributes": {
            "fulfillment_availability": [{"fulfillment_channel_code": "DEFAULT", "quantity": listing["quantity"]}],
            "purchasable_offer": offers}}
        if "fulfillmentAvailability" in request.args.get("includedData", "").split(","):
            body["fulfillmentAvailability"] = [{"fulfillmentChannelCode": "DEFAULT", "quantity": listing["quantity"]}]
        return app.response_class(dumps_exact(body), mimetype="application/json")

    @app.patch("/listings/2021-08-01/items/<seller_id>/<path:sku>")
    @sp_api("patchListingsItem")
    def patch_listings_item(seller_id: str, sku: str) -> Any:
        markets = listing_target(seller_id)
        try:
            body = json.loads(request.get_data(), parse_float=Decimal)
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("productType"), str) or \
                not isinstance(body.get("patches"), list) or not body["patches"]:
            raise ApiError(400, "InvalidInput", "productType and at least one patch are required")
        submission = state.token()
        issues: list[dict[str, Any]] = []
        quantity = None
        offers: dict[str, dict[str, str]] = {}
        listing = state.listings.get(sku)
        if listing is None:
            issues.append({"code": "ITEM_NOT_FOUND", "message": f"No listing for SKU '{sku}' (sandbox)",
                           "severity": "ERROR"})
        for patch in body["patches"]:
            if not isinstance(patch, dict) or patch.get("op") not in ("add", "replace", "merge", "delete") or \
                    not str(patch.get("path", "")).startswith("/attributes/"):
                raise ApiError(400, "InvalidInput", "Invalid JSON patch operation")
            if patch["path"] == "/attributes/purchasable_offer" and patch["op"] != "delete":
                offers.update(purchasable_offers(patch.get("value"), markets, issues))
            if patch["path"] != "/attributes/fulfillment_availability" or patch["op"] == "delete":
                continue
            for entry in patch.get("value") or [None]:
                value = entry.get("quantity") if isinstance(entry, dict) else None
                if not isinstance(entry, dict) or not entry.get("fulfillment_channel_code") or \
                        isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    issues.append({"code": "4000001", "severity": "ERROR",
                                   "message": "The value for 'quantity' must be a whole number of 0 or more",
                                   "attributeNames": ["fulfillment_availability"]})
                elif entry["fulfillment_channel_code"] == "DEFAULT":
                    quantity = value
        status = "INVALID" if issues else "ACCEPTED"
        if status == "ACCEPTED" and listing is not None and quantity is not None:
            listing["quantity"] = quantity
        if status == "ACCEPTED" and listing is not None:
            listing["prices"].update(offers)
        state.submissions.append({"sku": sku, "marketplaceIds": sorted(markets), "status": status,
                                  "submissionId": submission, "body": body})
        return jsonify({"sku": sku, "status": status, "submissionId": submission, "issues": issues})

    def purchasable_offers(value: Any, markets: set[str], issues: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
        """purchasable_offer's value -> {marketplace id: {currency, amount}}; problems go to `issues`."""
        found: dict[str, dict[str, str]] = {}

        def issue(message: str) -> None:
            issues.append({"code": "4000001", "severity": "ERROR", "message": message,
                           "attributeNames": ["purchasable_offer"]})

        if not isinstance(value, list) or not value:
            issue("The value for 'purchasable_offer' must be a non-empty list of offers")
            return found
        for offer in value:
            if not isinstance(offer, dict):
                issue("An offer in 'purchasable_offer' must be an object")
                continue
            market, currency = offer.get("marketplace_id"), offer.get("currency")
            if market not in markets:
                issue(f"The marketplace_id '{market}' is not among the requested marketplaceIds")
                continue
            expected = MARKETPLACES.get(market, ("", "USD"))[1]
            if currency != expected:
                issue(f"The currency '{currency}' is not valid for marketplace {market}; expected {expected}")
                continue
            schedules = [s for price in offer.get("our_price") or [] if isinstance(price, dict)
                         for s in price.get("schedule") or []]
            if not schedules:
                continue  # an offer without our_price sets no price
            amount = schedules[0].get("value_with_tax") if isinstance(schedules[0], dict) else None
            try:
                exact = Decimal(amount) if isinstance(amount, int | Decimal) and not isinstance(amount, bool) \
                    else None
            except InvalidOperation:
                exact = None
            if exact is None or not exact.is_finite() or exact <= 0:
                issue(f"The value for 'value_with_tax' must be a number greater than 0: {amount!r}")
            elif exact != exact.quantize(Decimal(1).scaleb(-minor_units(currency))):
                issue(f"The value for 'value_with_tax' has more decimals than {currency} allows: {exact}")
            else:
                found[market] = {"currency": currency, "amount": _amount(exact, currency)["Amount"]}
        return found

    # --- sandbox controls --------------------------------------------------------------------
    @app.get("/_sandbox/listings/<path:sku>")
    def sandbox_listing(sku: str) -> Any:
        with state.lock:
            listing = state.listings.get(sku)
            return (jsonify(listing), 200) if listing else (jsonify({"error": "no such sku"}), 404)

    @app.get("/_sandbox/shipments")
    def sandbox_shipments() -> Any:
        with state.lock:
            return jsonify(state.shipments)

    @app.post("/_sandbox/faults")
    def sandbox_faults() -> Any:
        try:
            state.faults.update(**(request.get_json(silent=True) or {}))
        except (ValueError, TypeError) as exc:
            return jsonify({"error": str(exc)}), 400
        return jsonify({"ok": True})

    @app.post("/_sandbox/advance")
    def sandbox_advance() -> Any:
        return jsonify({"updated": state.advance(int(request.args.get("count", "5")))})

    return app
