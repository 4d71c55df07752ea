"""Shopify orders, raw to canonical. Pure functions: no I/O, no clock.

Two shapes reach here and both are read:

- the GraphQL Admin API `Order` node (camelCase, `MoneyBag { shopMoney, presentmentMoney }`, enums in
  upper case), from `orders(...)` pages, https://shopify.dev/docs/api/admin-graphql/latest/objects/Order
- the REST `Order` resource that webhooks (orders/create, orders/updated, orders/cancelled) deliver
  (snake_case, money as decimal strings plus `*_set { shop_money, presentment_money }`, statuses in
  lower case), https://shopify.dev/docs/api/admin-rest/latest/resources/order

Amounts are taken in the presentment currency, the one the buyer saw and paid in (a shop in EUR selling
to Japan books the order in JPY); the shop-currency amount is the fallback when an order has no
presentment money. `taxes_included` says whether line prices and the subtotal already contain tax.

Status (cancellation > refund > fulfilment > payment, `hub.channels.rules.canonical_status`):
`cancelledAt`/`cancelled_at` set -> cancelled; financial status REFUNDED / PARTIALLY_REFUNDED ->
refunded / partially refunded; fulfilment status FULFILLED / PARTIALLY_FULFILLED (REST `fulfilled` /
`partial`) -> fulfilled / partially fulfilled; financial status PAID -> paid; anything else (PENDING,
AUTHORIZED, PARTIALLY_PAID, VOIDED, EXPIRED, none yet) -> pending.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from hub.channels.port import ChannelAddress, ChannelLine, ChannelOrder
from hub.channels.rules import Level, canonical_status, total_mismatch
from hub.channels.values import MappingError, country, iso_time, optional_amount, quantity
from hub.money import is_currency, minor_units
from hub.orders.status import OrderStatus

FINANCIAL_STATUSES = frozenset({
    "PENDING", "AUTHORIZED", "PARTIALLY_PAID", "PAID", "PARTIALLY_REFUNDED", "REFUNDED", "VOIDED", "EXPIRED",
})
FULFILLMENT_FULL = frozenset({"FULFILLED"})
FULFILLMENT_PARTIAL = frozenset({"PARTIALLY_FULFILLED", "PARTIAL"})


def numeric_id(value: object) -> str:
    """"gid://shopify/Order/450789469" or 450789469 -> "450789469" (both shapes join on it)."""
    if isinstance(value, bool) or value in (None, ""):
        return ""
    text = str(value)
    return text.rsplit("/", 1)[-1] if text.startswith("gid://") else text


def is_rest(raw: Mapping[str, Any]) -> bool:
    return "line_items" in raw or "financial_status" in raw or "updated_at" in raw


# --- money ---------------------------------------------------------------------------------------

def _bag_amount(bag: object, currency: str, field: str) -> Decimal | None:
    """An amount from a GraphQL MoneyBag or a REST *_set, in `currency` (presentment, else shop money)."""
    if not isinstance(bag, Mapping):
        return None
    for key in ("presentmentMoney", "presentment_money", "shopMoney", "shop_money"):
        money = bag.get(key)
        if not isinstance(money, Mapping):
            continue
        code = money.get("currencyCode") or money.get("currency_code")
        if code != currency:
            continue
        return _scaled(optional_amount(money.get("amount"), field), currency)
    raise MappingError(f"{field}: no amount in {currency}")


def _rest_amount(raw: Mapping[str, Any], name: str, currency: str, shop_currency: str) -> Decimal | None:
    """REST money: `<name>_set` when sent, else the plain string, which is in the shop's currency."""
    if isinstance(raw.get(f"{name}_set"), Mapping):
        return _bag_amount(raw[f"{name}_set"], currency, name)
    if currency != shop_currency:
        return None
    return _scaled(optional_amount(raw.get(name), name), currency)


def _scaled(value: Decimal | None, currency: str) -> Decimal | None:
    """"64.7" -> 64.70 and "7150.0" JPY -> 7150: written to the currency's minor units when that loses
    nothing; an amount with more decimals (an unrounded unit price) is kept exactly as sent."""
    if value is None:
        return None
    scaled = value.quantize(Decimal(1).scaleb(-minor_units(currency)))
    return scaled if scaled == value else value


def _sum(values: Iterable[Decimal | None]) -> Decimal | None:
    found = [v for v in values if v is not None]
    return sum(found, Decimal(0)) if found else None


# --- addresses -----------------------------------------------------------------------------------

