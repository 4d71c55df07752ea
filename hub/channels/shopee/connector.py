"""The Shopee connector: orders by update time in 15-day windows, stock and prices per item, shipment arrangement.

Credentials: partner_id, partner_key, shop_id, access_token, refresh_token.
Options:
    sku_map          {sku: [item_id, model_id]}; without it the catalogue is read once through
                     get_item_list / get_item_base_info / get_model_list
    on_tokens        callable(Tokens): called with the refreshed access token AND the new refresh token,
                     which replaces the old one and must be stored (the old one stops working)
    stock_pace_seconds  pause between update_stock calls (default 0.2: Shopee publishes no limits)
    price_pace_seconds  pause between update_price calls (default 0.2)
    currency         the shop's currency (a Shopee shop sells in its region's currency only), e.g. "SGD";
    region           or the shop's region ("SG", "VN", ...), from which the currency follows. Without either,
                     push_prices refuses every update (the currency cannot be checked)
    clock            callable() -> unix seconds (tests)
    push_url         the callback URL registered for Push Mechanism; the push signature covers it
    comment_page_size  comments per get_comment page (default and most 100; smaller in tests)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
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
from hub.channels.shopee import mapping
from hub.channels.shopee.client import (
    COMMENT_PAGE_MAX,
    DETAIL_BATCH_MAX,
    ITEM_BASE_INFO_BATCH_MAX,
    ORDER_WINDOW_SECONDS,
    PAGE_SIZE_MAX,
    PRICE_LIST_MAX,
    RATE_BURST,
    RATE_PER_SECOND,
    ShopeeClient,
    ShopeeError,
    Tokens,
)
from hub.channels.values import MappingError
from hub.errors import PermanentError
from hub.money import CurrencyError, minor_units
from hub.outbound.pacing import Pacer, shared

ORDER_STATUS_PUSH = 3  # Push Mechanism code of "Order Status Update Push"

# Items per get_item_base_info when reading stock back: its cap (item_id_list, 50).
STOCK_READ_BATCH = ITEM_BASE_INFO_BATCH_MAX
STOCK_PACE_SECONDS = 0.2  # between update_stock calls: one item per call, limits unpublished
PRICE_PACE_SECONDS = 0.2  # between update_price calls: one item per call, limits unpublished
MAX_COMMENT_PAGES = 10  # get_comment serves at most 1000 comments: 10 pages of 100
MAX_EMPTY_WINDOWS_PER_CALL = 100  # windows skipped in one pull_orders call before returning an empty page

# Shopee region -> the currency its shops sell in.
REGION_CURRENCY = {"SG": "SGD", "MY": "MYR", "TH": "THB", "TW": "TWD", "VN": "VND", "PH": "PHP", "ID": "IDR",
                   "BR": "BRL", "MX": "MXN", "CO": "COP", "CL": "CLP"}
# Currencies Shopee prices in whole units although ISO 4217 gives them minor units (IDR 2, TWD 2).
WHOLE_UNIT_CURRENCIES = frozenset({"IDR", "TWD", "VND"})


def _encode(state: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode()


def _decode(cursor: str) -> dict[str, Any]:
    try:
        state = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        int(state["from"]), int(state["until"])
    except (ValueError, KeyError, TypeError):
        raise PermanentError(f"shopee: not a cursor of this connector: {cursor[:40]!r}") from None
    return state


class ShopeeConnector:
    def __init__(self, connection: Connection):
        creds = connection.credentials
        self.connection = connection
        self.clock = connection.options.get("clock", time.time)
        rate, burst = connection.options.get("rate_limit") or (RATE_PER_SECOND, RATE_BURST)
        self.client = ShopeeClient(
            connection.base_url, partner_id=creds["partner_id"], partner_key=creds["partner_key"],
            shop_id=creds["shop_id"], access_token=creds.get("access_token", ""),
            refresh_token=creds.get("refresh_token", ""), audit=connection.audit, sleep=connection.sleep,
            timeout=connection.timeout,
            clock=self.clock, on_tokens=self._tokens_refreshed, pacer=shared(
                ("shopee", connection.base_url, creds["shop_id"], connection.clock),
                lambda: Pacer(rate, burst, connection.clock, connection.sleep)))
        self.on_tokens = connection.options.get("on_tokens")
        self.refreshed_tokens: Tokens | None = None  # the latest refresh, for the sync engine to store
        self.pace = float(connection.options.get("stock_pace_seconds", STOCK_PACE_SECONDS))
        self.price_pace = float(connection.options.get("price_pace_seconds", PRICE_PACE_SECONDS))
        region = str(connection.options.get("region") or "").upper()
        self.currency: str | None = connection.options.get("currency") or REGION_CURRENCY.get(region)
        self._sku_map: dict[str, tuple[int, int]] | None = (
            {sku: (int(ids[0]), int(ids[1])) for sku, ids in connection.options["sku_map"].items()}
            if connection.options.get("sku_map") else None)

    def _tokens_refreshed(self, tokens: Tokens) -> None:
        self.refreshed_tokens = tokens
        if self.on_tokens is not None:
            self.on_tokens(tokens)

    # --- orders --------------------------------------------------------------------------------
    def pull_orders(self, since: datetime, cursor: str | None = None) -> OrderPage:
        """Orders updated since `since`, one get_order_list page (<= 100) per call, each detailed in batches of 50.
        The cursor holds the 15-day window, Shopee's cursor inside it, the fixed end of the whole range, and the
        previous page's order numbers (an order repeated across pages is returned once)."""
        if cursor:
            state = _decode(cursor)
        else:
            if since.tzinfo is None:
                raise ValueError("since must be timezone-aware")
            state = {"from": int(since.astimezone(UTC).timestamp()), "until": int(self.clock()), "cursor": "",
                     "seen": []}
        if state["from"] > state["until"]:
            return OrderPage((), (), None)  # `since` lies in the future
        for _ in range(MAX_EMPTY_WINDOWS_PER_CALL):
            window_to = min(state["from"] + ORDER_WINDOW_SECONDS, state["until"])
            envelope = self.client.get_order_list(state["from"], window_to, state.get("cursor", ""), PAGE_SIZE_MAX)
            response = envelope.get("response") or {}
            seen = set(state.get("seen", []))
            numbers = []
            for entry in response.get("order_list") or []:
                sn = str(entry.get("order_sn", "")) if isinstance(entry, dict) else ""
                if sn and sn not in seen and sn not in numbers:
                    numbers.append(sn)
            if response.get("more") and response.get("next_cursor"):
                nxt = {**state, "cursor": str(response["next_cursor"]), "seen": numbers or sorted(seen)}
            elif window_to < state["until"]:
                nxt = {**state, "from": window_to + 1, "cursor": "", "seen": []}  # both ends are inclusive
            else:
                nxt = None
            if numbers or nxt is None:
                orders, rejected = self._details(numbers)
                return OrderPage(tuple(orders), tuple(rejected), _encode(nxt) if nxt else None)
            state = nxt
        return OrderPage((), (), _encode(state))

    def _details(self, numbers: list[str]) -> tuple[list[ChannelOrder], list[tuple[str, str, dict[str, Any]]]]:
        orders: list[ChannelOrder] = []
        rejected: list[tuple[str, str, dict[str, Any]]] = []
        for start in range(0, len(numbers), DETAIL_BATCH_MAX):
            batch = numbers[start:start + DETAIL_BATCH_MAX]
            envelope = self.client.get_order_detail(batch)
            found: dict[str, dict[str, Any]] = {}
            for raw in (envelope.get("response") or {}).get("order_list") or []:
                sn = str(raw.get("order_sn", "")) if isinstance(raw, dict) else ""
                if not sn:
                    rejected.append(("", "get_order_detail returned an order without order_sn",
                                     raw if isinstance(raw, dict) else {"value": raw}))
                    continue
                found[sn] = raw
            for sn in batch:
                raw = found.get(sn)
                if raw is None:
                    # A listed order without its detail, as normalize refuses it alone (so a replay says the same).
                    rejected.append((sn, "listed by get_order_list but get_order_detail returned no detail",
                                     {"order_sn": sn}))
                    continue
                try:
                    orders.append(mapping.map_order(raw))
                except MappingError as exc:
                    rejected.append((sn, str(exc), raw))
        return orders, rejected

    # --- reviews -----------------------------------------------------------------------------------
    def fetch_reviews(self, since: datetime) -> Iterator[ReviewPage]:
        """Pages of comments created at or after `since`. get_comment has no time filter and no documented order,
        so every page (at most 1000 comments) is read and the older ones are left out; SKUs come from the
        catalogue read once (sku_map)."""
        if since.tzinfo is None:
            raise ValueError("since must be timezone-aware")
        by_ids = {ids: sku for sku, ids in self.sku_map().items()}
        cursor = ""
        for _ in range(MAX_COMMENT_PAGES):
            page_size = int(self.connection.options.get("comment_page_size", COMMENT_PAGE_MAX))
            response = self.client.get_comment(cursor, page_size).get("response") or {}
            reviews: list[ChannelReview] = []
            rejected: list[tuple[str, str]] = []
            for raw in response.get("item_comment_list") or []:
                try:
                    review = mapping.map_comment(raw, by_ids)
                except MappingError as exc:
                    rejected.append((str(raw.get("comment_id", "")) if isinstance(raw, dict) else "", str(exc)))
                    continue
                if review.created_at >= since:
                    reviews.append(review)
            yield ReviewPage(tuple(reviews), tuple(rejected))
            cursor = str(response.get("next_cursor") or "")
            if not response.get("more") or not cursor:
                return

    # --- stock -----------------------------------------------------------------------------------
    def sku_map(self) -> dict[str, tuple[int, int]]:
        """SKU -> (item_id, model_id), model_id 0 for an item without variants; read once from the catalogue."""
        if self._sku_map is not None:
            return self._sku_map
        found: dict[str, tuple[int, int]] = {}
        item_ids: list[int] = []
        offset = 0
        while True:
            response = self.client.get_item_list(offset=offset).get("response") or {}
            item_ids += [int(i["item_id"]) for i in response.get("item") or []]
            if not response.get("has_next_page"):
                break
            offset = int(response["next_offset"])
        for start in range(0, len(item_ids), ITEM_BASE_INFO_BATCH_MAX):
            infos = self.client.get_item_base_info(item_ids[start:start + ITEM_BASE_INFO_BATCH_MAX])
            for info in (infos.get("response") or {}).get("item_list") or []:
                item_id = int(info["item_id"])
                if info.get("has_model"):
                    models = (self.client.get_model_list(item_id).get("response") or {}).get("model") or []
                    for model in models:
                        if model.get("model_sku"):
                            found.setdefault(str(model["model_sku"]), (item_id, int(model["model_id"])))
                elif info.get("item_sku"):
                    found.setdefault(str(info["item_sku"]), (item_id, 0))
        self._sku_map = found
        return found

    def read_stock(self, skus: list[str]) -> dict[str, int]:
        """SKU -> seller stock (summed over the shop's locations). Items without variants are read
        STOCK_READ_BATCH at a time through get_item_base_info; an item with variants by one get_model_list,
        which answers all its models. A SKU the shop does not have is left out."""
        known = self.sku_map()
        wanted = [s for s in dict.fromkeys(skus) if s in known]
        plain = {known[s][0]: s for s in wanted if known[s][1] == 0}
        by_item: dict[int, dict[int, str]] = defaultdict(dict)
        for sku in wanted:
            if known[sku][1]:
                by_item[known[sku][0]][known[sku][1]] = sku
        found: dict[str, int] = {}
        ids = list(plain)
        for start in range(0, len(ids), STOCK_READ_BATCH):
            infos = self.client.get_item_base_info(ids[start:start + STOCK_READ_BATCH])
            for info in (infos.get("response") or {}).get("item_list") or []:
                stock = _seller_stock(info)
                if info.get("item_id") in plain and stock is not None:
                    found[plain[info["item_id"]]] = stock
        for item_id, models in by_item.items():
            for model in (self.client.get_model_list(item_id).get("response") or {}).get("model") or []:
                stock = _seller_stock(model)
                if model.get("model_id") in models and stock is not None:
                    found[models[model["model_id"]]] = stock
        return {s: found[s] for s in wanted if s in found}

    def push_stock(self, updates: list[StockUpdate]) -> list[PushResult]:
        """Group SKUs by item (update_stock takes one item per call, all its models at once) and pace the calls."""
        known = self.sku_map()
        results: dict[str, PushResult] = {}
        by_item: dict[int, list[tuple[str, int, int]]] = defaultdict(list)
        latest = {u.sku: u for u in updates}  # a SKU given twice: the last value counts
        for update in latest.values():
            if update.sku not in known:
                results[update.sku] = PushResult(update.sku, False, "SKU not found in the Shopee shop")
            elif update.available < 0:
                results[update.sku] = PushResult(update.sku, False, "stock cannot be negative")
            else:
                item_id, model_id = known[update.sku]
                by_item[item_id].append((update.sku, model_id, update.available))
        for number, (item_id, rows) in enumerate(by_item.items()):
            if number and self.pace:
                self.connection.sleep(self.pace)
            try:
                response = self.client.update_stock(item_id, [(m, s) for _, m, s in rows]).get("response") or {}
            except ShopeeError as exc:
                for sku, _, _ in rows:
                    results[sku] = PushResult(sku, False, str(exc))
                continue
            results.update(_model_results(response, [(sku, model_id) for sku, model_id, _ in rows]))
        return [results[u.sku] for u in updates]

    # --- prices ----------------------------------------------------------------------------------
    def push_prices(self, updates: list[PriceUpdate]) -> list[PushResult]:
        """Set each SKU's original_price with update_price: one item per call, its models PRICE_LIST_MAX (50) at a
        time, calls paced. Refused here, per SKU: a currency other than the shop's, a price not above zero, more
        decimals than the currency's ISO minor units (or any decimals where Shopee prices in whole units), a SKU
        not in the shop. Shopee's per-model failure_list reasons and whole-call errors are reported per SKU; an
        auth failure (HTTP 403) is raised. The last update of a SKU counts; one result per input, in input order."""
        latest = {u.sku: u for u in updates}
        results: dict[str, PushResult] = {}
        checked: dict[str, tuple[PriceUpdate, Decimal]] = {}
        for sku, update in latest.items():
            refused, amount = self._refuse_price(update)
            if refused:
                results[sku] = PushResult(sku, False, refused)
            else:
                checked[sku] = (update, amount)
        known = self.sku_map() if checked else {}
        by_item: dict[int, list[tuple[str, int, Decimal]]] = defaultdict(list)
        for sku, (_, amount) in checked.items():
            if sku not in known:
                results[sku] = PushResult(sku, False, "SKU not found in the Shopee shop")
            else:
                item_id, model_id = known[sku]
                by_item[item_id].append((sku, model_id, amount))
        calls = [(item_id, rows[start:start + PRICE_LIST_MAX]) for item_id, rows in by_item.items()
                 for start in range(0, len(rows), PRICE_LIST_MAX)]
        for number, (item_id, rows) in enumerate(calls):
            if number and self.price_pace:
                self.connection.sleep(self.price_pace)
            try:
                envelope = self.client.update_price(item_id, [(model_id, amount) for _, model_id, amount in rows])
            except ShopeeError as exc:
                if exc.status in (401, 403):
                    raise
                results.update({sku: PushResult(sku, False, str(exc)) for sku, _, _ in rows})
                continue
            results.update(_model_results(envelope.get("response") or {},
                                          [(sku, model_id) for sku, model_id, _ in rows]))
        return [results[u.sku] for u in updates]

    def _refuse_price(self, update: PriceUpdate) -> tuple[str, Decimal]:
        """(why the update cannot be sent, "") or ("", the amount as sent: the price at the currency's places)."""
        if not self.currency:
            return "the shop's currency is not configured (connection option `currency` or `region`)", update.price
        if update.currency != self.currency:
            return f"the shop sells in {self.currency}, not {update.currency}", update.price
        try:
            places = minor_units(update.currency)
        except CurrencyError as exc:
            return str(exc), update.price
        rule = f"{update.currency} has {places} minor units (ISO 4217)"
        if update.currency in WHOLE_UNIT_CURRENCIES:
            places, rule = 0, f"Shopee prices {update.currency} in whole units"
        price = update.price
        if not isinstance(price, Decimal) or not price.is_finite() or price <= 0:
            return f"the price must be a Decimal above zero, not {price}", price
        amount = price.quantize(Decimal(1).scaleb(-places))
        if amount != price:
            return f"{price} {update.currency} has too many decimals: {rule}", price
        return "", amount

    # --- fulfilment ------------------------------------------------------------------------------
    def push_fulfilment(self, shipment: Shipment) -> None:
        """Arrange shipment. With a tracking number from the seller's own carrier: `non_integrated`; without one:
        `dropoff` (Shopee assigns the tracking number). Shopee ships whole packages, not lines: partial line
        quantities cannot be reported and are refused."""
        if shipment.lines:
            raise PermanentError("shopee: ship_order arranges whole orders/packages; line quantities are not supported")
        if shipment.tracking_number:
            self.client.ship_order(shipment.external_order_id,
                                   non_integrated={"tracking_number": shipment.tracking_number})
        else:
            self.client.ship_order(shipment.external_order_id, dropoff={})

    # --- push mechanism (webhooks) -----------------------------------------------------------------
    def verify_webhook(self, headers: dict[str, str], body: bytes) -> bool:
        """Push Authorization: hex(HMAC-SHA256(partner_key, callback URL + "|" + raw body)) in the Authorization
        header. https://open.shopee.com/developer-guide/18 (Push Mechanism, Push Authorization);
        Order Status Push: https://open.shopee.com/push-mechanism/1"""
        url = self.connection.options.get("push_url")
        given = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        if not url or not given:
            return False
        expected = hmac.new(self.connection.credentials["partner_key"].encode(), url.encode() + b"|" + body,
                            hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, given.strip())

    def parse_webhook(self, headers: dict[str, str], body: bytes) -> list[ChannelOrder]:
        """An Order Status Update Push (code 3) names the order and its new status only; the order is read with
        get_order_detail, as Shopee advises. Other pushes carry no order. Call verify_webhook first."""
        try:
            push = json.loads(body)
        except ValueError:
            raise PermanentError("shopee: push body is not JSON") from None
        if not isinstance(push, dict) or push.get("code") != ORDER_STATUS_PUSH:
            return []
        if str(push.get("shop_id")) != str(self.connection.credentials["shop_id"]):
            raise PermanentError(f"shopee: push for shop {push.get('shop_id')}, not this connection's shop")
        data = push.get("data") or {}
        order_sn = str(data.get("ordersn") or data.get("order_sn") or "")
        if not order_sn:
            raise PermanentError("shopee: order status push without ordersn")
        orders, rejected = self._details([order_sn])
        if rejected:
            raise MappingError(f"{order_sn}: {rejected[0][1]}")
        return orders


