"""The Shopify connector: orders, stock, prices, fulfilment and webhooks for one shop.

Connection: `base_url` is the shop (https://{shop}.myshopify.com); credentials `access_token` (Admin API)
and `api_secret` (the app's client secret, which signs webhooks); options `api_version`, `location_id`
(a Location gid; else the shop's first location), `page_size` (≤ ORDER_PAGE, for the query cost).

Without the `read_all_orders` scope Shopify shows only the last 60 days of orders
(https://shopify.dev/docs/api/usage/access-scopes): a backfill further back needs it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hub.channels.port import (
    ChannelOrder,
    OrderPage,
    PriceUpdate,
    PushResult,
    RatingUpdate,
    Shipment,
    StockUpdate,
)
from hub.channels.registry import Connection
from hub.channels.shopify import mapping
from hub.channels.shopify.client import API_VERSION, METAFIELDS_PER_CALL, ORDER_PAGE, CostState, ShopifyClient
from hub.channels.values import MappingError
from hub.errors import PermanentError
from hub.money import CurrencyError, minor_units
from hub.outbound.http import HttpClient
from hub.outbound.pacing import shared

# Quantities per inventorySetQuantities call. The input's page
# (https://shopify.dev/docs/api/admin-graphql/latest/input-objects/InventorySetQuantitiesInput) names no cap;
# 250 is Shopify's usual list limit and is *unverified* for this input. The sandbox enforces it.
STOCK_BATCH = 250
# Variants per productVariantsBulkUpdate call (one product's variants a call). A product has at most 100
# variants by default (https://shopify.dev/docs/api/admin-graphql/latest/mutations/productVariantsBulkUpdate),
# so this cap only splits a product with extended variants (up to 2048). The sandbox enforces it.
PRICE_BATCH = 100
# A productVariants search string stays short enough with this many SKUs OR-ed together.
SKU_LOOKUP_BATCH = 50
# SKUs per stock read-back query (productVariants with each inventory item's level): the same search-string
# bound; at 2 variants a SKU this asks for 100 nodes, a requested cost of about 400 of the 1000 points.
STOCK_READ_BATCH = SKU_LOOKUP_BATCH
WEBHOOK_TOPICS = frozenset({"orders/create", "orders/updated", "orders/cancelled", "orders/paid",
                            "orders/fulfilled", "orders/partially_fulfilled"})


def shopify_time(moment: datetime) -> str:
    """UTC in the form the search syntax takes: 2024-01-31T23:59:59Z (a naive time is refused)."""
    if moment.tzinfo is None:
        raise ValueError("since must be an aware datetime")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ShopifyConnector:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        options = connection.options
        # More orders per page would make the query cost more than the 1000 points one query may cost.
        self.page_size = max(1, min(int(options.get("page_size", ORDER_PAGE)), ORDER_PAGE))
        http = HttpClient(base_url=connection.base_url, service="shopify", audit=connection.audit,
                          timeout=connection.timeout,
                          sleep=connection.sleep)
        self.client = ShopifyClient(http=http, access_token=connection.credentials.get("access_token", ""),
                                    api_version=options.get("api_version", API_VERSION), sleep=connection.sleep,
                                    clock=connection.clock,
                                    state=shared(("shopify", connection.base_url, connection.clock), CostState))
        self._location: str | None = options.get("location_id")
        self._currency: str | None = None

    # --- orders ------------------------------------------------------------------------------
    def pull_orders(self, since: datetime, cursor: str | None = None) -> OrderPage:
        """Orders updated at or after `since`, oldest change first; the cursor is Shopify's endCursor."""
        body = self.client.orders_page(first=self.page_size, after=cursor,
                                       search=f"updated_at:>='{shopify_time(since)}'")
        connection = ((body.get("data") or {}).get("orders")) or {}
        orders: list[ChannelOrder] = []
        rejected: list[tuple[str, str, dict[str, Any]]] = []
        for edge in connection.get("edges") or []:
            node = edge.get("node") if isinstance(edge, dict) else None
            try:
                if isinstance(node, dict):
                    node = self._with_all_lines(node)
                orders.append(mapping.map_graphql_order(node))
            except MappingError as exc:
                raw = node if isinstance(node, dict) else {"node": node}
                rejected.append((mapping.numeric_id(raw.get("id")), str(exc), raw))
        info = connection.get("pageInfo") or {}
        next_cursor = info.get("endCursor") if info.get("hasNextPage") else None
        return OrderPage(tuple(orders), tuple(rejected), next_cursor)

    def _with_all_lines(self, node: dict[str, Any]) -> dict[str, Any]:
        """The node with every line item: pages beyond the first are fetched with `order(id) { lineItems }`."""
        more = []
        info = (node.get("lineItems") or {}).get("pageInfo") or {}
        if not node.get("id"):
            return node  # mapping refuses it with its reason
        while info.get("hasNextPage"):
            body = self.client.order_line_items(node["id"], info.get("endCursor"))
            more.append(body)
            info = (((body.get("data") or {}).get("order") or {}).get("lineItems") or {}).get("pageInfo") or {}
        return mapping.merge_line_pages(node, more) if more else node

    # --- stock -------------------------------------------------------------------------------
    def location_id(self) -> str:
        if self._location is None:
            edges = ((self.client.locations().get("data") or {}).get("locations") or {}).get("edges") or []
            if not edges:
                raise PermanentError("shopify: the shop has no location to set stock at")
            self._location = edges[0]["node"]["id"]
        return self._location

    def inventory_items(self, skus: list[str]) -> dict[str, str]:
        """SKU -> InventoryItem gid, looked up through productVariants in batches."""
        found: dict[str, str] = {}
        for start in range(0, len(skus), SKU_LOOKUP_BATCH):
            body = self.client.variants_by_sku(skus[start:start + SKU_LOOKUP_BATCH])
            for edge in ((body.get("data") or {}).get("productVariants") or {}).get("edges") or []:
                node = edge.get("node") or {}
                item = node.get("inventoryItem") or {}
                if node.get("sku") and item.get("id"):
                    found.setdefault(node["sku"], item["id"])
        return found

    def push_stock(self, updates: list[StockUpdate]) -> list[PushResult]:
        """Absolute available quantities, up to STOCK_BATCH per inventorySetQuantities call."""
        if not updates:
            return []
        latest = {u.sku: u for u in updates}  # a SKU listed twice: the last quantity wins
        items = self.inventory_items(list(latest))
        results = {sku: PushResult(sku, False, "no variant with this SKU in the shop")
                   for sku in latest if sku not in items}
        known = [u for u in latest.values() if u.sku in items]
        location = self.location_id() if known else ""
        for start in range(0, len(known), STOCK_BATCH):
            batch = known[start:start + STOCK_BATCH]
            payload = [{"inventoryItemId": items[u.sku], "locationId": location, "quantity": u.available}
                       for u in batch]
            result = ((self.client.set_quantities(payload).get("data") or {}).get("inventorySetQuantities")) or {}
            errors = result.get("userErrors") or []
            message = "; ".join(e.get("message", "") for e in errors)
            results.update({u.sku: PushResult(u.sku, not errors, message) for u in batch})
        return [results[sku] for sku in latest]  # in the order given

    def read_stock(self, skus: list[str]) -> dict[str, int]:
        """SKU -> `available` at the connector's location, STOCK_READ_BATCH SKUs a query; a SKU without a variant,
        or whose item is not stocked at the location, is left out."""
        wanted = list(dict.fromkeys(skus))
        if not wanted:
            return {}
        location = self.location_id()
        found: dict[str, int] = {}
        for start in range(0, len(wanted), STOCK_READ_BATCH):
            batch = wanted[start:start + STOCK_READ_BATCH]
            body = self.client.variant_levels_by_sku(batch, location)
            for edge in ((body.get("data") or {}).get("productVariants") or {}).get("edges") or []:
                node = edge.get("node") or {}
                level = (node.get("inventoryItem") or {}).get("inventoryLevel") or {}
                quantity = next((q.get("quantity") for q in level.get("quantities") or []
                                 if q.get("name") == "available"), None)
                if node.get("sku") in batch and isinstance(quantity, int):
                    found.setdefault(node["sku"], quantity)
        return found

    # --- prices ------------------------------------------------------------------------------
    def shop_currency(self) -> str:
        """The shop's currency, which every variant price is in (asked once)."""
        if self._currency is None:
            code = ((self.client.shop_currency().get("data") or {}).get("shop") or {}).get("currencyCode")
            if not isinstance(code, str) or not code:
                raise PermanentError("shopify: the shop did not say its currency")
            self._currency = code
        return self._currency

    def variant_products(self, skus: list[str]) -> dict[str, tuple[str, str]]:
        """SKU -> (ProductVariant gid, Product gid), looked up through productVariants in batches."""
        found: dict[str, tuple[str, str]] = {}
        for start in range(0, len(skus), SKU_LOOKUP_BATCH):
            body = self.client.variant_products_by_sku(skus[start:start + SKU_LOOKUP_BATCH])
            for edge in ((body.get("data") or {}).get("productVariants") or {}).get("edges") or []:
                node = edge.get("node") or {}
                product = node.get("product") or {}
                if node.get("sku") and node.get("id") and product.get("id"):
                    found.setdefault(node["sku"], (node["id"], product["id"]))
        return found

    def push_prices(self, updates: list[PriceUpdate]) -> list[PushResult]:
        """Variant prices in the shop's currency, with productVariantsBulkUpdate: one call per product (the
        mutation takes one product's variants), at most PRICE_BATCH variants a call, partial updates allowed so
        one bad variant does not hold back the rest. One result per update, in the order given; a SKU listed
        twice gets the price listed last, and every one of its updates that result."""
        if not updates:
            return []
        currency = self.shop_currency()
        refused: dict[int, PushResult] = {}
        latest: dict[str, str] = {}  # SKU -> the price to send, as Shopify's Money string
        for index, update in enumerate(updates):
            problem, text = price_text(update, currency)
            if problem:
                refused[index] = PushResult(update.sku, False, problem)
            else:
                latest[update.sku] = text
        variants = self.variant_products(list(latest))
        results = {sku: PushResult(sku, False, "no variant with this SKU in the shop")
                   for sku in latest if sku not in variants}
        by_product: dict[str, list[str]] = {}
        for sku in latest:
            if sku in variants:
                by_product.setdefault(variants[sku][1], []).append(sku)
        for product, skus in by_product.items():
            for start in range(0, len(skus), PRICE_BATCH):
                batch = skus[start:start + PRICE_BATCH]
                payload = [{"id": variants[sku][0], "price": latest[sku]} for sku in batch]
                results.update(self._price_results(product, batch, payload))
        return [refused.get(i) or results[u.sku] for i, u in enumerate(updates)]

    def _price_results(self, product: str, batch: list[str], payload: list[dict[str, str]]) -> dict[str, PushResult]:
        body = self.client.update_variant_prices(product, payload)
        result = ((body.get("data") or {}).get("productVariantsBulkUpdate")) or {}
        per_variant: dict[int, list[str]] = {}
        general: list[str] = []
        for error in result.get("userErrors") or []:
            field = error.get("field") or []
            message = str(error.get("message") or error.get("code") or "refused")
            if len(field) >= 2 and field[0] == "variants" and str(field[1]).isdigit() and int(field[1]) < len(batch):
                per_variant.setdefault(int(field[1]), []).append(message)
            else:
                general.append(message)
        out = {}
        for index, sku in enumerate(batch):
            messages = general + per_variant.get(index, [])
            out[sku] = PushResult(sku, not messages, "; ".join(messages))
        return out

    # --- ratings ---------------------------------------------------------------------------------
    def push_ratings(self, updates: list[RatingUpdate]) -> list[PushResult]:
        """A product's aggregate rating as Shopify's standard review metafields, `reviews.rating` (type rating,
        scale 1.0 to 5.0) and `reviews.rating_count` (number_integer), which themes and search engines read
        (https://shopify.dev/docs/apps/build/custom-data/metafields/list-of-standard-definitions). Ratings live on the
        product, not the variant: SKUs of one product are combined into one weighted average. metafieldsSet takes
        METAFIELDS_PER_CALL metafields a call and is atomic, so one refused value fails its whole call. One result
        per update, in order."""
        if not updates:
            return []
        variants = self.variant_products(list(dict.fromkeys(u.sku for u in updates)))
        results = {u.sku: PushResult(u.sku, False, "no variant with this SKU in the shop")
                   for u in updates if u.sku not in variants}
        per_product: dict[str, list[RatingUpdate]] = {}
        for update in {u.sku: u for u in updates}.values():  # a SKU listed twice: the last one
            if update.count <= 0:
                results[update.sku] = PushResult(update.sku, False, "no reviews: nothing to rate")
            elif update.sku in variants:
                per_product.setdefault(variants[update.sku][1], []).append(update)
        products = list(per_product)
        per_call = METAFIELDS_PER_CALL // 2  # two metafields a product
        for start in range(0, len(products), per_call):
            batch = products[start:start + per_call]
            metafields: list[dict[str, str]] = []
            for product in batch:
                metafields += rating_metafields(product, per_product[product])
            body = self.client.set_metafields(metafields)
            errors = [str(e.get("message") or e.get("code") or "refused")
                      for e in ((body.get("data") or {}).get("metafieldsSet") or {}).get("userErrors") or []]
            for product in batch:
                for update in per_product[product]:
                    results[update.sku] = PushResult(update.sku, not errors, "; ".join(errors))
        return [results[u.sku] for u in updates]

    # --- fulfilment --------------------------------------------------------------------------
    def push_fulfilment(self, shipment: Shipment) -> None:
        """fulfillmentCreate on the order's open fulfillment orders, for the given lines or everything left."""
        gid = f"gid://shopify/Order/{mapping.numeric_id(shipment.external_order_id)}"
        order = (self.client.fulfillment_orders(gid).get("data") or {}).get("order")
        if not order:
            raise PermanentError(f"shopify: no order {shipment.external_order_id}")
        wanted = {mapping.numeric_id(line): qty for line, qty in shipment.lines}
        groups = []
        for edge in (order.get("fulfillmentOrders") or {}).get("edges") or []:
            node = edge["node"]
            if node.get("status") not in ("OPEN", "IN_PROGRESS"):
                continue
            items = []
            for line_edge in (node.get("lineItems") or {}).get("edges") or []:
                line = line_edge["node"]
                remaining = int(line.get("remainingQuantity") or 0)
                line_id = mapping.numeric_id((line.get("lineItem") or {}).get("id"))
                if remaining <= 0:
                    continue
                if not wanted:
                    items.append({"id": line["id"], "quantity": remaining})
                elif wanted.get(line_id, 0) > 0:
                    take = min(remaining, wanted[line_id])
                    wanted[line_id] -= take
                    items.append({"id": line["id"], "quantity": take})
            if items:
                groups.append({"fulfillmentOrderId": node["id"], "fulfillmentOrderLineItems": items})
        if not groups:
            raise PermanentError(f"shopify: nothing left to fulfil on order {shipment.external_order_id}")
        if any(qty > 0 for qty in wanted.values()):
            raise PermanentError(f"shopify: order {shipment.external_order_id} has fewer open units than shipped")
        # One fulfillment per fulfillment order: they may sit at different locations.
        for group in groups:
            result = (self.client.create_fulfillment({
                "lineItemsByFulfillmentOrder": [group],
                "notifyCustomer": False,
                "trackingInfo": {"company": shipment.carrier, "number": shipment.tracking_number},
            }).get("data") or {}).get("fulfillmentCreate") or {}
            if result.get("userErrors"):
                raise PermanentError(f"shopify: fulfillmentCreate refused: {result['userErrors']}")

    # --- webhooks ----------------------------------------------------------------------------
    def verify_webhook(self, headers: dict[str, str], body: bytes) -> bool:
        """X-Shopify-Hmac-Sha256 = base64(HMAC-SHA256(app secret, raw body)).
        https://shopify.dev/docs/apps/build/webhooks/subscribe/https"""
        secret = self.connection.credentials.get("api_secret", "")
        given = _header(headers, "X-Shopify-Hmac-Sha256")
        if not secret or not given:
            return False
        expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
        return hmac.compare_digest(expected.encode(), given.strip().encode())

    def parse_webhook(self, headers: dict[str, str], body: bytes) -> list[ChannelOrder]:
        """An orders/* delivery (a REST-shaped order) -> the order; other topics carry none."""
        if not self.verify_webhook(headers, body):
            raise PermanentError("shopify: webhook signature does not match")
        topic = _header(headers, "X-Shopify-Topic") or ""
        if topic and topic not in WEBHOOK_TOPICS:
            return []
        try:
            raw = json.loads(body, parse_float=Decimal)
        except ValueError as exc:
            raise MappingError(f"webhook body is not JSON: {exc}") from None
        return [mapping.map_rest_order(raw)]