def _address(raw: object) -> ChannelAddress | None:
    if not isinstance(raw, Mapping):
        return None
    name = raw.get("name") or " ".join(
        p for p in (raw.get("firstName") or raw.get("first_name"), raw.get("lastName") or raw.get("last_name")) if p)
    return ChannelAddress(
        name=name or "",
        company=raw.get("company") or "",
        line1=raw.get("address1") or "",
        line2=raw.get("address2") or "",
        city=raw.get("city") or "",
        region=raw.get("provinceCode") or raw.get("province_code") or raw.get("province") or "",
        postal_code=raw.get("zip") or "",
        country=country(raw.get("countryCodeV2") or raw.get("countryCode") or raw.get("country_code")),
        phone=raw.get("phone") or "",
    )


# --- lines ---------------------------------------------------------------------------------------

def _graphql_line(node: Mapping[str, Any], currency: str) -> ChannelLine:
    line_id = numeric_id(node.get("id"))
    where = f"line item {line_id or '?'}"
    variant = node.get("variant") if isinstance(node.get("variant"), Mapping) else {}
    taxes = [_bag_amount(t.get("priceSet"), currency, f"{where} tax") for t in node.get("taxLines") or []]
    return ChannelLine(
        sku=node.get("sku") or variant.get("sku") or "",
        title=node.get("title") or node.get("name") or "",
        quantity=quantity(node.get("quantity"), f"{where} quantity"),
        unit_price=_bag_amount(node.get("originalUnitPriceSet"), currency, f"{where} unit price"),
        line_total=_bag_amount(node.get("originalTotalSet"), currency, f"{where} total"),
        tax=_sum(taxes),
        discount=_bag_amount(node.get("totalDiscountSet"), currency, f"{where} discount") or Decimal(0),
        external_line_id=line_id,
    )


def _rest_line(item: Mapping[str, Any], currency: str, shop_currency: str) -> ChannelLine:
    line_id = numeric_id(item.get("id"))
    where = f"line item {line_id or '?'}"
    taxes = [_rest_amount(t, "price", currency, shop_currency) for t in item.get("tax_lines") or []]
    return ChannelLine(
        sku=item.get("sku") or "",
        title=item.get("title") or item.get("name") or "",
        quantity=quantity(item.get("quantity"), f"{where} quantity"),
        unit_price=_rest_amount(item, "price", currency, shop_currency),
        line_total=None,  # REST gives no line total; a unit price is never multiplied back
        tax=_sum(taxes),
        discount=_rest_amount(item, "total_discount", currency, shop_currency) or Decimal(0),
        external_line_id=line_id,
    )


# --- orders --------------------------------------------------------------------------------------

def _status(*, cancelled: bool, financial: str, fulfillment: str, where: str) -> OrderStatus:
    if financial and financial not in FINANCIAL_STATUSES:
        raise MappingError(f"{where}: unknown financial status {financial!r}")
    refunded = {"REFUNDED": Level.FULL, "PARTIALLY_REFUNDED": Level.PARTIAL}.get(financial, Level.NONE)
    fulfilled = (Level.FULL if fulfillment in FULFILLMENT_FULL
                 else Level.PARTIAL if fulfillment in FULFILLMENT_PARTIAL else Level.NONE)
    return canonical_status(cancelled=cancelled, refunded=refunded, fulfilled=fulfilled, delivered=False,
                            paid=financial == "PAID")


def _currency(code: object, where: str) -> str:
    if not is_currency(code):
        raise MappingError(f"{where}: not a currency code: {code!r}")
    return str(code)


def _guarded(mapper: Callable[[Any], ChannelOrder]) -> Callable[[Any], ChannelOrder]:
    """A payload of an unexpected shape (a list where an object belongs, ...) is unmappable, not a crash."""
    @functools.wraps(mapper)
    def guarded(raw: Any) -> ChannelOrder:
        try:
            return mapper(raw)
        except (AttributeError, TypeError, KeyError) as exc:
            raise MappingError(f"order of an unexpected shape: {type(exc).__name__}: {exc}") from None
    return guarded


