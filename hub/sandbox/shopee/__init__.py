"""A local Shopee Open Platform v2: signed calls, token refresh, orders, products, stock, prices, ship_order.

Checks as Shopee does (https://open.shopee.com/developer-guide/16): partner_id/timestamp/sign on every
call, access_token/shop_id on shop calls, sign = hex(HMAC-SHA256(partner_key, partner_id + path + timestamp
[+ access_token + shop_id])) compared with hmac.compare_digest, timestamp within 5 minutes. Answers use
the envelope {request_id, error, message, warning, response}: HTTP 403 for sign/auth/timestamp errors,
HTTP 200 with `error` set for parameter and business errors.

Rate limit (Shopee publishes none per endpoint for v2): a token bucket per shop, 10 requests/s with a burst
of 20, answering HTTP 429 with error `error_too_many_request` and no Retry-After header. The error name and
the only published figure come from the v1 error table ("error_too_many_request: Too many request. Exceed
1000 request per min will be banned for an hour", about 16.7/s), and v2 integrations handle HTTP 429 with
that error; 10/s keeps a connector that obeys the bucket well under the ban threshold.

Token errors: an expired or unknown access token answers 403 `invalid_acceess_token` (sic, as integrators
report the live API spelling it), a wrong shop or partner 403 `error_auth`, a wrong signature 403
`error_sign` "Wrong sign.", a timestamp outside 5 minutes 403 `invalid_timestamp` (name unverified).

Prices (v2.product.update_price, https://open.shopee.com/documents/v2/v2.product.update_price?module=89&type=1):
the shop sells in its region's currency (create_app(region=...), SG by default); one item per call with 1 to 50
price_list entries, else `error_param`; an unknown item `error_item_not_found`; an unknown model, a price not above
zero or with more decimals than the region's prices have lands in `failure_list` while the rest is applied.
Request numbers are parsed as Decimal, so what the connector sent is what is stored.

State: app.extensions["sandbox"] (ShopeeState) and GET /_sandbox/state (prices as exact decimal strings);
POST /_sandbox/faults sets knobs; POST /_sandbox/comments adds a buyer's rating (v2.product.get_comment serves them);
POST /_sandbox/expire_token expires the current access token.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import Flask, Response, request

from hub.sandbox.faults import Faults
from hub.sandbox.people import person
from hub.sandbox.ratelimit import TokenBucket

PARTNER_ID = "2001887"
PARTNER_KEY = "sandbox-shopee-partner-key-0123456789abcdef"
SHOP_ID = "14701711"
TIMESTAMP_WINDOW = 300
ACCESS_TOKEN_SECONDS = 14400
MAX_RANGE = 15 * 24 * 3600
PUBLIC_PATHS = {"/api/v2/auth/access_token/get"}

# region -> (currency, decimals used by Shopee's prices there, price scale)
REGIONS: dict[str, tuple[str, int, int]] = {
    "SG": ("SGD", 2, 1), "MY": ("MYR", 2, 4), "TH": ("THB", 2, 30), "TW": ("TWD", 0, 30),
    "VN": ("VND", 0, 20000), "PH": ("PHP", 2, 50), "ID": ("IDR", 0, 15000), "BR": ("BRL", 2, 5),
}
LOCAL = {
    "MY": ("Nur Aisyah binti Ahmad", "Kuala Lumpur", "Jalan Bukit Bintang 12", "55100"),
    "TH": ("สมชาย ใจดี", "กรุงเทพมหานคร", "ถนนสุขุมวิท 21", "10110"),
    "TW": ("陳怡君", "台北市", "信義路五段7號", "110"),
    "PH": ("Maria Dela Cruz", "Makati", "Ayala Avenue 6750", "1226"),
    "ID": ("Siti Nurhaliza", "Jakarta", "Jl. M.H. Thamrin No. 1", "10310"),
}
CATALOGUE = [  # (item_id, name, item_sku, base price in SGD-ish units, [(model_id, model_name, model_sku)])
    (800001, "Kopi Tiam Mug", "MUG", Decimal("12.90"), [(900011, "Blue", "MUG-BLUE"), (900012, "Red", "MUG-RED")]),
    (800002, "Batik Scarf", "SCARF", Decimal("24.50"), []),
    (800003, "Rattan Basket", "BASKET", Decimal("18.00"), [(900031, "S", "BASKET-S"), (900032, "L", "BASKET-L")]),
    (800004, "Pandan Candle", "CANDLE", Decimal("9.90"), []),
    (800005, "Phone Strap", "STRAP", Decimal("3.30"), [(900051, "Black", "STRAP-BK"), (900052, "Pink", "")]),
    (800006, "Nón lá Hat", "NON-LA", Decimal("7.50"), []),
]


NEXT_STATUS = {"UNPAID": "READY_TO_SHIP", "PROCESSED": "SHIPPED", "SHIPPED": "TO_CONFIRM_RECEIVE",
               "TO_CONFIRM_RECEIVE": "COMPLETED", "IN_CANCEL": "CANCELLED", "RETRY_SHIP": "SHIPPED"}


def _sign(partner_id: str, path: str, timestamp: str, access_token: str = "", shop_id: str = "") -> str:
    base = f"{partner_id}{path}{timestamp}{access_token}{shop_id}"
    return hmac.new(PARTNER_KEY.encode(), base.encode(), hashlib.sha256).hexdigest()


@dataclass
class ShopeeState:
    clock: Callable[[], float]
    access_token: str = "sandbox-access-token-0"  # noqa: S105  (sandbox)
    refresh_token: str = "sandbox-refresh-token-0"  # noqa: S105  (sandbox)
    token_expires_at: float = 0.0
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    stock: dict[tuple[int, int], int] = field(default_factory=dict)
    shipments: dict[str, dict[str, Any]] = field(default_factory=dict)
    stock_calls: list[dict[str, Any]] = field(default_factory=list)
    region: str = "SG"
    prices: dict[tuple[int, int], Decimal] = field(default_factory=dict)  # original_price, shop currency
    price_calls: list[str] = field(default_factory=list)  # raw update_price bodies, as received
    comments: list[dict[str, Any]] = field(default_factory=list)  # buyers' ratings, get_comment shape
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def currency(self) -> str:
        return REGIONS[self.region][0]

    @property
    def credentials(self) -> dict[str, str]:
        return {"partner_id": PARTNER_ID, "partner_key": PARTNER_KEY, "shop_id": SHOP_ID,
                "access_token": self.access_token, "refresh_token": self.refresh_token}

    def bump(self, order: dict[str, Any]) -> None:
        order["update_time"] = max(int(self.clock()), int(order["update_time"]) + 1)


def _money(value: Decimal, decimals: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-decimals))


def _seed_orders(state: ShopeeState, rng: random.Random, count: int, now: int) -> None:
    statuses = (["COMPLETED"] * 6 + ["SHIPPED"] * 3 + ["READY_TO_SHIP"] * 4 + ["PROCESSED"] * 2 + ["UNPAID"] * 2
                + ["CANCELLED"] * 2 + ["IN_CANCEL", "TO_RETURN", "TO_CONFIRM_RECEIVE", "RETRY_SHIP"])
    for _ in range(count):
        region = rng.choice(list(REGIONS))
        currency, decimals, scale = REGIONS[region]
        if region in LOCAL:
            name, city, street, postal = LOCAL[region]
            phone: str | None = f"{rng.randrange(10, 99)}******{rng.randrange(10, 99)}"
        else:
            who = person(rng, (region,))
            name, city, street, postal, phone = who.name, who.city, who.street, who.postal_code, who.phone
        created = now - rng.randrange(3600, 60 * 24 * 3600)  # the last 60 days: several 15-day windows
        updated = min(now - 60, created + rng.randrange(0, 20 * 24 * 3600))
        status = rng.choice(statuses)
        items = []
        for item_id, item_name, item_sku, base, models in rng.sample(CATALOGUE, rng.randrange(1, 3)):
            model_id, model_name, model_sku = rng.choice(models) if models else (0, "", "")
            original = _money(base * scale, decimals)
            discounted = _money(original * Decimal("0.9"), decimals) if rng.random() < 0.3 else original
            qty = 99999 if rng.random() < 0.01 else rng.randrange(1, 4)
            items.append({
                "item_id": item_id, "item_name": item_name, "item_sku": item_sku, "model_id": model_id,
                "model_name": model_name, "model_sku": model_sku, "model_quantity_purchased": qty,
                "model_original_price": original, "model_discounted_price": discounted, "wholesale": False,
                "weight": Decimal("0.4"), "order_item_id": item_id, "promotion_type": "", "promotion_id": 0,
            })
        shipping = _money(Decimal("2.50") * scale, decimals)
        total = sum((i["model_discounted_price"] * i["model_quantity_purchased"] for i in items), Decimal(0))
        sn = ""
        while not sn or sn in state.orders:
            sn = f"{time.strftime('%y%m%d', time.gmtime(created))}{rng.randrange(16**8):08X}"
        address = None if rng.random() < 0.05 else {
            "name": name, "phone": phone or "", "town": "", "district": "", "city": city, "state": "",
            "region": region, "zipcode": postal, "full_address": street}
        order = {
            "order_sn": sn, "region": region, "currency": currency, "cod": rng.random() < 0.15,
            "total_amount": total + shipping, "order_status": status, "shipping_carrier": "Standard Delivery",
            "payment_method": "Credit Card", "estimated_shipping_fee": shipping, "message_to_seller": "",
            "create_time": created, "update_time": updated, "days_to_ship": 3, "ship_by_date": created + 3 * 86400,
            "buyer_user_id": rng.randrange(10**6, 10**8), "buyer_username": f"buyer{rng.randrange(10**4, 10**5)}",
            "recipient_address": address, "actual_shipping_fee": shipping, "item_list": items,
            "pay_time": None if status == "UNPAID" else created + 60, "split_up": False, "note": "",
            "cancel_by": "buyer" if status == "CANCELLED" else "", "cancel_reason": "", "buyer_cancel_reason": "",
            "package_list": [{"package_number": f"OFG{rng.randrange(10**13, 10**14)}",
                              "logistics_status": "LOGISTICS_PICKUP_DONE" if status in {
                                  "SHIPPED", "COMPLETED", "TO_CONFIRM_RECEIVE", "TO_RETURN"} else "LOGISTICS_READY",
                              "shipping_carrier": "Standard Delivery",
                              "item_list": [{"item_id": i["item_id"], "model_id": i["model_id"]} for i in items]}],
        }
        if status == "PROCESSED" and len(items) > 1 and rng.random() < 0.6:  # split: one package already gone
            order["split_up"] = True
            order["package_list"] = [
                {"package_number": f"OFG{rng.randrange(10**13, 10**14)}", "shipping_carrier": "Standard Delivery",
                 "logistics_status": "LOGISTICS_PICKUP_DONE" if n == 0 else "LOGISTICS_READY",
                 "item_list": [{"item_id": i["item_id"], "model_id": i["model_id"]}]}
                for n, i in enumerate(items)]
        if status == "UNPAID" and rng.random() < 0.5:
            del order["total_amount"]  # not priced yet
        if rng.random() < 0.1:
            del order["buyer_username"]
        state.orders[sn] = order
    trap = state.orders[min(state.orders)]  # a float trap: 3 x 0.1 summed in binary floating point
    trap.update(currency="SGD", region="SG", total_amount=Decimal("0.30000000000000004"))
    trap["item_list"] = [{**trap["item_list"][0], "model_original_price": Decimal("0.1"),
                          "model_discounted_price": Decimal("0.1"), "model_quantity_purchased": 3}]
    for item_id, _, _, _, models in CATALOGUE:
        for model_id, _, _ in models or [(0, "", "")]:
            state.stock[(item_id, model_id)] = rng.randrange(0, 200)


COMMENT_TEXTS = {5: "Very good, fast delivery!", 4: "Good item, as pictured.", 3: "Ok lah.",
                 2: "Colour different from photo.", 1: "Item damaged, seller slow to reply."}


def add_comment(state: ShopeeState, item_id: int, rating: int, text: str, *, model_id: int = 0,
                buyer: str = "buyer", at: int | None = None, hidden: bool = False,
                photos: list[str] | None = None, order_sn: str = "") -> dict[str, Any]:
    """A buyer's rating of an item as get_comment lists it."""
    comment = {
        "order_sn": order_sn, "comment_id": 7_000_001 + len(state.comments), "comment": text,
        "buyer_username": buyer, "item_id": item_id, "model_id": model_id,
        "model_id_list": [model_id] if model_id else [], "rating_star": rating, "editable": "EDITABLE",
        "hidden": hidden, "create_time": int(at if at is not None else state.clock()),
        "media": {"image_url_list": photos or [], "video_url_list": []},
    }
    state.comments.append(comment)
    return comment


