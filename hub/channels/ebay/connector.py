"""eBay connector: orders (Fulfillment API), stock and prices (Inventory API, in batches of 25), shipments.

Paging is by offset inside a fixed window `lastmodifieddate:[since..until]`, `until` being the time of the
first page: orders modified while paging leave the window (the next pull's `since` catches them) and new
ones cannot enter it, so the window only shrinks. When it shrinks, later orders move to lower offsets;
each page therefore starts a few places early and drops the orders the previous page ended with (their ids
travel in the cursor), which also removes an order repeated across pages. The cursor is opaque, resumable
and carries no secrets.

eBay has no order webhooks in its REST Notification API, so there is no `webhooks` capability.

Connection: credentials `client_id`, `client_secret`, `refresh_token` (optional `scope`); options
`page_size` (default 200, at most 995 so a page with its overlap stays within eBay's 1000), `offers`
({sku: [offerId, …]} whose availableQuantity is set with the stock, and which alone are repriced when given)
and `retry` (a RetryPolicy).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from hub.channels.ebay import mapping
from hub.channels.ebay.client import EbayClient
from hub.channels.port import ChannelOrder, OrderPage, PriceUpdate, PushResult, Shipment, StockUpdate
from hub.channels.registry import Connection
from hub.channels.values import MappingError
from hub.errors import ExternalError
from hub.money import CurrencyError, minor_units
from hub.timeutil import ensure_utc, utcnow

STOCK_BATCH_LIMIT = 25  # bulkUpdatePriceQuantity takes at most 25 SKUs per call
# bulkGetInventoryItem reads at most 25 inventory items per call
# (https://developer.ebay.com/api-docs/sell/inventory/types/slr:BulkGetInventoryItem). getInventoryItems
# (GET /inventory_item) only pages through the whole inventory, with no SKU filter.
STOCK_READ_LIMIT = 25
PRICE_BATCH_LIMIT = 25  # …and at most 25 offers per call: a price batch holds at most 25 offers in all
MAX_PAGE_SIZE = 1000  # getOrders `limit` maximum
DEFAULT_PAGE_SIZE = 200
LOOKBACK = timedelta(days=90)  # getOrders only returns orders of the last 90 days
OVERLAP = 5  # orders of the previous page fetched again (and dropped) to survive a shrinking window
TAIL = 2 * OVERLAP  # ids of the previous page's last orders, carried in the cursor to drop repeats


def ebay_time(value: datetime) -> str:
    """UTC with milliseconds and Z, as eBay's filters expect: 2026-01-01T00:00:00.000Z."""
    value = ensure_utc(value)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _encode(state: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode(cursor: str) -> dict[str, Any]:
    try:
        state = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not (isinstance(state, dict) and {"since", "until", "offset", "tail"} <= set(state)):
            raise ValueError
        return state
    except ValueError:
        raise ValueError("not a cursor of the eBay connector") from None


def _errors(body: Any) -> str:
    errors = body.get("errors") if isinstance(body, dict) else None
    return "; ".join(f"{e.get('errorId')}: {e.get('message')}" for e in errors or [] if isinstance(e, dict))


def _price_batches(planned: list[tuple[str, list[dict[str, Any]]]]) -> list[list[tuple[str, list[dict[str, Any]]]]]:
    """SKUs grouped so that no call carries more than PRICE_BATCH_LIMIT offers (nor SKUs); getOffers gives at
    most 25 offers a SKU, so one SKU always fits one call."""
    batches: list[list[tuple[str, list[dict[str, Any]]]]] = []
    count = PRICE_BATCH_LIMIT
    for sku, offers in planned:
        if count + len(offers) > PRICE_BATCH_LIMIT:
            batches.append([])
            count = 0
        batches[-1].append((sku, offers))
        count += len(offers)
    return batches


class EbayConnector:
    def __init__(self, connection: Connection, *, now: Callable[[], datetime] = utcnow,
                 client: EbayClient | None = None) -> None:
        self.connection = connection
        self.client = client or EbayClient(connection)
        self.now = now
        self.page_size = min(int(connection.options.get("page_size", DEFAULT_PAGE_SIZE)), MAX_PAGE_SIZE - OVERLAP)

    # --- orders -----------------------------------------------------------------------------------
    def pull_orders(self, since: datetime, cursor: str | None = None) -> OrderPage:
        if cursor:
            state = _decode(cursor)
        else:
            until = self.now()
            earliest = until - LOOKBACK + timedelta(minutes=1)
            state = {"since": ebay_time(max(ensure_utc(since), earliest)), "until": ebay_time(until),
                     "offset": 0, "tail": []}
        tail = set(state["tail"])
        start = max(0, state["offset"] - OVERLAP)
        limit = self.page_size + (state["offset"] - start)
        body = self.client.get_orders(filter=f"lastmodifieddate:[{state['since']}..{state['until']}]",
                                      limit=limit, offset=start)
        raw_orders = (body.get("orders") or []) if isinstance(body, dict) else []

        orders: list[ChannelOrder] = []
        rejected: list[tuple[str, str, dict[str, Any]]] = []
        seen = set(tail)
        for raw in raw_orders:
            external_id = raw.get("orderId", "") if isinstance(raw, dict) else ""
            if external_id and external_id in seen:
                continue
            seen.add(external_id)
            try:
                orders.append(mapping.map_order(raw))
            except MappingError as exc:
                rejected.append((str(external_id or ""), str(exc), raw if isinstance(raw, dict) else {"raw": raw}))

        consumed = min(len(raw_orders), limit)
        total = body.get("total") if isinstance(body, dict) else None
        more = bool(raw_orders) and (bool(body.get("next")) or (isinstance(total, int) and start + consumed < total))
        next_cursor = None
        if more:
            # The last `consumed` orders are the page proper (an API may repeat an earlier order in front).
            page_proper = raw_orders[len(raw_orders) - consumed:]
            ids = [r.get("orderId") for r in page_proper if isinstance(r, dict) and r.get("orderId")]
            next_cursor = _encode({**state, "offset": start + consumed, "tail": ids[-TAIL:]})
        return OrderPage(tuple(orders), tuple(rejected), next_cursor)

    # --- stock ------------------------------------------------------------------------------------
    def push_stock(self, updates: list[StockUpdate]) -> list[PushResult]:
        """Ship-to-home quantities, 25 SKUs a call; with `options["offers"] = {sku: [offerId, …]}` the
        published offers' availableQuantity is set too (eBay lists the smaller of the two)."""
        latest = {u.sku: max(0, u.available) for u in updates}  # one entry per SKU, the last one wins
        offers: dict[str, list[str]] = self.connection.options.get("offers", {})
        results: dict[str, PushResult] = {}
        skus = list(latest)
        for first in range(0, len(skus), STOCK_BATCH_LIMIT):
            batch = skus[first:first + STOCK_BATCH_LIMIT]
            requests = []
            for sku in batch:
                item: dict[str, Any] = {"sku": sku, "shipToLocationAvailability": {"quantity": latest[sku]}}
                if offers.get(sku):
                    item["offers"] = [{"offerId": o, "availableQuantity": latest[sku]} for o in offers[sku]]
                requests.append(item)
            try:
                body = self.client.bulk_update_price_quantity(requests)
            except ExternalError as exc:
                results.update({sku: PushResult(sku, False, exc.message) for sku in batch})
                continue
            answered: dict[str, list[dict[str, Any]]] = {}
            for response in body.get("responses") or []:
                answered.setdefault(response.get("sku", ""), []).append(response)
            for sku in batch:
                results[sku] = self._item_result(sku, answered.get(sku, []))
        return [results[sku] for sku in skus]

    def read_stock(self, skus: list[str]) -> dict[str, int]:
        """SKU -> shipToLocationAvailability.quantity, STOCK_READ_LIMIT SKUs per bulkGetInventoryItem; a SKU eBay
        answers without a 200 (not found) or without a quantity is left out."""
        unique = list(dict.fromkeys(skus))
        found: dict[str, int] = {}
        for first in range(0, len(unique), STOCK_READ_LIMIT):
            batch = unique[first:first + STOCK_READ_LIMIT]
            body = self.client.bulk_get_inventory_item(batch)
            for response in (body.get("responses") or []) if isinstance(body, dict) else []:
                sku = response.get("sku") if isinstance(response, dict) else None
                if sku not in batch or response.get("statusCode") != 200:
                    continue
                item = response.get("inventoryItem") or {}
                quantity = ((item.get("availability") or {}).get("shipToLocationAvailability") or {}).get("quantity")
                if isinstance(quantity, int) and not isinstance(quantity, bool):
                    found[sku] = quantity
        return found

    @staticmethod
    def _item_result(sku: str, responses: list[dict[str, Any]]) -> PushResult:
        if not responses:
            return PushResult(sku, False, "eBay gave no answer for this SKU")
        failed = [r for r in responses if r.get("statusCode") != 200]
        if not failed:
            return PushResult(sku, True)
        errors = [e for r in failed for e in (r.get("errors") or [])]
        message = "; ".join(f"{e.get('errorId')}: {e.get('message')}" for e in errors) or (
            f"statusCode {failed[0].get('statusCode')}")
        return PushResult(sku, False, message)

    # --- prices -----------------------------------------------------------------------------------
    def push_prices(self, updates: list[PriceUpdate]) -> list[PushResult]:
        """Set the price of each SKU's published offers, 25 offers a call (bulkUpdatePriceQuantity).

        Each SKU's offers are looked up first (getOffers): they give the offer ids and the listing's currency. A
        price in another currency than the listing's, with more decimals than the currency's ISO minor units, or
        not above zero is refused here; a SKU eBay does not know is refused with eBay's message. Prices travel as
        decimal strings, exactly as given. The last update of a SKU wins; one result per SKU, in input order.
        """
        latest = {u.sku: u for u in updates}
        wanted: dict[str, list[str]] = self.connection.options.get("offers", {})
        results: dict[str, PushResult] = {}
        planned: list[tuple[str, list[dict[str, Any]]]] = []  # (sku, offers to reprice)
        for sku, update in latest.items():
            refused = self._refuse_price(update)
            if refused:
                results[sku] = PushResult(sku, False, refused)
                continue
            try:
                found = self.client.get_offers(sku)
            except ExternalError as exc:
                if exc.status in (401, 403):
                    raise
                results[sku] = PushResult(sku, False, exc.message)
                continue
            offers = [o for o in (found.get("offers") or []) if isinstance(o, dict)] if isinstance(found, dict) else []
            if not offers:
                results[sku] = PushResult(sku, False, _errors(found) or "eBay has no offer for this SKU")
                continue
            if wanted.get(sku):
                offers = [o for o in offers if o.get("offerId") in wanted[sku]]
            published = [o for o in offers if o.get("status") == "PUBLISHED"]
            if not published:
                results[sku] = PushResult(sku, False, "no published offer for this SKU (bulkUpdatePriceQuantity "
                                                      "revises live listings only)")
                continue
            currencies = {((o.get("pricingSummary") or {}).get("price") or {}).get("currency") for o in published}
            if currencies != {update.currency}:
                listed = ", ".join(sorted(str(c) for c in currencies))
                results[sku] = PushResult(sku, False, f"the listing is priced in {listed}, not {update.currency}")
                continue
            value = {"value": format(update.price, "f"), "currency": update.currency}
            planned.append((sku, [{"offerId": o["offerId"], "price": value} for o in published]))

        for batch in _price_batches(planned):
            requests = [{"sku": sku, "offers": offers} for sku, offers in batch]
            skus = [sku for sku, _ in batch]
            try:
                body = self.client.bulk_update_price_quantity(requests)
            except ExternalError as exc:
                if exc.status in (401, 403):
                    raise
                results.update({sku: PushResult(sku, False, exc.message) for sku in skus})
                continue
            answered: dict[str, list[dict[str, Any]]] = {}
            for response in body.get("responses") or []:
                answered.setdefault(response.get("sku", ""), []).append(response)
            for sku in skus:
                results[sku] = self._item_result(sku, answered.get(sku, []))
        return [results[sku] for sku in latest]

    @staticmethod
    def _refuse_price(update: PriceUpdate) -> str:
        """Why the update cannot be sent as it is, or ""."""
        try:
            places = minor_units(update.currency)
        except CurrencyError as exc:
            return str(exc)
        if not update.price.is_finite() or update.price <= 0:
            return f"the price must be above zero, not {update.price}"
        if update.price != update.price.quantize(Decimal(1).scaleb(-places)):
            return f"{update.price} {update.currency} has more decimals than the currency's {places}"
        return ""

    # --- shipments --------------------------------------------------------------------------------
    def push_fulfilment(self, shipment: Shipment) -> None:
        lines = list(shipment.lines)
        if not lines:  # the whole order: every line not yet fulfilled, at its ordered quantity
            order = self.client.get_order(shipment.external_order_id)
            lines = [(item["lineItemId"], int(item["quantity"])) for item in order.get("lineItems") or []
                     if item.get("lineItemFulfillmentStatus") != "FULFILLED"]
        self.client.create_shipping_fulfillment(shipment.external_order_id, {
            "lineItems": [{"lineItemId": line_id, "quantity": qty} for line_id, qty in lines],
            "shippedDate": ebay_time(shipment.shipped_at),
            "shippingCarrierCode": shipment.carrier,
            "trackingNumber": shipment.tracking_number,
        })
