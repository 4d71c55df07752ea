"""The sandbox shop's in-memory state: products, orders (in REST API v3 shape), notes, used OAuth nonces.

Seeded: the same seed gives the same shop. Orders are spread over the 30 days before the clock's now,
across the currencies and countries of hub.sandbox.people, with cancellations, refunds (partial and full),
unpaid and failed orders, digital orders without a shipping address, buyers without email, quantities up
to 99999 and prices whose `price` (total / quantity) is an unrounded PHP float, as WooCommerce sends it.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hub.money import minor_units
from hub.sandbox.people import person

CONSUMER_KEY = "ck_sandbox0000000000000000000000000000000"
CONSUMER_SECRET = "cs_sandbox0000000000000000000000000000000"  # noqa: S105  (the sandbox's own test key)
WEBHOOK_SECRET = "sandbox-webhook-secret"  # noqa: S105  (test secret)
SITE_OFFSET = timezone(timedelta(hours=1))  # the shop's timezone, for the site-local date_* fields
STATUSES = ("pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed", "trash")
TAX_RATES = {"DE": "0.19", "FR": "0.20", "GB": "0.20", "PL": "0.23", "JP": "0.10", "SG": "0.09", "VN": "0.10",
             "BR": "0.00", "US": "0.0725", "KW": "0.00"}
PRODUCTS = (  # sku, name, price in EUR
    ("MUG-BLUE", "Tasse \u2013 Blau", "12.90"), ("TEA-SENCHA", "Sencha 100 g", "8.50"),
    ("SCREW-M3", "Schraube M3", "0.05"),
    ("BAG-LINEN", "Leinenbeutel", "19.99"), ("CANDLE-3", "Kerze, 3 Stück", "10.00"), ("EBOOK-1", "E-Book", "7.00"),
)
RATE_FROM_EUR = {"EUR": "1", "GBP": "0.85", "USD": "1.08", "JPY": "162", "SGD": "1.45", "KWD": "0.331",
                 "PLN": "4.3", "VND": "27000", "BRL": "5.4"}


def money(value: Decimal, currency: str) -> str:
    exponent = minor_units(currency)
    return str(value.quantize(Decimal(1).scaleb(-exponent), rounding=ROUND_HALF_UP))


def gmt(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def local(moment: datetime) -> str:
    return moment.astimezone(SITE_OFFSET).replace(tzinfo=None).isoformat(timespec="seconds")


@dataclass
class ShopState:
    seed: int = 42
    order_count: int = 200
    currency: str = "EUR"  # the shop's currency (WooCommerce > Settings > General): product prices are in it
    clock: Callable[[], float] = field(default=lambda: datetime.now(UTC).timestamp())
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    products: dict[int, dict[str, Any]] = field(default_factory=dict)
    notes: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    nonces: dict[str, float] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    malformed_order_rate: float = 0.0  # share of orders served without `currency` (seeded)
    malformed: set[int] = field(default_factory=set)
    reviews: dict[int, dict[str, Any]] = field(default_factory=dict)  # product reviews, REST API v3 shape
    _next_id: int = 1000

    def __post_init__(self) -> None:
        rng = random.Random(self.seed)  # noqa: S311  (test data)
        for index, (sku, name, eur) in enumerate(PRODUCTS):
            product_id = 10 + index
            price = money(Decimal(eur) * Decimal(RATE_FROM_EUR[self.currency]), self.currency)
            self.products[product_id] = {
                "id": product_id, "name": name, "slug": sku.lower(), "type": "simple", "status": "publish",
                "sku": sku, "price": price, "regular_price": price, "manage_stock": True,
                "stock_quantity": rng.randrange(0, 500), "stock_status": "instock",
                "date_modified_gmt": gmt(self.now()),
            }
        start = self.now() - timedelta(days=30)
        faulty = random.Random(f"{self.seed}-malformed")  # noqa: S311  (its own: other seeded data stays as it was)
        for number in range(self.order_count):
            created = start + timedelta(minutes=number * (30 * 24 * 60) // max(self.order_count, 1))
            order_id = self.new_id()
            self.orders[order_id] = self._order(rng, order_id, created)
            if faulty.random() < self.malformed_order_rate:
                self.malformed.add(order_id)
        self._seed_reviews()

    # --- time and ids ---------------------------------------------------------------------------------------
    def now(self) -> datetime:
        return datetime.fromtimestamp(int(self.clock()), tz=UTC)

    def new_id(self) -> int:
        with self.lock:
            self._next_id += 1
            return self._next_id

    # --- generated orders -----------------------------------------------------------------------------------
    def _order(self, rng: random.Random, order_id: int, created: datetime) -> dict[str, Any]:
        buyer = person(rng)
        currency = buyer.currency
        rate = Decimal(RATE_FROM_EUR[currency])
        tax_rate = Decimal(TAX_RATES[buyer.country])
        include_tax = buyer.country in ("DE", "FR", "PL", "GB") and rng.random() < 0.5
        lines = []
        digital = rng.random() < 0.1
        choices = [PRODUCTS[5]] if digital else list(PRODUCTS[:5])
        for line_no in range(rng.randint(1, 3)):
            sku, name, price = rng.choice(choices)
            product_id = 10 + PRODUCTS.index((sku, name, price))
            qty = 99999 if sku == "SCREW-M3" and rng.random() < 0.3 else rng.randint(1, 7)
            unit = Decimal(money(Decimal(price) * rate, currency))
            subtotal = unit * qty
            discount = Decimal(money(subtotal * Decimal("0.1"), currency)) if rng.random() < 0.15 else Decimal(0)
            total = subtotal - discount
            lines.append({
                "id": order_id * 10 + line_no, "name": name, "product_id": product_id, "variation_id": 0,
                "quantity": qty, "tax_class": "", "sku": "" if rng.random() < 0.03 else sku,
                "subtotal": money(subtotal, currency), "subtotal_tax": money(subtotal * tax_rate, currency),
                "total": money(total, currency), "total_tax": money(total * tax_rate, currency),
                "taxes": [], "meta_data": [],
                "price": float(total) / qty,  # WooCommerce: get_total() / get_quantity(), a PHP float
            })
        shipping_net = Decimal(0) if digital else Decimal(money(Decimal("4.90") * rate, currency))
        shipping_tax = Decimal(money(shipping_net * tax_rate, currency))
        self_totals = self._totals(lines, shipping_net, shipping_tax, currency)
        status = rng.choices(STATUSES, weights=(10, 30, 6, 35, 8, 4, 5, 2))[0]
        paid = status in ("processing", "completed", "refunded") or (status == "cancelled" and rng.random() < 0.3)
        modified = min(created + timedelta(minutes=rng.randint(0, 600)), self.now())
        empty_shipping = {k: "" for k in ("first_name", "last_name", "company", "address_1", "address_2", "city",
                                          "state", "postcode", "country", "phone")}
        first, _, last = buyer.name.partition(" ")
        address = {"first_name": first, "last_name": last, "company": "", "address_1": buyer.street, "address_2": "",
                   "city": buyer.city, "state": "", "postcode": buyer.postal_code, "country": buyer.country}
        order: dict[str, Any] = {
            "id": order_id, "parent_id": 0, "number": str(order_id), "order_key": f"wc_order_{rng.getrandbits(40):x}",
            "created_via": "checkout", "version": "9.4.0", "status": status, "currency": currency,
            "date_created": local(created), "date_created_gmt": gmt(created),
            "date_modified": local(modified), "date_modified_gmt": gmt(modified),
            **self_totals, "prices_include_tax": include_tax, "customer_id": 0, "customer_note": "",
            "billing": {**address, "email": buyer.email or "", "phone": buyer.phone or ""},
            "shipping": dict(empty_shipping) if digital else {**address, "phone": ""},
            "payment_method": "bacs", "payment_method_title": "Direct bank transfer", "transaction_id": "",
            "date_paid": local(created) if paid else None, "date_paid_gmt": gmt(created) if paid else None,
            "date_completed": local(modified) if status == "completed" else None,
            "date_completed_gmt": gmt(modified) if status == "completed" else None,
            "meta_data": [], "line_items": lines, "tax_lines": [],
            "shipping_lines": [] if digital else [{"id": order_id * 10 + 9, "method_title": "Flat rate",
                                                   "method_id": "flat_rate", "total": money(shipping_net, currency),
                                                   "total_tax": money(shipping_tax, currency), "taxes": [],
                                                   "meta_data": []}],
            "fee_lines": [], "coupon_lines": [], "refunds": [],
        }
        if status == "refunded":
            order["refunds"] = [{"id": order_id * 10 + 8, "reason": "", "total": "-" + order["total"]}]
        elif status == "completed" and rng.random() < 0.15:
            part = Decimal(lines[0]["total"]) / 2
            order["refunds"] = [{"id": order_id * 10 + 8, "reason": "damaged", "total": "-" + money(part, currency)}]
        return order

    @staticmethod
    def _totals(lines: list[dict[str, Any]], shipping_net: Decimal, shipping_tax: Decimal,
                currency: str) -> dict[str, str]:
        subtotal = sum((Decimal(line["subtotal"]) for line in lines), Decimal(0))
        net = sum((Decimal(line["total"]) for line in lines), Decimal(0))
        cart_tax = sum((Decimal(line["total_tax"]) for line in lines), Decimal(0))
        discount_tax = sum((Decimal(line["subtotal_tax"]) - Decimal(line["total_tax"]) for line in lines), Decimal(0))
        return {
            "discount_total": money(subtotal - net, currency), "discount_tax": money(discount_tax, currency),
            "shipping_total": money(shipping_net, currency), "shipping_tax": money(shipping_tax, currency),
            "cart_tax": money(cart_tax, currency), "total_tax": money(cart_tax + shipping_tax, currency),
            "total": money(net + shipping_net + cart_tax + shipping_tax, currency),
        }

    def served(self, order: dict[str, Any]) -> dict[str, Any]:
        """The order as the API answers it: a malformed one lacks its required `currency`."""
        if order["id"] not in self.malformed:
            return order
        return {k: v for k, v in order.items() if k != "currency"}

    # --- product reviews ------------------------------------------------------------------------------------
    def _seed_reviews(self) -> None:
        """Two to four reviews per product over the last 20 days, a few low ones, one held for moderation. Its own
        random stream and ids from 5000: the seeded orders stay exactly as they were without reviews."""
        rng = random.Random(f"{self.seed}-reviews")  # noqa: S311  (test data)
        texts = {5: "Excellent, exactly as described.", 4: "Good quality, quick delivery.", 3: "Okay for the price.",
                 2: "Arrived scratched, works though.", 1: "Broke after a week."}
        for product_id in sorted(self.products):
            for _ in range(rng.randint(2, 4)):
                rating = rng.choices((5, 4, 3, 2, 1), weights=(40, 30, 12, 10, 8))[0]
                written = self.now() - timedelta(days=rng.uniform(0, 20))
                self.add_review(product_id, rating, texts[rating], person(rng).name, at=written,
                                status="hold" if rng.random() < 0.05 else "approved")

    def add_review(self, product_id: int, rating: int, text: str, reviewer: str, *, at: datetime | None = None,
                   status: str = "approved", verified: bool = True) -> dict[str, Any]:
        """A review as WC_REST_Product_Reviews_Controller::prepare_item_for_response gives it (the text wpautop'ed
        into a paragraph, as the shop's review form stores it)."""
        with self.lock:
            review_id = 5000 + len(self.reviews) + 1
            written = at or self.now()
            product = self.products.get(product_id, {})
            record = {
                "id": review_id, "date_created": local(written), "date_created_gmt": gmt(written),
                "product_id": product_id, "product_name": product.get("name", ""),
                "product_permalink": f"https://shop.example/product/{product.get('slug', product_id)}/",
                "status": status, "reviewer": reviewer,
                "reviewer_email": f"{reviewer.split(' ')[0].lower() or 'buyer'}@example.com",
                "review": f"<p>{text}</p>\n", "rating": rating, "verified": verified,
                "reviewer_avatar_urls": {"24": "https://secure.gravatar.com/avatar/0?s=24&d=mm&r=g"},
            }
            self.reviews[review_id] = record
            return record

    # --- changes the API (or a test) makes ------------------------------------------------------------------
    def touch(self, order: dict[str, Any]) -> None:
        now = self.now()
        order["date_modified"], order["date_modified_gmt"] = local(now), gmt(now)

    def set_status(self, order_id: int, status: str) -> dict[str, Any]:
        with self.lock:
            order = self.orders[order_id]
            order["status"] = status
            now = self.now()
            if status == "completed" and not order.get("date_completed_gmt"):
                order["date_completed"], order["date_completed_gmt"] = local(now), gmt(now)
            if status in ("processing", "completed") and not order.get("date_paid_gmt"):
                order["date_paid"], order["date_paid_gmt"] = local(now), gmt(now)
            self.touch(order)
            return order

    def set_regular_price(self, product_id: int, value: str) -> dict[str, Any]:
        """As WC_Product::set_regular_price: the stored string; `price` follows it unless a sale price is set
        (empty string: no price)."""
        with self.lock:
            product = self.products[product_id]
            product["regular_price"] = value
            if not product.get("sale_price"):
                product["price"] = value
            product["date_modified_gmt"] = gmt(self.now())
            return product

    def add_note(self, order_id: int, note: str, customer_note: bool) -> dict[str, Any]:
        with self.lock:
            now = self.now()
            record = {"id": self.new_id(), "author": "WooCommerce", "date_created": local(now),
                      "date_created_gmt": gmt(now), "note": note, "customer_note": customer_note}
            self.notes.setdefault(order_id, []).append(record)
            return record

    def tick(self, count: int = 5, seed: int | None = None) -> list[int]:
        """Time passes in the shop: `count` open orders move one step on (paid, shipped, cancelled or partly
        refunded) and are modified now. Returns their ids."""
        rng = random.Random(self.seed if seed is None else seed)  # noqa: S311
        moves = {"pending": ("processing", "cancelled", "failed"), "on-hold": ("processing", "cancelled"),
                 "failed": ("pending", "cancelled"), "processing": ("completed", "completed", "refunded"),
                 "completed": ("partial-refund",)}
        with self.lock:
            open_ids = sorted(i for i, o in self.orders.items() if o["status"] in moves and len(o["refunds"]) == 0)
            chosen = rng.sample(open_ids, min(count, len(open_ids)))
            for order_id in chosen:
                order = self.orders[order_id]
                step = rng.choice(moves[order["status"]])
                if step == "partial-refund":
                    half = Decimal(order["line_items"][0]["total"]) / 2
                    order["refunds"].append({"id": self.new_id(), "reason": "",
                                             "total": "-" + money(half, order["currency"])})
                    self.touch(order)
                    continue
                if step == "refunded":
                    order["refunds"].append({"id": self.new_id(), "reason": "", "total": "-" + order["total"]})
                self.set_status(order_id, step)
            return chosen

    def corrupt(self, order_id: int, **fields: Any) -> None:
        """Make an order unmappable (e.g. total="n/a") and mark it modified now: for quarantine tests."""
        with self.lock:
            self.orders[order_id].update(fields or {"total": "n/a"})
            self.touch(self.orders[order_id])

    def use_nonce(self, nonce: str, timestamp: float, window: float) -> bool:
        """Remember a nonce for the window; False if it was used within it (a replay)."""
        with self.lock:
            now = self.clock()
            for old, at in list(self.nonces.items()):
                if at < now - window:
                    del self.nonces[old]
            if nonce in self.nonces:
                return False
            self.nonces[nonce] = timestamp
            return True