def _seed_comments(state: ShopeeState, seed: int) -> None:
    """Two to four ratings per item over the last 20 days; their own random stream, so the seeded orders and
    stock stay as they were."""
    rng = random.Random(f"{seed}-comments")  # noqa: S311  (test data)
    now = int(state.clock())
    for item_id, _, _, _, models in CATALOGUE:
        for _ in range(rng.randint(2, 4)):
            rating = rng.choices((5, 4, 3, 2, 1), weights=(45, 25, 12, 10, 8))[0]
            model_id = rng.choice(models)[0] if models else 0
            photos = [f"https://cf.shopee.sg/file/sandbox-{item_id}-{rng.randrange(10**6)}"] if rng.random() < 0.3 \
                else []
            add_comment(state, item_id, rating, COMMENT_TEXTS[rating], model_id=model_id,
                        buyer=f"buyer{rng.randrange(10**4, 10**5)}", at=now - rng.randrange(3600, 20 * 86400),
                        hidden=rng.random() < 0.05, photos=photos)


def _dump(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)  # Shopee sends amounts as JSON numbers
    raise TypeError(type(value).__name__)


def _seed_prices(state: ShopeeState) -> None:
    _, decimals, scale = REGIONS[state.region]
    for item_id, _, _, base, models in CATALOGUE:
        for model_id, _, _ in models or [(0, "", "")]:
            state.prices[(item_id, model_id)] = _money(base * scale, decimals)