def rating_metafields(product_gid: str, updates: list[RatingUpdate]) -> list[dict[str, str]]:
    """The two standard review metafields of one product; the rating value is a decimal string, one decimal
    place more than needed never hurts (\"4.25\"), never a float."""
    count = sum(u.count for u in updates)
    total = sum((u.average * u.count for u in updates), Decimal(0))
    average = (total / count if count else Decimal(0)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    average = min(max(average, Decimal("1.00")), Decimal("5.00"))
    rating = json.dumps({"value": str(average), "scale_min": "1.0", "scale_max": "5.0"})
    return [{"ownerId": product_gid, "namespace": "reviews", "key": "rating", "type": "rating", "value": rating},
            {"ownerId": product_gid, "namespace": "reviews", "key": "rating_count", "type": "number_integer",
             "value": str(count)}]


def price_text(update: PriceUpdate, shop_currency: str) -> tuple[str, str]:
    """(why the update is refused, "") or ("", the price as Shopify's Money string, e.g. "19.99", "1500",
    "12.345"): the Decimal written out exactly, never through a float."""
    try:
        places = minor_units(update.currency)
    except CurrencyError as exc:
        return f"not a currency: {exc}", ""
    if update.currency != shop_currency:
        return f"price in {update.currency}, but the shop sells in {shop_currency}", ""
    price = update.price
    if not isinstance(price, Decimal) or not price.is_finite():
        return f"not a decimal price: {price!r}", ""
    exact = price.quantize(Decimal(1).scaleb(-places))
    if exact != price:
        return f"{price} has more decimals than {update.currency} allows ({places})", ""
    return "", format(exact, "f")


def _header(headers: dict[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None