def _seller_stock(entry: dict[str, Any]) -> int | None:
    """`stock_info_v2.seller_stock[].stock`, summed over locations; None when the entry has none."""
    rows = (entry.get("stock_info_v2") or {}).get("seller_stock")
    if not isinstance(rows, list) or not rows:
        return None
    stocks = [r.get("stock") for r in rows if isinstance(r, dict)]
    if not stocks or not all(isinstance(v, int) and not isinstance(v, bool) for v in stocks):
        return None
    return sum(stocks)


def _model_results(response: dict, rows: list[tuple[str, int]]) -> dict[str, PushResult]:
    """Per-SKU results from the success_list / failure_list that update_stock and update_price both answer."""
    failures = {int(f.get("model_id") or 0): str(f.get("failed_reason") or "failed")
                for f in response.get("failure_list") or [] if isinstance(f, dict)}
    succeeded = {int(s.get("model_id") or 0) for s in response.get("success_list") or [] if isinstance(s, dict)}
    results: dict[str, PushResult] = {}
    for sku, model_id in rows:
        if model_id in failures:
            results[sku] = PushResult(sku, False, failures[model_id])
        elif model_id in succeeded:
            results[sku] = PushResult(sku, True)
        else:
            results[sku] = PushResult(sku, False, "not in Shopee's success_list")
    return results