@_guarded
def map_graphql_order(node: Mapping[str, Any]) -> ChannelOrder:
    """A GraphQL Admin `Order` node (https://shopify.dev/docs/api/admin-graphql/latest/objects/Order)."""
    if not isinstance(node, Mapping):
        raise MappingError(f"an order node must be an object, got {type(node).__name__}")
    external_id = numeric_id(node.get("legacyResourceId") or node.get("id"))
    if not external_id:
        raise MappingError("order without an id")
    where = f"order {external_id}"
    currency = _currency(node.get("presentmentCurrencyCode") or node.get("currencyCode"), where)
    connection = node.get("lineItems")
    if not isinstance(connection, Mapping):
        raise MappingError(f"{where}: no lineItems")
    nodes = [e.get("node") if "node" in e else e for e in connection.get("edges") or connection.get("nodes") or []]
    lines = tuple(_graphql_line(n, currency) for n in nodes)
    if not lines:
        raise MappingError(f"{where}: no line items")
    flags = []
    if (connection.get("pageInfo") or {}).get("hasNextPage"):
        flags.append("more line items than one page held; only the first page was imported")
    shipping_address = _address(node.get("shippingAddress"))
    billing_address = _address(node.get("billingAddress"))
    customer = node.get("customer") if isinstance(node.get("customer"), Mapping) else {}
    financial = (node.get("displayFinancialStatus") or "").upper()
    fulfillment = (node.get("displayFulfillmentStatus") or "").upper()
    return _order(
        external_id=external_id, where=where, currency=currency, lines=lines, flags=flags,
        status=_status(cancelled=bool(node.get("cancelledAt")), financial=financial, fulfillment=fulfillment,
                       where=where),
        total=_bag_amount(node.get("totalPriceSet"), currency, "totalPriceSet"),
        subtotal=_bag_amount(node.get("subtotalPriceSet"), currency, "subtotalPriceSet"),
        shipping=_bag_amount(node.get("totalShippingPriceSet"), currency, "totalShippingPriceSet"),
        tax=_bag_amount(node.get("totalTaxSet"), currency, "totalTaxSet"),
        discount=_bag_amount(node.get("totalDiscountsSet"), currency, "totalDiscountsSet"),
        placed_at=node.get("processedAt") or node.get("createdAt"), updated_at=node.get("updatedAt"),
        shipping_address=shipping_address, billing_address=billing_address,
        buyer_name=customer.get("displayName") or "",
        buyer_email=node.get("email") or customer.get("email"),
        buyer_phone=node.get("phone") or customer.get("phone"),
        taxes_included=bool(node.get("taxesIncluded")), raw=node,
    )


@_guarded
def map_rest_order(raw: Mapping[str, Any]) -> ChannelOrder:
    """A REST `Order`, as webhooks deliver it (https://shopify.dev/docs/api/admin-rest/latest/resources/order)."""
    if not isinstance(raw, Mapping):
        raise MappingError(f"an order must be an object, got {type(raw).__name__}")
    external_id = numeric_id(raw.get("id"))
    if not external_id:
        raise MappingError("order without an id")
    where = f"order {external_id}"
    shop_currency = _currency(raw.get("currency"), where)
    currency = _currency(raw.get("presentment_currency") or shop_currency, where)
    items = raw.get("line_items")
    if not isinstance(items, list) or not items:
        raise MappingError(f"{where}: no line items")
    lines = tuple(_rest_line(i, currency, shop_currency) for i in items)
    customer = raw.get("customer") if isinstance(raw.get("customer"), Mapping) else {}
    customer_name = " ".join(p for p in (customer.get("first_name"), customer.get("last_name")) if p)
    return _order(
        external_id=external_id, where=where, currency=currency, lines=lines, flags=[],
        status=_status(cancelled=bool(raw.get("cancelled_at")), financial=(raw.get("financial_status") or "").upper(),
                       fulfillment=(raw.get("fulfillment_status") or "").upper(), where=where),
        total=_rest_amount(raw, "total_price", currency, shop_currency),
        subtotal=_rest_amount(raw, "subtotal_price", currency, shop_currency),
        shipping=_rest_shipping(raw, currency, shop_currency),
        tax=_rest_amount(raw, "total_tax", currency, shop_currency),
        discount=_rest_amount(raw, "total_discounts", currency, shop_currency),
        placed_at=raw.get("processed_at") or raw.get("created_at"), updated_at=raw.get("updated_at"),
        shipping_address=_address(raw.get("shipping_address")), billing_address=_address(raw.get("billing_address")),
        buyer_name=customer_name, buyer_email=raw.get("email") or raw.get("contact_email") or customer.get("email"),
        buyer_phone=raw.get("phone") or customer.get("phone"),
        taxes_included=bool(raw.get("taxes_included")), raw=raw,
    )


def _rest_shipping(raw: Mapping[str, Any], currency: str, shop_currency: str) -> Decimal | None:
    if isinstance(raw.get("total_shipping_price_set"), Mapping):
        return _bag_amount(raw["total_shipping_price_set"], currency, "total_shipping_price_set")
    return _sum(_rest_amount(s, "price", currency, shop_currency) for s in raw.get("shipping_lines") or [])


