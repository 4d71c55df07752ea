"""Amazon SP-API connector: orders (Orders API v0), stock and prices (Listings Items API 2021-08-01) and shipment
confirmation for seller-fulfilled orders (Orders API v0 confirmShipment). Amazon has no signed webhooks
(notifications go through SQS/EventBridge), so there is no webhook capability.

Connection.credentials: client_id, client_secret, refresh_token, seller_id.
Connection.options: marketplace_ids (list, required), page_size (1-100, default 100), product_type (for listing
patches, default "PRODUCT"), lwa_endpoint (see client.py). Pacing and token expiry read Connection.clock.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from hub.channels.amazon import mapping
from hub.channels.amazon.client import AmazonClient
from hub.channels.port import OrderPage, PriceUpdate, PushResult, Shipment, StockUpdate
from hub.channels.registry import Connection
from hub.channels.values import MappingError
from hub.errors import ExternalError, PermanentError
from hub.money import CurrencyError, minor_units
from hub.timeutil import ensure_utc, utcnow

# patchListingsItem sets one SKU per call (across all the connection's marketplaces at once); the bulk route is a
# JSON_LISTINGS_FEED through the Feeds API, whose createFeed allows 0.0083 rps — not worth it below thousands.
STOCK_BATCH_SIZE = 1
# getListingsItem reads one SKU a call (there is no batch read in the Listings Items API); its usage plan is
# 5 requests/s, burst 10 (https://developer-docs.amazon.com/sp-api/docs/listings-items-api-v2021-08-01-reference#getlistingsitem).
STOCK_READ_BATCH_SIZE = 1
# Prices go the same way (a replace of /attributes/purchasable_offer): one SKU per patchListingsItem call, paced by
# its usage plan (client.USAGE_PLANS).
PRICE_BATCH_SIZE = 1
MAX_PAGE_SIZE = 100  # getOrders MaxResultsPerPage
# Amazon refuses a LastUpdatedAfter less than 2 minutes before the request; ask from a little earlier instead
# (an order seen twice is harmless, one skipped is not).
NEWEST_SINCE = timedelta(minutes=3)
CURSOR_VERSION = 1

# Carrier codes Amazon accepts as they are (an excerpt of the CarrierCode list linked from the confirmShipment
# reference); any other carrier goes as carrierCode "Other" with its name in carrierName.
CARRIER_CODES = frozenset({
    "DHL", "DHL eCommerce", "DPD", "Deutsche Post", "FedEx", "GLS", "Hermes", "Royal Mail", "UPS", "USPS",
    "Yamato Transport", "Japan Post", "Sagawa Express", "Canada Post", "Australia Post", "Correios", "Poczta Polska",
    "InPost", "Chronopost", "Colissimo", "Parcelforce", "Evri",
})


def amazon_time(value: datetime) -> str:
    """UTC, ISO 8601 with Z, as SP-API documents its date parameters."""
    return ensure_utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def encode_cursor(next_token: str) -> str:
    raw = json.dumps({"v": CURSOR_VERSION, "next": next_token}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if data.get("v") != CURSOR_VERSION or not isinstance(data.get("next"), str):
            raise ValueError
    except (ValueError, TypeError, AttributeError):
        raise PermanentError("amazon: not a cursor this connector issued") from None
    return data["next"]


class AmazonConnector:
    def __init__(self, connection: Connection) -> None:
        self.client = AmazonClient(connection)
        options = connection.options
        self.marketplace_ids = [str(m) for m in (options.get("marketplace_ids") or [])]
        if not self.marketplace_ids:
            raise PermanentError("amazon: options.marketplace_ids is required")
        self.seller_id = str(connection.credentials.get("seller_id") or "")
        self.page_size = max(1, min(MAX_PAGE_SIZE, int(options.get("page_size") or MAX_PAGE_SIZE)))
        self.product_type = str(options.get("product_type") or "PRODUCT")

    # --- orders ------------------------------------------------------------------------------
    def pull_orders(self, since: datetime, cursor: str | None = None) -> OrderPage:
        """One getOrders page (orders last updated at or after `since`) with each order's items.

        The cursor wraps Amazon's NextToken, which carries the original filters. An order that cannot be mapped,
        or whose items Amazon refuses, is rejected with its reason while the rest of the page goes on.
        """
        if cursor:
            body = self.client.get_orders(self.marketplace_ids, next_token=decode_cursor(cursor))
        else:
            after = min(ensure_utc(since), utcnow() - NEWEST_SINCE)
            body = self.client.get_orders(self.marketplace_ids, last_updated_after=amazon_time(after),
                                          max_results=self.page_size)
        payload = body.get("payload") if isinstance(body, dict) else None
        if not isinstance(payload, dict) or not isinstance(payload.get("Orders"), list):
            raise PermanentError("amazon: getOrders answered without payload.Orders")
        orders, rejected = [], []
        # A rejected order is kept as mapping.normalize takes it alone: {"order": ..., "items": [...]}, as
        # ChannelOrder.raw is; without "items" when getOrderItems was not asked or refused.
        for raw in payload["Orders"]:
            order_id = raw.get("AmazonOrderId", "") if isinstance(raw, dict) else ""
            if not isinstance(raw, dict) or not order_id:
                rejected.append(("", "an order without AmazonOrderId", {"order": raw}))
                continue
            try:
                pages = self.client.all_order_items(order_id)
            except PermanentError as exc:
                if exc.status not in (400, 404):  # refused auth and the like stop the page, not just this order
                    raise
                rejected.append((order_id, f"getOrderItems refused: {exc}", {"order": raw}))
                continue
            items = [item for page in pages for item in (page.get("payload") or {}).get("OrderItems") or []]
            try:
                orders.append(mapping.map_order(raw, items))
            except MappingError as exc:
                rejected.append((order_id, str(exc), {"order": raw, "items": items}))
        token = payload.get("NextToken")
        return OrderPage(tuple(orders), tuple(rejected), encode_cursor(token) if token else None)

    # --- stock -------------------------------------------------------------------------------
    def read_stock(self, skus: list[str]) -> dict[str, int]:
        """SKU -> the merchant-fulfilled (DEFAULT channel) quantity, one getListingsItem per SKU
        (STOCK_READ_BATCH_SIZE: the API reads one listing a call), paced by its usage plan. A SKU Amazon
        does not know (404), or without a DEFAULT quantity (e.g. only FBA), is left out."""
        if not self.seller_id:
            raise PermanentError("amazon: credentials.seller_id is required to read listings")
        found: dict[str, int] = {}
        for sku in dict.fromkeys(skus):
            try:
                body = self.client.get_listings_item(self.seller_id, sku, self.marketplace_ids)
            except PermanentError as exc:
                if exc.status == 404:
                    continue
                raise
            entries = body.get("fulfillmentAvailability") if isinstance(body, dict) else None
            quantity = next((e.get("quantity") for e in entries or [] if isinstance(e, dict)
                             and e.get("fulfillmentChannelCode") == "DEFAULT"), None)
            if isinstance(quantity, int) and not isinstance(quantity, bool):
                found[sku] = quantity
        return found

    def push_stock(self, updates: list[StockUpdate]) -> list[PushResult]:
        """Set fulfillment_availability (DEFAULT = merchant-fulfilled) per SKU in all the connection's
        marketplaces; Amazon validates asynchronously, so ACCEPTED means queued, INVALID carries the issues."""
        if not self.seller_id:
            raise PermanentError("amazon: credentials.seller_id is required to update listings")
        results = []
        for update in updates:
            body = {"productType": self.product_type, "patches": [{
                "op": "replace", "path": "/attributes/fulfillment_availability",
                "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": max(0, int(update.available))}],
            }]}
            try:
                answer = self.client.patch_listings_item(self.seller_id, update.sku, self.marketplace_ids, body)
            except ExternalError as exc:
                results.append(PushResult(update.sku, False, str(exc)))
                continue
            status = answer.get("status")
            issues = "; ".join(f"{i.get('code', '')}: {i.get('message', '')}" for i in answer.get("issues") or []
                               if isinstance(i, dict))
            results.append(PushResult(update.sku, status == "ACCEPTED", issues or str(status)))
        return results

    # --- prices ------------------------------------------------------------------------------
    def push_prices(self, updates: list[PriceUpdate]) -> list[PushResult]:
        """Set our_price (purchasable_offer, audience ALL) per SKU in those of the connection's marketplaces that
        sell in the update's currency, PRICE_BATCH_SIZE SKU per call. Refused without a call: a currency none of
        the marketplaces sells in, a price with more decimals than the currency's ISO minor units, a price that is
        not positive. Amazon validates asynchronously: ACCEPTED means queued, INVALID carries the issues (an
        unknown SKU among them). A refused authorisation stops the whole push (raised), as for orders."""
        if not self.seller_id:
            raise PermanentError("amazon: credentials.seller_id is required to update listings")
        results: list[PushResult] = []
        for start in range(0, len(updates), PRICE_BATCH_SIZE):
            for update in updates[start:start + PRICE_BATCH_SIZE]:
                results.append(self._push_price(update))
        return results

    def _push_price(self, update: PriceUpdate) -> PushResult:
        markets = [m for m in self.marketplace_ids if mapping.MARKETPLACES.get(m, ("", ""))[1] == update.currency]
        if not markets:
            sold = ", ".join(f"{m} {mapping.MARKETPLACES[m][1]}" for m in self.marketplace_ids
                             if m in mapping.MARKETPLACES)
            return PushResult(update.sku, False, f"currency {update.currency} is not sold in any of this "
                                                 f"connection's marketplaces ({sold or 'none known'})")
        problem = price_problem(update.price, update.currency)
        if problem:
            return PushResult(update.sku, False, problem)
        price = update.price.quantize(Decimal(1).scaleb(-minor_units(update.currency)))
        offers = [{"marketplace_id": m, "currency": update.currency, "audience": "ALL",
                   "our_price": [{"schedule": [{"value_with_tax": price}]}]} for m in markets]
        try:
            answer = self.client.patch_listings_price(self.seller_id, update.sku, self.product_type, offers, markets)
        except ExternalError as exc:
            if exc.status in (401, 403):
                raise
            return PushResult(update.sku, False, str(exc))
        status = answer.get("status") if isinstance(answer, dict) else None
        issues = "; ".join(f"{i.get('code', '')}: {i.get('message', '')}" for i in (answer or {}).get("issues") or []
                           if isinstance(i, dict))
        return PushResult(update.sku, status == "ACCEPTED", issues or str(status))

    # --- fulfilment --------------------------------------------------------------------------
    def push_fulfilment(self, shipment: Shipment) -> None:
        """confirmShipment for a seller-fulfilled order. Without lines the whole unshipped rest of the order
        is confirmed. The package reference is derived from the tracking number, so sending the same shipment
        again edits it instead of adding a second package."""
        order_id = shipment.external_order_id
        order = (self.client.get_order(order_id).get("payload") or {})
        marketplace_id = order.get("MarketplaceId") or self.marketplace_ids[0]
        lines = list(shipment.lines)
        if not lines:
            items = [item for page in self.client.all_order_items(order_id)
                     for item in (page.get("payload") or {}).get("OrderItems") or []]
            for item in items:
                rest = int(item.get("QuantityOrdered") or 0) - int(item.get("QuantityShipped") or 0)
                if rest > 0:
                    lines.append((str(item["OrderItemId"]), rest))
            if not lines:  # all shipped already: resend the whole order as this package (an edit if it was this one)
                lines = [(str(i["OrderItemId"]), int(i["QuantityOrdered"])) for i in items if i.get("QuantityOrdered")]
        if not lines:
            raise PermanentError(f"amazon: order {order_id} has nothing to ship")
        self.client.confirm_shipment(order_id, confirm_shipment_body(shipment, marketplace_id, lines))


def price_problem(price: Decimal, currency: str) -> str:
    """Why `price` cannot be sent as a price in `currency` ("" when it can)."""
    try:
        exponent = minor_units(currency)
    except CurrencyError as exc:
        return str(exc)
    if not isinstance(price, Decimal) or not price.is_finite():
        return f"price {price!r} is not a finite Decimal"
    if price <= 0:
        return f"price {price} {currency} must be more than zero"
    if price != price.quantize(Decimal(1).scaleb(-exponent)):
        return f"price {price} has more decimals than {currency} allows ({exponent})"
    return ""


def confirm_shipment_body(shipment: Shipment, marketplace_id: str, lines: list[tuple[str, int]]) -> dict[str, Any]:
    digest = hashlib.sha256(f"{shipment.carrier}|{shipment.tracking_number}".encode()).hexdigest()
    package: dict[str, Any] = {
        "packageReferenceId": str(int(digest[:12], 16) % 10**12 + 1),  # positive numeric, stable per package
        "carrierCode": shipment.carrier if shipment.carrier in CARRIER_CODES else "Other",
        "trackingNumber": shipment.tracking_number,
        "shipDate": amazon_time(shipment.shipped_at),
        "orderItems": [{"orderItemId": item_id, "quantity": int(quantity)} for item_id, quantity in lines],
    }
    if package["carrierCode"] == "Other":
        package["carrierName"] = shipment.carrier
    return {"marketplaceId": marketplace_id, "packageDetail": package}
