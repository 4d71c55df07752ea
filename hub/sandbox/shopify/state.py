"""The Shopify sandbox's shop: seeded orders, products and their variants (with prices), inventory levels and
fulfillment orders, in memory.

One shop in EUR (or the currency it is built with) selling abroad: each order is priced in the buyer's
(presentment) currency and every amount also exists in shop money, as Shopify's MoneyBag has it.
Rendered in both of Shopify's shapes: the GraphQL Admin `Order` node and the REST `Order` that webhooks carry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hub.money import minor_units
from hub.sandbox.people import person

SHOP_CURRENCY = "EUR"
SHOP_OFFSET = timezone(timedelta(hours=1))  # the shop's time zone; REST times carry its offset
BASE_TIME = datetime(2026, 1, 1, tzinfo=UTC)
# presentment units per EUR (fixed, so the data is reproducible)
PER_EUR = {"EUR": Decimal(1), "GBP": Decimal("0.85"), "USD": Decimal("1.08"), "JPY": Decimal(162),
           "SGD": Decimal("1.45"), "KWD": Decimal("0.331"), "PLN": Decimal("4.30"), "VND": Decimal(27000),
           "BRL": Decimal("5.40")}
TAX_RATES = {"DE": Decimal("0.19"), "FR": Decimal("0.20"), "GB": Decimal("0.20"), "US": Decimal("0.0825"),
             "JP": Decimal("0.10"), "SG": Decimal("0.09"), "KW": Decimal(0), "PL": Decimal("0.23"),
             "VN": Decimal("0.10"), "BR": Decimal(0)}
TITLES = ["Teekanne Gusseisen", "Kaffeebecher", "Leinen-Tischdecke", "Brotkorb", "Espressotasse",
          "Schneidebrett Eiche", "Messerset", "Gewürzregal", "Salzmühle", "Pfeffermühle"]


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_units(currency))


def gid(kind: str, number: int) -> str:
    return f"gid://shopify/{kind}/{number}"


@dataclass
class Variant:
    number: int
    sku: str
    title: str
    price_eur: Decimal  # what the seeded orders were priced from
    item_number: int
    product_number: int = 0
    price: Decimal = Decimal(0)  # the variant's price in the shop's currency, as productVariantsBulkUpdate sets it


@dataclass
class Line:
    number: int
    sku: str
    title: str
    quantity: int
    unit_price: Decimal
    discount: Decimal
    tax: Decimal
    tax_rate: Decimal
    fo_line_number: int
    fulfilled: int = 0


@dataclass
class Order:
    number: int
    name: str
    created_at: datetime
    updated_at: datetime
    currency: str
    taxes_included: bool
    financial: str
    lines: list[Line]
    shipping: Decimal
    email: str | None
    phone: str | None
    buyer: str
    shipping_address: dict[str, Any] | None
    billing_address: dict[str, Any] | None
    fo_number: int
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    fulfillments: list[dict[str, Any]] = field(default_factory=list)
    malformed: bool = False

    @property
    def subtotal(self) -> Decimal:
        return sum((ln.unit_price * ln.quantity - ln.discount for ln in self.lines), Decimal(0))

    @property
    def discount(self) -> Decimal:
        return sum((ln.discount for ln in self.lines), Decimal(0))

    @property
    def tax(self) -> Decimal:
        return sum((ln.tax for ln in self.lines), Decimal(0))

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.shipping + (0 if self.taxes_included else self.tax)

    @property
    def fulfillment_status(self) -> str:
        done = sum(ln.fulfilled for ln in self.lines)
        if done and all(ln.fulfilled >= ln.quantity for ln in self.lines):
            return "FULFILLED"
        return "PARTIALLY_FULFILLED" if done else "UNFULFILLED"

    @property
    def fo_status(self) -> str:
        if self.cancelled_at or self.fulfillment_status == "FULFILLED":
            return "CLOSED"
        return "IN_PROGRESS" if self.fulfillment_status == "PARTIALLY_FULFILLED" else "OPEN"


@dataclass
class Shop:
    orders: dict[int, Order]
    variants: dict[str, Variant]  # by SKU
    locations: dict[int, str]
    levels: dict[tuple[int, int], int]  # (inventory item number, location number) -> available
    currency: str = SHOP_CURRENCY  # the shop's currency: variant prices and shop money are in it
    access_token: str = "shpat_sandbox_0123456789abcdef"  # noqa: S105  (the sandbox's own, public)
    api_secret: str = "sandbox-app-secret"  # noqa: S105
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    lock: threading.RLock = field(default_factory=threading.RLock)
    # (owner gid, namespace, key) -> {"type", "value"}: what metafieldsSet stored (product ratings)
    metafields: dict[tuple[str, str, str], dict[str, str]] = field(default_factory=dict)
    _next: int = 9_000_000_000_000

    def next_number(self) -> int:
        self._next += 1
        return self._next

    def advance(self, count: int, seed: int = 0) -> list[int]:
        """Orders move on as time passes: `count` open orders are paid, shipped or refunded now."""
        rng = random.Random(seed)  # noqa: S311  (test data)
        with self.lock:
            open_orders = sorted(n for n, o in self.orders.items() if not o.cancelled_at and o.financial != "REFUNDED")
            moved = rng.sample(open_orders, min(count, len(open_orders)))
            for number in moved:
                order = self.orders[number]
                if order.financial in ("PENDING", "AUTHORIZED"):
                    order.financial = "PAID"
                elif order.fulfillment_status != "FULFILLED":
                    for line in order.lines:
                        line.fulfilled = line.quantity
                else:
                    order.financial = "PARTIALLY_REFUNDED"
                order.updated_at = self.now()
        return moved

    def order_by_fo(self, fo_number: int) -> Order | None:
        return next((o for o in self.orders.values() if o.fo_number == fo_number), None)

    def shop_amount(self, amount: Decimal, currency: str) -> Decimal:
        return (amount / PER_EUR[currency] * PER_EUR[self.currency]).quantize(quantum(self.currency), ROUND_HALF_UP)

    def products(self) -> dict[int, list[Variant]]:
        """Product number -> its variants, in SKU order."""
        grouped: dict[int, list[Variant]] = {}
        for variant in self.variants.values():
            grouped.setdefault(variant.product_number, []).append(variant)
        return grouped

    def webhook(self, number: int, topic: str = "orders/updated") -> tuple[dict[str, str], bytes]:
        """A delivery as Shopify sends it: the REST order, signed with the app secret."""
        body = json.dumps(rest_order(self, self.orders[number]), ensure_ascii=False).encode()
        signature = base64.b64encode(hmac.new(self.api_secret.encode(), body, hashlib.sha256).digest()).decode()
        headers = {"Content-Type": "application/json", "X-Shopify-Topic": topic, "X-Shopify-Hmac-Sha256": signature,
                   "X-Shopify-Shop-Domain": "sandbox.myshopify.com", "X-Shopify-API-Version": "2025-01",
                   "X-Shopify-Webhook-Id": f"wh-{number}-{topic.replace('/', '-')}"}
        return headers, body


def build_shop(seed: int = 42, count: int = 200, currency: str = SHOP_CURRENCY,
               malformed_order_rate: float = 0.0) -> Shop:
    """`currency` is the shop's own currency (EUR by default): variant prices and shop money are in it."""
    rng = random.Random(seed)  # noqa: S311  (test data)
    variants: dict[str, Variant] = {}
    for i in range(1, 31):
        sku = f"SKU-{i:04d}"
        title = f"{TITLES[i % len(TITLES)]} {i}"
        # Three variants (sizes, colours) to a product: prices are set product by product.
        variants[sku] = Variant(44_000_000_000_000 + i, sku, title, Decimal(rng.randrange(490, 19_900)) / 100,
                                46_000_000_000_000 + i, 8_000_000_000_000 + (i - 1) // 3)
    odd = "ÜBER-TASSE 0,3l"  # a SKU with a space, a comma and an umlaut: the search must quote it
    variants[odd] = Variant(44_000_000_000_099, odd, "Übertasse 0,3 l", Decimal("12.90"), 46_000_000_000_099,
                            8_000_000_000_099)
    for variant in variants.values():
        variant.price = (variant.price_eur * PER_EUR[currency]).quantize(quantum(currency), ROUND_HALF_UP)
    locations = {68_000_000_001: "Lager Berlin", 68_000_000_002: "Lager Leipzig"}
    levels = {(v.item_number, loc): rng.randrange(0, 500) for v in variants.values() for loc in locations}
    orders: dict[int, Order] = {}
    skus = list(variants)
    # Its own generator, so the rate leaves every other seeded value as it was.
    faulty = random.Random(f"{seed}-malformed")  # noqa: S311  (test data)
    for k in range(count):
        order = _order(rng, k, variants, skus)
        order.malformed = faulty.random() < malformed_order_rate
        orders[order.number] = order
    return Shop(orders=orders, variants=variants, locations=locations, levels=levels, currency=currency)


def _order(rng: random.Random, k: int, variants: dict[str, Variant], skus: list[str]) -> Order:
    buyer = person(rng)
    currency = buyer.currency
    q = quantum(currency)
    rate = TAX_RATES[buyer.country]
    included = buyer.country != "US"
    number = 6_100_000_000_000 + k * 100
    created = BASE_TIME - timedelta(days=60) + timedelta(minutes=rng.randrange(0, 60 * 24 * 58))
    updated = min(created + timedelta(minutes=rng.randrange(0, 60 * 24 * 3)), BASE_TIME)
    lines = []
    for i in range(12 if k % 37 == 5 else rng.randint(1, 4)):
        variant = variants[rng.choice(skus)]
        unit = (variant.price_eur * PER_EUR[currency]).quantize(q, ROUND_HALF_UP)
        qty = 99_999 if k % 53 == 7 and i == 0 else rng.randint(1, 3)
        discount = (unit * qty * Decimal("0.1")).quantize(q, ROUND_HALF_UP) if rng.random() < 0.2 else Decimal(0)
        net = unit * qty - discount
        tax = (net * rate / (1 + rate) if included else net * rate).quantize(q, ROUND_HALF_UP)
        lines.append(Line(14_000_000_000_000 + k * 100 + i, variant.sku, variant.title, qty, unit, discount.quantize(q),
                          tax, rate, 15_000_000_000_000 + k * 100 + i))
    address = {
        "first_name": buyer.name.split(" ")[0], "last_name": " ".join(buyer.name.split(" ")[1:]), "name": buyer.name,
        "company": None, "address1": buyer.street, "address2": None, "city": buyer.city, "province": None,
        "province_code": None, "zip": buyer.postal_code, "country_code": buyer.country, "phone": buyer.phone,
    }
    roll = rng.random()
    order = Order(
        number=number, name=f"#{1001 + k}", created_at=created, updated_at=updated, currency=currency,
        taxes_included=included, financial="PAID", lines=lines,
        shipping=(Decimal("4.90") * PER_EUR[currency]).quantize(q, ROUND_HALF_UP),
        email=buyer.email, phone=buyer.phone, buyer=buyer.name,
        shipping_address=None if rng.random() < 0.05 else dict(address),
        billing_address=None if rng.random() < 0.1 else dict(address),
        fo_number=7_000_000_000_000 + k * 100,
    )
    if roll < 0.08:
        order.cancelled_at = created + timedelta(hours=1)
        order.updated_at = max(order.updated_at, order.cancelled_at)
        order.cancel_reason = "CUSTOMER"
        order.financial = rng.choice(["VOIDED", "REFUNDED"])
    elif roll < 0.15:
        order.financial = "PENDING"
    elif roll < 0.20:
        order.financial = "AUTHORIZED"
    elif roll < 0.26:
        order.financial = "REFUNDED"
    elif roll < 0.32:
        order.financial = "PARTIALLY_REFUNDED"
        lines[0].fulfilled = lines[0].quantity
    else:
        fulfil = rng.random()
        if fulfil < 0.35:
            for line in lines:
                line.fulfilled = line.quantity
        elif fulfil < 0.5 and len(lines) > 1:
            lines[0].fulfilled = lines[0].quantity
    return order


# --- rendering ------------------------------------------------------------------------------------

def gql_decimal(value: Decimal) -> str:
    """Shopify's GraphQL `Decimal` scalar: a string, trailing zeros dropped but one decimal kept ("24.9")."""
    text = format(value.normalize(), "f")
    return text if "." in text else text + ".0"


def rest_decimal(value: Decimal, currency: str) -> str:
    """REST money: a string with at least two decimals ("24.90", "1500.00", "1.250")."""
    return str(value.quantize(Decimal("0.01") if minor_units(currency) < 2 else quantum(currency)))


def money_bag(shop: Shop, amount: Decimal, currency: str) -> dict[str, Any]:
    return {"shopMoney": {"amount": gql_decimal(shop.shop_amount(amount, currency)), "currencyCode": shop.currency},
            "presentmentMoney": {"amount": gql_decimal(amount), "currencyCode": currency}}


def rest_set(shop: Shop, amount: Decimal, currency: str) -> dict[str, Any]:
    return {"shop_money": {"amount": rest_decimal(shop.shop_amount(amount, currency), shop.currency),
                           "currency_code": shop.currency},
            "presentment_money": {"amount": rest_decimal(amount, currency), "currency_code": currency}}


def gql_time(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def rest_time(moment: datetime | None) -> str | None:
    return moment.astimezone(SHOP_OFFSET).isoformat(timespec="seconds") if moment else None


def gql_address(raw: dict[str, Any] | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    return {"name": raw["name"], "firstName": raw["first_name"], "lastName": raw["last_name"],
            "company": raw["company"], "address1": raw["address1"], "address2": raw["address2"], "city": raw["city"],
            "province": raw["province"], "provinceCode": raw["province_code"], "zip": raw["zip"],
            "countryCodeV2": raw["country_code"], "phone": raw["phone"]}


def gql_line(shop: Shop, order: Order, line: Line) -> dict[str, Any]:
    c = order.currency
    return {
        "id": gid("LineItem", line.number), "sku": line.sku, "title": line.title,
        "quantity": 0 if order.malformed else line.quantity,
        "variant": {"id": gid("ProductVariant", shop.variants[line.sku].number), "sku": line.sku},
        "originalUnitPriceSet": money_bag(shop, line.unit_price, c),
        "originalTotalSet": money_bag(shop, line.unit_price * line.quantity, c),
        "totalDiscountSet": money_bag(shop, line.discount, c),
        "taxLines": [{"priceSet": money_bag(shop, line.tax, c), "title": "VAT"}]
        if line.tax else [],
    }


def line_window(shop: Shop, order: Order, first: int, after: str | None) -> dict[str, Any]:
    start = int(decode_cursor(after).get("last_id", -1)) + 1 if after else 0
    chosen = order.lines[start:start + first]
    edges = [{"cursor": encode_cursor({"last_id": start + i}), "node": gql_line(shop, order, ln)}
             for i, ln in enumerate(chosen)]
    return {"edges": edges, "pageInfo": {"hasNextPage": start + first < len(order.lines),
                                         "endCursor": edges[-1]["cursor"] if edges else None}}


def gql_order(shop: Shop, order: Order, line_first: int = 250) -> dict[str, Any]:
    c = order.currency
    return {
        "id": gid("Order", order.number), "legacyResourceId": str(order.number), "name": order.name,
        "createdAt": gql_time(order.created_at), "processedAt": gql_time(order.created_at),
        "updatedAt": gql_time(order.updated_at), "cancelledAt": gql_time(order.cancelled_at),
        "cancelReason": order.cancel_reason, "currencyCode": shop.currency,
        "presentmentCurrencyCode": None if order.malformed else c, "taxesIncluded": order.taxes_included,
        "displayFinancialStatus": order.financial, "displayFulfillmentStatus": order.fulfillment_status,
        "email": order.email, "phone": order.phone,
        "customer": {"displayName": order.buyer, "email": order.email, "phone": order.phone},
        "totalPriceSet": money_bag(shop, order.total, c), "subtotalPriceSet": money_bag(shop, order.subtotal, c),
        "totalShippingPriceSet": money_bag(shop, order.shipping, c), "totalTaxSet": money_bag(shop, order.tax, c),
        "totalDiscountsSet": money_bag(shop, order.discount, c),
        "shippingAddress": gql_address(order.shipping_address), "billingAddress": gql_address(order.billing_address),
        "lineItems": line_window(shop, order, line_first, None),
    }


def rest_order(shop: Shop, order: Order) -> dict[str, Any]:
    c = order.currency

    def money(name: str, amount: Decimal) -> dict[str, Any]:
        shop_amount = rest_decimal(shop.shop_amount(amount, c), shop.currency)
        return {name: shop_amount, f"{name}_set": rest_set(shop, amount, c)}

    status = order.fulfillment_status
    first, _, last = order.buyer.partition(" ")
    body: dict[str, Any] = {
        "id": order.number, "admin_graphql_api_id": gid("Order", order.number), "name": order.name,
        "order_number": int(order.name[1:]), "email": order.email, "contact_email": order.email, "phone": order.phone,
        "created_at": rest_time(order.created_at), "processed_at": rest_time(order.created_at),
        "updated_at": rest_time(order.updated_at), "cancelled_at": rest_time(order.cancelled_at),
        "cancel_reason": order.cancel_reason.lower() if order.cancel_reason else None,
        "currency": shop.currency, "presentment_currency": c, "taxes_included": order.taxes_included,
        "financial_status": order.financial.lower(),
        "fulfillment_status": {"FULFILLED": "fulfilled", "PARTIALLY_FULFILLED": "partial"}.get(status),
        **money("total_price", order.total), **money("subtotal_price", order.subtotal),
        **money("total_tax", order.tax), **money("total_discounts", order.discount),
        **money("total_line_items_price", order.subtotal + order.discount),
        "total_shipping_price_set": rest_set(shop, order.shipping, c),
        "customer": {"first_name": first, "last_name": last, "email": order.email, "phone": order.phone},
        "shipping_address": _rest_address(order.shipping_address),
        "billing_address": _rest_address(order.billing_address),
        "shipping_lines": [{"title": "Standard", **money("price", order.shipping)}],
        "line_items": [{
            "id": ln.number, "admin_graphql_api_id": gid("LineItem", ln.number), "sku": ln.sku, "title": ln.title,
            "name": ln.title, "quantity": ln.quantity, "fulfillable_quantity": ln.quantity - ln.fulfilled,
            "fulfillment_status": "fulfilled" if ln.fulfilled >= ln.quantity else ("partial" if ln.fulfilled else None),
            **money("price", ln.unit_price), **money("total_discount", ln.discount),
            "tax_lines": [{"title": "VAT", "rate": str(ln.tax_rate), **money("price", ln.tax)}] if ln.tax else [],
        } for ln in order.lines],
        "fulfillments": [{
            "id": int(f["id"].rsplit("/", 1)[-1]), "admin_graphql_api_id": f["id"], "order_id": order.number,
            "status": f["status"].lower(), "tracking_company": f["trackingInfo"][0]["company"],
            "tracking_number": f["trackingInfo"][0]["number"],
            "tracking_numbers": [t["number"] for t in f["trackingInfo"] if t["number"]],
            "line_items": [{"id": line, "quantity": qty} for line, qty in f["lines"]],
        } for f in order.fulfillments],
        "refunds": [],
    }
    return body


def _rest_address(raw: dict[str, Any] | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    return dict(raw, country=raw["country_code"])


def encode_cursor(data: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(data, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str | None) -> dict[str, Any]:
    if not cursor:
        return {}
    try:
        data = json.loads(base64.b64decode(cursor.encode(), validate=True))
    except ValueError:
        raise ValueError("Invalid cursor for current pagination sort.") from None
    if not isinstance(data, dict):
        raise ValueError("Invalid cursor for current pagination sort.")
    return data