def _order(*, external_id: str, where: str, currency: str, lines: tuple[ChannelLine, ...], flags: list[str],
           status: OrderStatus, total: Decimal | None, subtotal: Decimal | None, shipping: Decimal | None,
           tax: Decimal | None, discount: Decimal | None, placed_at: object, updated_at: object,
           shipping_address: ChannelAddress | None, billing_address: ChannelAddress | None,
           buyer_name: str, buyer_email: str | None, buyer_phone: str | None, taxes_included: bool,
           raw: Mapping[str, Any]) -> ChannelOrder:
    # Shopify's subtotal is already net of discounts, so the check adds no discount to it.
    mismatch = total_mismatch(currency, total, subtotal=subtotal, discount=None, shipping=shipping, tax=tax,
                              tax_included=taxes_included)
    if mismatch:
        flags.append(mismatch)
    ship_to = ((shipping_address and shipping_address.country) or (billing_address and billing_address.country)
               or None)
    return ChannelOrder(
        external_id=external_id, status=status, currency=currency,
        total=total, subtotal=subtotal, shipping=shipping, tax=tax, discount=discount,
        placed_at=iso_time(placed_at, f"{where} created at"), updated_at=iso_time(updated_at, f"{where} updated at"),
        lines=lines, ship_to_country=ship_to,
        buyer_name=(buyer_name or (billing_address and billing_address.name)
                    or (shipping_address and shipping_address.name) or ""),
        buyer_email=buyer_email or None, buyer_phone=buyer_phone or None,
        shipping_address=shipping_address, billing_address=billing_address,
        prices_include_tax=taxes_included, flags=tuple(flags), raw=dict(raw),
    )


def map_order(raw: Mapping[str, Any]) -> ChannelOrder:
    """Either shape, told apart by its keys."""
    if not isinstance(raw, Mapping):
        raise MappingError(f"an order must be an object, got {type(raw).__name__}")
    return map_rest_order(raw) if is_rest(raw) else map_graphql_order(raw)


def raw_orders(body: object) -> list[Mapping[str, Any]]:
    """The orders in one body: a GraphQL `orders` page, an `order(id:)` answer, a REST list or a webhook."""
    if isinstance(body, list):
        return [o for b in body for o in raw_orders(b)]
    if not isinstance(body, Mapping):
        raise MappingError(f"not a Shopify body: {type(body).__name__}")
    if "errors" in body and not body.get("data"):
        raise MappingError(f"a GraphQL error answer, not orders: {str(body['errors'])[:200]}")
    if "data" in body:
        data = body.get("data") or {}
        if isinstance(data.get("orders"), Mapping):
            connection = data["orders"]
            edges = connection.get("edges") or connection.get("nodes") or []
            return [e.get("node") if "node" in e else e for e in edges]
        if isinstance(data.get("order"), Mapping):
            return [data["order"]]
        return []
    if isinstance(body.get("orders"), list):
        return list(body["orders"])
    if isinstance(body.get("order"), Mapping):
        return [body["order"]]
    return [body]


def merge_line_pages(node: Mapping[str, Any], more: list[Any]) -> dict[str, Any]:
    """The order node with the line items of later `order(id) { lineItems(after:) }` bodies appended."""
    merged = dict(node)
    connection = dict(merged.get("lineItems") or {})
    edges = list(connection.get("edges") or [])
    seen = {numeric_id((e.get("node") or {}).get("id")) for e in edges}
    for body in more:
        page = (((body.get("data") or {}).get("order") or {}).get("lineItems")) or {}
        for edge in page.get("edges") or []:
            line_id = numeric_id((edge.get("node") or {}).get("id"))
            if line_id not in seen:
                seen.add(line_id)
                edges.append(edge)
        connection["pageInfo"] = page.get("pageInfo") or {"hasNextPage": False}
    connection["edges"] = edges
    merged["lineItems"] = connection
    return merged


def _is_line_page(body: object) -> bool:
    """An `order(id) { lineItems }` answer: the rest of an order's lines, not an order of its own."""
    if not isinstance(body, Mapping) or not isinstance(body.get("data"), Mapping):
        return False
    order = body["data"].get("order")
    return isinstance(order, Mapping) and "lineItems" in order and "updatedAt" not in order


def normalize(bodies: list) -> list[ChannelOrder]:
    """Raw bodies in any order -> canonical orders, one per id (the latest `updated_at` wins). Line-item
    pages fetched by a second call (`order(id) { lineItems(after:) }`) are joined to their order by id."""
    more: dict[str, list[Any]] = {}
    for body in bodies:
        if _is_line_page(body):
            more.setdefault(numeric_id(body["data"]["order"].get("id")), []).append(body)
    latest: dict[str, ChannelOrder] = {}
    for body in bodies:
        if _is_line_page(body):
            continue
        for raw in raw_orders(body):
            key = numeric_id(raw.get("id")) if isinstance(raw, Mapping) else ""
            if key in more and not is_rest(raw):
                raw = merge_line_pages(raw, more[key])
            order = map_order(raw)
            known = latest.get(order.external_id)
            if known is None or order.updated_at >= known.updated_at:
                latest[order.external_id] = order
    return sorted(latest.values(), key=lambda o: (o.updated_at, o.external_id))
