"""WooCommerce connector: orders by modification time, stock and prices in batches, fulfilment as status + note,
webhooks.

Credentials: `consumer_key`, `consumer_secret` (REST API keys, read_write) and, for webhooks, `webhook_secret`.
Options: `per_page` (at most 100), `wall_clock` (Unix seconds; time.time by default, faked in tests: OAuth
timestamps and RateLimit-Reset are read on it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from hub.channels.port import (
    ChannelOrder,
    ChannelReview,
    OrderPage,
    PriceUpdate,
    PushResult,
    ReviewPage,
    Shipment,
    StockUpdate,
)
from hub.channels.registry import Connection
from hub.channels.values import MappingError
from hub.channels.woocommerce.client import MAX_PER_PAGE, WooCommerceClient
from hub.channels.woocommerce.mapping import map_order, map_review, orders_in
from hub.errors import PermanentError
from hub.money import CurrencyError, minor_units

# POST /products/batch takes at most 100 objects per request (woocommerce_rest_batch_items_limit), whatever they
# change: stock and price pushes share the cap.
BATCH_LIMIT = 100
PRICE_BATCH_LIMIT = BATCH_LIMIT
SKU_LOOKUP_LIMIT = MAX_PER_PAGE  # SKUs per GET /products?sku=..., so one page holds every match
STOCK_READ_LIMIT = SKU_LOOKUP_LIMIT  # SKUs per stock read-back call: the same GET /products?sku=...
WEBHOOK_TOPICS = ("order.created", "order.updated", "order.restored")
# `after` on reviews compares with the site-local comment_date: widened by the largest UTC offset (+14:00).
SITE_OFFSET_SLACK = timedelta(hours=14)


def _header(headers: dict[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


def encode_cursor(since: str, page: int, last_id: int) -> str:
    raw = json.dumps({"since": since, "page": page, "last_id": last_id}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_cursor(cursor: str) -> tuple[str, int, int]:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return str(data["since"]), int(data["page"]), int(data["last_id"])
    except (ValueError, KeyError, TypeError):
        raise PermanentError(f"woocommerce: not a cursor of this connector: {cursor!r}") from None


def modified_after(since: datetime) -> str:
    """`since` as WooCommerce's strictly-after filter wants it: UTC, whole seconds, no offset; one second
    earlier so that orders modified in the very second of `since` are included."""
    if since.tzinfo is None:
        raise ValueError("since must be timezone-aware")
    moment = since.astimezone(UTC).replace(microsecond=0, tzinfo=None) - timedelta(seconds=1)
    return moment.isoformat(timespec="seconds")


class WooCommerceConnector:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        credentials = connection.credentials
        self.client = WooCommerceClient(connection.base_url, credentials["consumer_key"],
                                        credentials["consumer_secret"], audit=connection.audit,
                                        sleep=connection.sleep, timeout=connection.timeout,
                                        # Unix time, for OAuth timestamps and RateLimit-Reset; tests fake it.
                                        clock=connection.options.get("wall_clock", time.time))
        self.per_page = min(int(connection.options.get("per_page", MAX_PER_PAGE)), MAX_PER_PAGE)
        self._currency: str | None = None

    # --- orders ---------------------------------------------------------------------------------------------
    def pull_orders(self, since: datetime, cursor: str | None = None) -> OrderPage:
        """One page of orders modified at or after `since` (to the second), oldest id first.

        Ordered by id, the set of matching orders only grows at its end while it is read (a modified order
        keeps its place, a new one comes last), so page numbers stay valid; the cursor also carries the last id
        seen, and anything at or below it on a later page is skipped (an order sent twice, a shifted page).
        With a cursor, `since` is the one the cursor was made with. Unmappable orders go to `rejected`.
        """
        if cursor:
            after, page, last_id = decode_cursor(cursor)
        else:
            after, page, last_id = modified_after(since), 1, 0
        result = self.client.list_orders(modified_after=after, page=page, per_page=self.per_page)
        orders: list[ChannelOrder] = []
        rejected: list[tuple[str, str, dict[str, Any]]] = []
        highest = last_id
        for raw in result.items:
            raw_id = raw.get("id") if isinstance(raw, dict) else None
            if isinstance(raw_id, int) and raw_id <= last_id:
                continue  # seen on the previous page (a page boundary shifted or the order came twice)
            if isinstance(raw_id, int):
                highest = max(highest, raw_id)
            try:
                orders.append(map_order(raw))
            except MappingError as exc:
                rejected.append((str(raw_id or ""), str(exc), raw if isinstance(raw, dict) else {"body": raw}))
        last_page = not result.items or (result.total_pages is not None and page >= result.total_pages) or (
            result.total_pages is None and len(result.items) < self.per_page)
        next_cursor = None if last_page else encode_cursor(after, page + 1, highest)
        return OrderPage(tuple(orders), tuple(rejected), next_cursor)

    # --- stock ----------------------------------------------------------------------------------------------
    def product_ids(self, skus: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        unique = list(dict.fromkeys(skus))
        for start in range(0, len(unique), SKU_LOOKUP_LIMIT):
            for product in self.client.list_products_by_sku(unique[start:start + SKU_LOOKUP_LIMIT]):
                if isinstance(product, dict) and product.get("sku") and isinstance(product.get("id"), int):
                    found[str(product["sku"])] = product["id"]
        return found

    def read_stock(self, skus: list[str]) -> dict[str, int]:
        """SKU -> stock_quantity, STOCK_READ_LIMIT SKUs per GET /products?sku=a,b,...; a SKU WooCommerce does not
        know, or whose stock it does not manage (stock_quantity null), is left out."""
        unique = list(dict.fromkeys(skus))
        found: dict[str, int] = {}
        for start in range(0, len(unique), STOCK_READ_LIMIT):
            batch = set(unique[start:start + STOCK_READ_LIMIT])
            for product in self.client.list_products_by_sku(sorted(batch)):
                if not isinstance(product, dict) or product.get("sku") not in batch:
                    continue
                quantity = product.get("stock_quantity")
                if product.get("manage_stock") and isinstance(quantity, int) and not isinstance(quantity, bool):
                    found.setdefault(str(product["sku"]), quantity)
        return found

    def push_stock(self, updates: list[StockUpdate]) -> list[PushResult]:
        """Sets stock_quantity (and manage_stock) through POST /products/batch, BATCH_LIMIT products a call."""
        ids = self.product_ids([u.sku for u in updates])
        results: dict[str, PushResult] = {}
        sku_of: dict[int, str] = {}
        items: list[dict[str, Any]] = []
        for update in updates:
            if update.sku not in ids:
                results[update.sku] = PushResult(update.sku, False, "no product with this SKU in WooCommerce")
                continue
            sku_of[ids[update.sku]] = update.sku
            items.append({"id": ids[update.sku], "manage_stock": True, "stock_quantity": update.available})
        for start in range(0, len(items), BATCH_LIMIT):
            chunk = items[start:start + BATCH_LIMIT]
            answer = self.client.batch_products(chunk)
            answered = {item.get("id"): item for item in answer.get("update", []) if isinstance(item, dict)}
            for sent in chunk:
                sku = sku_of[sent["id"]]
                item = answered.get(sent["id"])
                if item is None:
                    results[sku] = PushResult(sku, False, "missing from the batch answer")
                elif "error" in item:
                    error = item["error"] if isinstance(item["error"], dict) else {}
                    results[sku] = PushResult(sku, False, f"{error.get('code', 'error')}: {error.get('message', '')}")
                elif item.get("stock_quantity") != sent["stock_quantity"]:
                    reads = item.get("stock_quantity")
                    results[sku] = PushResult(sku, False, f"stock reads {reads!r} after the update")
                else:
                    results[sku] = PushResult(sku, True)
        return [results[u.sku] for u in updates]

    # --- prices ---------------------------------------------------------------------------------------------
    def shop_currency(self) -> str:
        """The one currency a WooCommerce shop keeps prices in (asked once per connector)."""
        if self._currency is None:
            self._currency = self.client.current_currency()
        return self._currency

    def price_refusal(self, update: PriceUpdate, shop_currency: str) -> str | None:
        """Why `update` cannot be sent as it is, or None."""
        if update.currency != shop_currency:
            return f"currency {update.currency} is not the shop's currency {shop_currency}"
        try:
            digits = minor_units(update.currency)
        except CurrencyError as exc:
            return str(exc)
        price = update.price
        if not isinstance(price, Decimal) or not price.is_finite():
            return f"price {price!r} is not a finite decimal"
        if price < 0:
            return f"price {price} is negative"
        try:
            exact = price == price.quantize(Decimal(1).scaleb(-digits))
        except InvalidOperation:
            exact = False
        if not exact:
            return f"price {price} has more decimals than {update.currency} allows ({digits})"
        return None

    def push_prices(self, updates: list[PriceUpdate]) -> list[PushResult]:
        """Sets regular_price through POST /products/batch, PRICE_BATCH_LIMIT products a call. Prices go as
        decimal strings with exactly the currency's minor units (`19.99`, `1500`, `12.345`), never through a float.
        A running sale keeps its sale price. Refused before sending: a currency other than the shop's, more
        decimals than the currency has, a negative price. One result per update, in order."""
        if not updates:
            return []
        results: list[PushResult | None] = [None] * len(updates)
        shop_currency = self.shop_currency()
        valid: list[int] = []
        for index, update in enumerate(updates):
            refusal = self.price_refusal(update, shop_currency)
            if refusal:
                results[index] = PushResult(update.sku, False, refusal)
            else:
                valid.append(index)
        ids = self.product_ids([updates[i].sku for i in valid]) if valid else {}
        sending: list[tuple[int, int, str]] = []  # (input index, product id, price string)
        for index in valid:
            update = updates[index]
            if update.sku not in ids:
                results[index] = PushResult(update.sku, False, "no product with this SKU in WooCommerce")
                continue
            exact = update.price.quantize(Decimal(1).scaleb(-minor_units(update.currency)))
            sending.append((index, ids[update.sku], format(exact, "f")))
        for start in range(0, len(sending), PRICE_BATCH_LIMIT):
            chunk = sending[start:start + PRICE_BATCH_LIMIT]
            answer = self.client.batch_update_prices([(pid, price) for _, pid, price in chunk])
            answered = [item for item in answer.get("update") or [] if isinstance(item, dict)]
            by_id = {item.get("id"): item for item in answered}
            for position, (index, pid, price) in enumerate(chunk):
                sku = updates[index].sku
                # The answer keeps request order; by id as a fallback should it not.
                item = answered[position] if position < len(answered) and answered[position].get("id") == pid \
                    else by_id.get(pid)
                results[index] = self._price_result(sku, price, item)
        return [r if r is not None else PushResult(u.sku, False, "not sent") for r, u in zip(results, updates,
                                                                                             strict=True)]

    @staticmethod
    def _price_result(sku: str, sent: str, item: dict[str, Any] | None) -> PushResult:
        if item is None:
            return PushResult(sku, False, "missing from the batch answer")
        if "error" in item:
            error = item["error"] if isinstance(item["error"], dict) else {}
            return PushResult(sku, False, f"{error.get('code', 'error')}: {error.get('message', '')}")
        reads = item.get("regular_price")
        try:
            same = isinstance(reads, str) and Decimal(reads) == Decimal(sent)
        except InvalidOperation:
            same = False
        if not same:
            return PushResult(sku, False, f"regular_price reads {reads!r} after the update")
        return PushResult(sku, True)

    # --- fulfilment -----------------------------------------------------------------------------------------
    def push_fulfilment(self, shipment: Shipment) -> None:
        """Core WooCommerce has no shipments: the order is marked completed and a customer note carries carrier
        and tracking number. A shipment of some lines only adds the note; one whose lines cover every line item
        in full completes the order too."""
        shipped = shipment.shipped_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        note = f"Shipped {shipped} with {shipment.carrier}, tracking number {shipment.tracking_number}."
        complete = not shipment.lines
        if shipment.lines:
            items = ", ".join(f"{qty} x line {line_id}" for line_id, qty in shipment.lines)
            note += f" Items: {items}."
            shipped_qty: dict[str, int] = {}
            for line_id, qty in shipment.lines:
                shipped_qty[line_id] = shipped_qty.get(line_id, 0) + qty
            ordered = {str(line.get("id")): line.get("quantity")
                       for line in self.client.get_order(shipment.external_order_id).get("line_items") or []
                       if isinstance(line, dict)}
            complete = bool(ordered) and all(shipped_qty.get(i, 0) >= (q or 0) for i, q in ordered.items())
        if complete:
            self.client.update_order(shipment.external_order_id, {"status": "completed"})
        self.client.create_order_note(shipment.external_order_id, note, customer_note=True)

    # --- reviews --------------------------------------------------------------------------------------------
    def fetch_reviews(self, since: datetime) -> Iterator[ReviewPage]:
        """Pages of reviews created at or after `since`, every status, oldest id first; each page's product ids
        resolved to SKUs through one GET /products?include=... The `after` filter is on site-local time, so it is
        widened by 14 hours and the surplus dropped by date_created_gmt."""
        if since.tzinfo is None:
            raise ValueError("since must be timezone-aware")
        since = since.astimezone(UTC)
        after = (since - SITE_OFFSET_SLACK).replace(microsecond=0, tzinfo=None).isoformat(timespec="seconds")
        skus: dict[int, str] = {}
        page = 1
        while True:
            result = self.client.list_reviews(after=after, page=page, per_page=self.per_page)
            wanted = sorted({r["product_id"] for r in result.items if isinstance(r, dict)
                             and isinstance(r.get("product_id"), int) and r["product_id"] not in skus})
            for start in range(0, len(wanted), SKU_LOOKUP_LIMIT):
                chunk = wanted[start:start + SKU_LOOKUP_LIMIT]
                skus.update(dict.fromkeys(chunk, ""))  # a deleted product stays without SKU
                for product in self.client.list_products_by_id(chunk):
                    if isinstance(product, dict) and isinstance(product.get("id"), int) and product.get("sku"):
                        skus[product["id"]] = str(product["sku"])
            reviews: list[ChannelReview] = []
            rejected: list[tuple[str, str]] = []
            for raw in result.items:
                try:
                    review = map_review(raw, skus)
                except MappingError as exc:
                    rejected.append((str(raw.get("id", "")) if isinstance(raw, dict) else "", str(exc)))
                    continue
                if review.created_at >= since:
                    reviews.append(review)
            yield ReviewPage(tuple(reviews), tuple(rejected))
            last = not result.items or (result.total_pages is not None and page >= result.total_pages) or (
                result.total_pages is None and len(result.items) < self.per_page)
            if last:
                return
            page += 1

    # --- webhooks -------------------------------------------------------------------------------------------
    def verify_webhook(self, headers: dict[str, str], body: bytes) -> bool:
        """X-WC-Webhook-Signature = base64(HMAC-SHA256(webhook secret, raw body))."""
        secret = self.connection.credentials.get("webhook_secret")
        given = _header(headers, "X-WC-Webhook-Signature")
        if not secret or not given:
            return False
        expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
        return hmac.compare_digest(expected.encode(), given.strip().encode())

    def parse_webhook(self, headers: dict[str, str], body: bytes) -> list[ChannelOrder]:
        """Orders of a verified delivery. The ping sent when a webhook is saved (`webhook_id=…`) and topics
        other than order.created/updated/restored give no orders."""
        topic = _header(headers, "X-WC-Webhook-Topic")
        if topic not in WEBHOOK_TOPICS:
            return []
        try:
            payload = json.loads(body, parse_float=Decimal)
        except ValueError:
            raise MappingError("webhook body is not JSON") from None
        return [map_order(raw) for raw in orders_in(payload)]