def _stock_info(stock: int) -> dict[str, Any]:
    """stock_info_v2 as get_item_base_info and get_model_list give it: one seller location, nothing reserved.
    https://open.shopee.com/documents/v2/v2.product.get_item_base_info?module=89&type=1"""
    return {"summary_info": {"total_reserved_stock": 0, "total_available_stock": stock},
            "seller_stock": [{"location_id": "", "stock": stock}]}


def _price_info(currency: str, price: Decimal) -> dict[str, Any]:
    return {"currency": currency, "original_price": price, "current_price": price,
            "inflated_price_of_original_price": price, "inflated_price_of_current_price": price}


def create_app(seed: int = 42, orders: int = 200, clock: Callable[[], float] | None = None,
               faults: Faults | None = None, *, rate: float = 10.0, burst: float = 20.0, region: str = "SG",
               malformed_order_rate: float = 0.0) -> Flask:
    """`malformed_order_rate`: that share of orders (seeded) is detailed without `currency`, which the connector
    rejects."""
    clock = clock or time.time
    faults = faults or Faults()
    rng = random.Random(seed)  # noqa: S311  (test data)
    if region not in REGIONS:
        raise ValueError(f"unknown Shopee region {region!r}")
    state = ShopeeState(clock=clock, token_expires_at=clock() + ACCESS_TOKEN_SECONDS, region=region)
    _seed_orders(state, rng, orders, int(clock()))
    faulty = random.Random(f"{seed}-malformed")  # noqa: S311  (its own: other seeded data stays as it was)
    malformed = {sn for sn in sorted(state.orders) if faulty.random() < malformed_order_rate}
    _seed_prices(state)
    _seed_comments(state, seed)
    buckets: dict[str, TokenBucket] = {}
    app = Flask("sandbox-shopee")
    app.extensions["sandbox"] = state
    app.extensions["faults"] = faults

    def answer(status: int = 200, error: str = "", message: str = "", response: Any = None, *,
               top: dict[str, Any] | None = None, warning: str = "") -> Response:
        body: dict[str, Any] = {"request_id": uuid.uuid4().hex, "error": error, "message": message,
                                "warning": warning}
        if top:
            body.update(top)
        else:
            body["response"] = response
        text = json.dumps(body, default=_dump, ensure_ascii=False)
        if faults.roll(faults.malformed_rate):
            text = text[: len(text) // 2]
        return Response(text, status=status, mimetype="application/json")

    @app.before_request
    def guard():
        if request.path.startswith("/_sandbox"):
            return None
        faults.delay()
        args = request.args
        partner_id, stamp, signature = args.get("partner_id", ""), args.get("timestamp", ""), args.get("sign", "")
        if not partner_id or not stamp or not signature:
            return answer(403, "error_param", "partner_id, timestamp and sign are required.")
        if partner_id != PARTNER_ID:
            return answer(403, "error_auth", "Invalid partner_id.")
        if not stamp.isdigit() or abs(int(clock()) - int(stamp)) > TIMESTAMP_WINDOW:
            return answer(403, "invalid_timestamp", "Invalid timestamp.")
        if request.path in PUBLIC_PATHS:
            expected = _sign(partner_id, request.path, stamp)
        else:
            token, shop_id = args.get("access_token", ""), args.get("shop_id", "")
            expected = _sign(partner_id, request.path, stamp, token, shop_id)
        if not hmac.compare_digest(expected, signature):
            return answer(403, "error_sign", "Wrong sign.")
        if request.path not in PUBLIC_PATHS:
            if args.get("shop_id") != SHOP_ID:
                return answer(403, "error_auth", "Invalid shop_id.")
            if not hmac.compare_digest(args.get("access_token", ""), state.access_token) \
                    or clock() >= state.token_expires_at:
                return answer(403, "invalid_acceess_token", "Invalid access_token.")
        bucket = buckets.setdefault(args.get("shop_id") or partner_id, TokenBucket(rate, burst, clock))
        if faults.take_throttle() or bucket.take() is not None:
            return answer(429, "error_too_many_request", "Too many request, please try again later.")
        if faults.roll(faults.error_rate):
            return answer(500, "error_server", "Something wrong. Please try later.")
        return None

    def json_body() -> dict[str, Any]:
        data = request.get_json(silent=True)
        return data if isinstance(data, dict) else {}

    @app.post("/api/v2/auth/access_token/get")
    def refresh():
        data = json_body()
        if str(data.get("partner_id")) != PARTNER_ID or str(data.get("shop_id")) != SHOP_ID:
            return answer(403, "error_auth", "Invalid partner_id or shop_id.")
        with state.lock:
            if not hmac.compare_digest(str(data.get("refresh_token", "")), state.refresh_token):
                return answer(403, "error_auth", "Invalid refresh_token.")
            serial = uuid.uuid4().hex[:12]
            state.access_token, state.refresh_token = f"sandbox-access-{serial}", f"sandbox-refresh-{serial}"
            state.token_expires_at = clock() + ACCESS_TOKEN_SECONDS
            return answer(top={"access_token": state.access_token, "refresh_token": state.refresh_token,
                               "expire_in": ACCESS_TOKEN_SECONDS, "partner_id": int(PARTNER_ID),
                               "shop_id": int(SHOP_ID)})

    @app.get("/api/v2/order/get_order_list")
    def order_list():
        args = request.args
        if args.get("time_range_field") not in {"create_time", "update_time"}:
            return answer(200, "error_param", "time_range_field must be create_time or update_time.")
        try:
            time_from, time_to = int(args["time_from"]), int(args["time_to"])
            page_size = int(args.get("page_size", 0))
            offset = int(args.get("cursor") or 0)
        except (KeyError, ValueError):
            return answer(200, "error_param", "time_from, time_to, page_size and cursor must be integers.")
        if time_to - time_from > MAX_RANGE or time_to < time_from:
            return answer(200, "error_param", "The time range should be no more than 15 days.")
        if not 1 <= page_size <= 100:
            return answer(200, "error_param", "page_size should be between 1 and 100.")
        field_name = args["time_range_field"]
        with state.lock:
            matched = sorted((o for o in state.orders.values() if time_from <= o[field_name] <= time_to),
                             key=lambda o: (o[field_name], o["order_sn"]))
        start = offset
        if faults.repeat_across_pages and offset > 0:
            start -= 1
        page = matched[start:offset + page_size]
        more = offset + page_size < len(matched)
        return answer(response={"more": more, "next_cursor": str(offset + page_size) if more else "",
                                "order_list": [{"order_sn": o["order_sn"]} for o in page]})

    @app.get("/api/v2/order/get_order_detail")
    def order_detail():
        numbers = [n for n in request.args.get("order_sn_list", "").split(",") if n]
        if not numbers or len(numbers) > 50:
            return answer(200, "error_param", "order_sn_list should contain 1 to 50 order_sn.")
        wanted = {f for f in request.args.get("response_optional_fields", "").split(",") if f}
        basic = {"order_sn", "region", "currency", "cod", "order_status", "create_time", "update_time",
                 "message_to_seller", "days_to_ship", "ship_by_date"}
        with state.lock:
            found = [json.loads(json.dumps(state.orders[n], default=_dump), parse_float=Decimal)
                     for n in numbers if n in state.orders]
        result = [{k: v for k, v in o.items() if (k in basic or k in wanted)
                   and not (k == "currency" and o["order_sn"] in malformed)} for o in found]
        missing = [n for n in numbers if n not in state.orders]  # reported in `warning`, the rest is answered
        return answer(response={"order_list": result},
                      warning=f"order_sn not found: {','.join(missing)}" if missing else "")

    @app.get("/api/v2/product/get_item_list")
    def item_list():
        offset, size = int(request.args.get("offset", 0)), int(request.args.get("page_size", 10))
        if not 1 <= size <= 100:
            return answer(200, "error_param", "page_size should be between 1 and 100.")
        page = CATALOGUE[offset:offset + size]
        more = offset + size < len(CATALOGUE)
        return answer(response={
            "item": [{"item_id": i[0], "item_status": "NORMAL", "update_time": int(clock())} for i in page],
            "total_count": len(CATALOGUE), "has_next_page": more, "next_offset": offset + size if more else 0})

    @app.get("/api/v2/product/get_item_base_info")
    def item_base_info():
        ids = {int(i) for i in request.args.get("item_id_list", "").split(",") if i.isdigit()}
        with state.lock:
            return answer(response={"item_list": [
                {"item_id": i[0], "item_name": i[1], "item_sku": i[2], "item_status": "NORMAL", "has_model": bool(i[4]),
                 **({} if i[4] else {"price_info": [_price_info(state.currency, state.prices[(i[0], 0)])],
                                     "stock_info_v2": _stock_info(state.stock[(i[0], 0)])})}
                for i in CATALOGUE if i[0] in ids]})

    @app.get("/api/v2/product/get_model_list")
    def model_list():
        item_id = int(request.args.get("item_id", 0))
        item = next((i for i in CATALOGUE if i[0] == item_id), None)
        if item is None:
            return answer(200, "error_item_not_found", "Item not found.")
        with state.lock:
            models = [{"model_id": m, "model_sku": sku, "tier_index": [n],
                       "price_info": [_price_info(state.currency, state.prices[(item_id, m)])],
                       "stock_info_v2": _stock_info(state.stock[(item_id, m)])}
                      for n, (m, _, sku) in enumerate(item[4])]
        return answer(response={"tier_variation": [{"name": "Variation", "option_list": [
            {"option": name} for _, name, _ in item[4]]}], "model": models})

    @app.post("/api/v2/product/update_stock")
    def update_stock():
        data = json_body()
        item_id, rows = data.get("item_id"), data.get("stock_list")
        if not isinstance(item_id, int) or not isinstance(rows, list) or not rows:
            return answer(200, "error_param", "item_id and stock_list are required.")
        if not any(i[0] == item_id for i in CATALOGUE):
            return answer(200, "error_item_not_found", "Item not found.")
        success, failure = [], []
        with state.lock:
            state.stock_calls.append(data)
            for row in rows:
                model_id = row.get("model_id", 0) if isinstance(row, dict) else None
                stocks = row.get("seller_stock") if isinstance(row, dict) else None
                stock = stocks[0].get("stock") if isinstance(stocks, list) and stocks else None
                if (item_id, model_id) not in state.stock:
                    failure.append({"model_id": model_id, "failed_reason": "model_id not found"})
                elif not isinstance(stock, int) or stock < 0:
                    failure.append({"model_id": model_id, "failed_reason": "stock must be a whole number >= 0"})
                else:
                    state.stock[(item_id, model_id)] = stock
                    success.append({"model_id": model_id, "location_id": "", "stock": stock})
        return answer(response={"success_list": success, "failure_list": failure})

    @app.post("/api/v2/product/update_price")
    def update_price():
        raw = request.get_data(as_text=True)
        try:
            data = json.loads(raw, parse_float=Decimal)
        except ValueError:
            return answer(200, "error_param", "Request body is not valid JSON.")
        item_id = data.get("item_id") if isinstance(data, dict) else None
        rows = data.get("price_list") if isinstance(data, dict) else None
        if not isinstance(item_id, int) or isinstance(item_id, bool) or not isinstance(rows, list):
            return answer(200, "error_param", "item_id and price_list are required.")
        if not 1 <= len(rows) <= 50:
            return answer(200, "error_param", "price_list length should be between 1 to 50.")
        for row in rows:
            price = row.get("original_price") if isinstance(row, dict) else None
            model_id = row.get("model_id", 0) if isinstance(row, dict) else None
            if not isinstance(price, int | Decimal) or isinstance(price, bool) or not isinstance(model_id, int):
                return answer(200, "error_param", "price_list.original_price must be a number and model_id an "
                                                  "integer.")
        _, decimals, _ = REGIONS[state.region]
        success, failure = [], []
        with state.lock:
            if not any(key[0] == item_id for key in state.prices):
                return answer(200, "error_item_not_found", "Item not found.")
            state.price_calls.append(raw)
            for row in rows:
                model_id, price = row.get("model_id", 0), Decimal(row["original_price"])
                if (item_id, model_id) not in state.prices:
                    failure.append({"model_id": model_id, "failed_reason": "model_id not found"})
                elif price <= 0:
                    failure.append({"model_id": model_id, "failed_reason": "Price should be greater than 0."})
                elif price != price.quantize(Decimal(1).scaleb(-decimals)):
                    failure.append({"model_id": model_id, "failed_reason":
                                    f"Price in {state.currency} allows at most {decimals} decimal places."})
                else:
                    state.prices[(item_id, model_id)] = price
                    success.append({"model_id": model_id, "original_price": price})
        return answer(response={"success_list": success, "failure_list": failure})

    @app.get("/api/v2/product/get_comment")
    def get_comment():
        """Newest first; the cursor is an offset as a string (opaque to callers); item_id / comment_id narrow it."""
        args = request.args
        try:
            size = int(args.get("page_size", 0))
            offset = int(args.get("cursor") or 0)
        except ValueError:
            return answer(200, "error_param", "page_size and cursor are invalid.")
        if not 1 <= size <= 100:
            return answer(200, "error_param", "page_size should be between 1 and 100.")
        with state.lock:
            rows = sorted(state.comments, key=lambda c: (-c["create_time"], -c["comment_id"]))[:1000]
        if args.get("item_id"):
            rows = [c for c in rows if str(c["item_id"]) == args["item_id"]]
        if args.get("comment_id"):
            rows = [c for c in rows if str(c["comment_id"]) == args["comment_id"]]
        page = rows[offset:offset + size]
        more = offset + size < len(rows)
        return answer(response={"item_comment_list": page, "more": more,
                                "next_cursor": str(offset + size) if more else ""})

    @app.post("/api/v2/logistics/ship_order")
    def ship_order():
        data = json_body()
        sn = data.get("order_sn")
        methods = [m for m in ("pickup", "dropoff", "non_integrated") if m in data]
        if not isinstance(sn, str) or len(methods) != 1:
            return answer(200, "error_param", "order_sn and exactly one of pickup, dropoff, non_integrated.")
        with state.lock:
            order = state.orders.get(sn)
            if order is None:
                return answer(200, "error_not_found", "Order not found.")
            if order["order_status"] != "READY_TO_SHIP":
                return answer(200, "logistics.ship_order_invalid_status",
                              f"Order status {order['order_status']} cannot arrange shipment.")
            tracking = (data[methods[0]] or {}).get("tracking_number") or f"SPX{uuid.uuid4().hex[:10].upper()}"
            order["order_status"] = "PROCESSED"
            for package in order.get("package_list") or []:
                package["logistics_status"] = "LOGISTICS_REQUEST_CREATED"
            state.bump(order)
            state.shipments[sn] = {"method": methods[0], "tracking_number": tracking, "request": data}
        return answer(response={})

    @app.get("/_sandbox/state")
    def dump_state():
        with state.lock:
            return Response(json.dumps({
                "orders": len(state.orders),
                "stock": [{"item_id": i, "model_id": m, "stock": s} for (i, m), s in sorted(state.stock.items())],
                "shipments": state.shipments, "credentials": state.credentials, "currency": state.currency,
                "prices": [{"item_id": i, "model_id": m, "original_price": str(p)}
                           for (i, m), p in sorted(state.prices.items())],
            }, default=_dump, ensure_ascii=False), mimetype="application/json")

    @app.post("/_sandbox/faults")
    def set_faults():
        faults.update(**json_body())
        return {"ok": True}

    @app.post("/_sandbox/tick")
    @app.post("/_sandbox/advance")  # the name the other sandboxes use
    def tick():
        """Time passes: `count` orders move one step along Shopee's flow, their update_time set to now."""
        count = int(json_body().get("count", 10))
        moved = []
        with state.lock:
            movable = sorted(sn for sn, o in state.orders.items() if o["order_status"] in NEXT_STATUS)
            for sn in rng.sample(movable, min(count, len(movable))):
                order = state.orders[sn]
                order["order_status"] = NEXT_STATUS[order["order_status"]]
                if order["order_status"] == "READY_TO_SHIP":
                    order["pay_time"] = int(clock())
                    order.setdefault("total_amount", sum(
                        (i["model_discounted_price"] * i["model_quantity_purchased"] for i in order["item_list"]),
                        Decimal(0)) + order["estimated_shipping_fee"])
                state.bump(order)
                moved.append(sn)
        return {"moved": moved}

    @app.post("/_sandbox/comments")
    def sandbox_add_comment():
        """A buyer rates an item: {item_id, rating_star, comment, model_id?, buyer_username?, hidden?}."""
        data = json_body()
        if not any(i[0] == data.get("item_id") for i in CATALOGUE) or data.get("rating_star") not in range(1, 6):
            return answer(400, "error_param", "item_id must be an item and rating_star 1 to 5.")
        with state.lock:
            comment = add_comment(state, data["item_id"], data["rating_star"], str(data.get("comment") or ""),
                                  model_id=int(data.get("model_id") or 0),
                                  buyer=str(data.get("buyer_username") or "buyer"), hidden=bool(data.get("hidden")))
        return comment

    @app.post("/_sandbox/expire_token")
    def expire_token():
        state.token_expires_at = clock()
        return {"ok": True}

    return app
