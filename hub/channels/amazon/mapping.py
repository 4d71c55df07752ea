"""Amazon SP-API Orders v0 bodies -> canonical orders. Pure: no I/O.

An Amazon order arrives in two calls: `getOrders` pages (`{payload: {Orders, NextToken, LastUpdatedBefore}}`)
and one `getOrderItems` body per order (`{payload: {AmazonOrderId, OrderItems, NextToken}}`, itself paged).
`normalize` joins them by AmazonOrderId, in any order. It also takes the connector's envelope of one order,
`{"order": <an Order of getOrders>, "items": [<its OrderItems>]}`: what `ChannelOrder.raw` and a rejected order's
raw payload hold, so that a stored payload maps again on its own (a quarantine replay). Without "items"
(getOrderItems refused) the order's lines are not known, and it is not mapped.

Facts used (Orders API v0 reference, https://developer-docs.amazon.com/sp-api/docs/orders-api-v0-reference,
model https://github.com/amzn/selling-partner-api-models/blob/main/models/orders-api-model/ordersV0.json):

- Money is `{CurrencyCode, Amount: "string"}`; `ItemPrice` is the unit price times QuantityOrdered, so the
  line total is ItemPrice exactly and the unit price is derived (rounded to ISO minor units), never the reverse.
- `OrderTotal` is absent for Pending and Canceled orders -> total None; getOrderItems gives no prices, taxes or
  promotions while the order is Pending -> line prices None.
- Prices include VAT everywhere except the US and Canada, where `ItemTax` is added on top (the documented
  sandbox example: ItemPrice 10.00 + ItemTax 1.01 = OrderTotal 11.01 USD).
- `ShippingAddress` only for Unshipped, PartiallyShipped, Shipped and InvoiceUnconfirmed; names, streets and
  phone need a Restricted Data Token, so often only City/StateOrRegion/PostalCode/CountryCode are present.
- The Orders API has no refunds (they live in the Finances API), so the refund level is always none here.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from hub.channels.port import ChannelAddress, ChannelLine, ChannelOrder
from hub.channels.rules import Level, canonical_status, total_mismatch
from hub.channels.values import MappingError, amount, country, iso_time
from hub.money import CurrencyError, minor_units

# Marketplace id -> (country, currency); https://developer-docs.amazon.com/sp-api/docs/marketplace-ids
MARKETPLACES: dict[str, tuple[str, str]] = {
    "ATVPDKIKX0DER": ("US", "USD"),
    "A2EUQ1WTGCTBG2": ("CA", "CAD"),
    "A1AM78C64UM0Y8": ("MX", "MXN"),
    "A2Q3Y263D00KWC": ("BR", "BRL"),
    "A1PA6795UKMFR9": ("DE", "EUR"),
    "A13V1IB3VIYZZH": ("FR", "EUR"),
    "APJ6JRA9NG5V4": ("IT", "EUR"),
    "A1RKKUPIHCS9HS": ("ES", "EUR"),
    "A1805IZSGTT6HS": ("NL", "EUR"),
    "AMEN7PMS3EDWL": ("BE", "EUR"),
    "A1F83G8C2ARO7P": ("GB", "GBP"),
    "A2NODRKZP88ZB9": ("SE", "SEK"),
    "A1C3SOZRARQ6R3": ("PL", "PLN"),
    "A33AVAJ2PDY3EV": ("TR", "TRY"),
    "A2VIGQ35RCS4UG": ("AE", "AED"),
    "A17E79C6D8DWNP": ("SA", "SAR"),
    "ARBP9OOSHTCHU": ("EG", "EGP"),
    "A21TJRUUN4KGV": ("IN", "INR"),
    "A1VC38T7YXB528": ("JP", "JPY"),
    "A39IBJ37TRP1C6": ("AU", "AUD"),
    "A19VAU5U5O7RUS": ("SG", "SGD"),
}
# Where item prices exclude sales tax and ItemTax is added on top.
TAX_EXCLUSIVE_MARKETPLACES = frozenset({"ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"})

ORDER_STATUSES = frozenset({"Pending", "Unshipped", "PartiallyShipped", "Shipped", "Canceled", "Unfulfillable",
                            "InvoiceUnconfirmed", "PendingAvailability"})


def normalize(bodies: list[Any]) -> list[ChannelOrder]:
    """getOrders / getOrder / getOrderItems response bodies (any order, any paging) -> canonical orders.

    An order seen on two pages keeps its latest version; item pages of one order are joined (by OrderItemId);
    items of an order whose getOrders body is not among `bodies` are ignored (nothing to map them onto).
    Raises MappingError, naming the order, for the first order that cannot be mapped.
    """
    orders: dict[str, dict[str, Any]] = {}
    items: dict[str, dict[str, dict[str, Any]]] = {}
    expanded = [(index, part) for index, body in enumerate(bodies) for part in _unwrap(body, index)]
    for index, body in expanded:
        payload = body.get("payload") if isinstance(body, dict) else None
        if not isinstance(payload, dict):
            raise MappingError(f"body {index}: not an SP-API response with a payload")
        if "Orders" in payload:
            found = payload["Orders"]
            if not isinstance(found, list):
                raise MappingError(f"body {index}: payload.Orders is not a list")
        elif "OrderItems" in payload:
            order_id = payload.get("AmazonOrderId")
            if not isinstance(order_id, str) or not isinstance(payload["OrderItems"], list):
                raise MappingError(f"body {index}: getOrderItems payload without AmazonOrderId or OrderItems")
            bucket = items.setdefault(order_id, {})
            for number, item in enumerate(payload["OrderItems"]):
                key = item.get("OrderItemId") if isinstance(item, dict) else None
                bucket[str(key) if key else f"#{index}.{number}"] = item
            continue
        elif "AmazonOrderId" in payload:
            found = [payload]  # getOrder
        else:
            raise MappingError(f"body {index}: neither getOrders nor getOrderItems")
        for order in found:
            order_id = order.get("AmazonOrderId") if isinstance(order, dict) else None
            if not isinstance(order_id, str) or not order_id:
                raise MappingError(f"body {index}: an order without AmazonOrderId")
            known = orders.get(order_id)
            if known is None or str(order.get("LastUpdateDate", "")) >= str(known.get("LastUpdateDate", "")):
                orders[order_id] = order
    result = []
    for order_id, order in orders.items():
        try:
            result.append(map_order(order, list(items.get(order_id, {}).values())))
        except MappingError as exc:
            raise MappingError(f"order {order_id}: {exc}") from None
    return result


def _unwrap(body: Any, index: int) -> list[Any]:
    """The connector's {"order", "items"} envelope as the getOrders and getOrderItems bodies it stands for; any
    other body as it is."""
    if not isinstance(body, dict) or "order" not in body or "payload" in body:
        return [body]
    order = body["order"]
    order_id = order.get("AmazonOrderId") if isinstance(order, dict) else None
    if not isinstance(order_id, str) or not order_id:
        raise MappingError(f"body {index}: an order without AmazonOrderId")
    found = body.get("items")
    if not isinstance(found, list):
        raise MappingError(f"order {order_id}: its getOrderItems answer is not in the payload (the order's lines "
                           "are not known)")
    return [{"payload": {"Orders": [order]}}, {"payload": {"AmazonOrderId": order_id, "OrderItems": found}}]


def map_order(order: dict[str, Any], items: list[dict[str, Any]]) -> ChannelOrder:
    """One Amazon Order plus all of its OrderItems -> a canonical order, or MappingError."""
    order_id = order.get("AmazonOrderId")
    if not isinstance(order_id, str) or not order_id:
        raise MappingError("AmazonOrderId missing")
    amazon_status = order.get("OrderStatus")
    if amazon_status not in ORDER_STATUSES:
        raise MappingError(f"unknown OrderStatus {amazon_status!r}")
    marketplace = order.get("MarketplaceId")
    marketplace_country, marketplace_currency = MARKETPLACES.get(marketplace, (None, None))
    currency = _currency(order, items, marketplace_currency)

    flags: list[str] = []
    lines: list[ChannelLine] = []
    parts: dict[str, Decimal] = dict.fromkeys(("subtotal", "shipping", "tax", "discount"), Decimal(0))
    priced = bool(items)
    ordered = shipped = 0
    for item in items:
        line, line_parts = _line(item, currency)
        quantity_shipped = _count(item.get("QuantityShipped", 0), "QuantityShipped")
        ordered += line.quantity if line else 0
        shipped += min(quantity_shipped, line.quantity) if line else 0
        if line is None:
            flags.append(f"line {item.get('OrderItemId', '?')} ({item.get('SellerSKU', '?')}) has QuantityOrdered 0 "
                         "(cancelled); skipped")
            continue
        lines.append(line)
        if line_parts is None:
            priced = False
        else:
            for key, value in line_parts.items():
                parts[key] += value

    total = _money(order.get("OrderTotal"), "OrderTotal", currency)
    subtotal = parts["subtotal"] if priced and lines else None
    shipping, tax, discount = ((parts["shipping"], parts["tax"], parts["discount"]) if subtotal is not None
                               else (None, None, None))
    include_tax = marketplace not in TAX_EXCLUSIVE_MARKETPLACES
    mismatch = total_mismatch(currency, total, subtotal=subtotal, discount=discount, shipping=shipping, tax=tax,
                              tax_included=include_tax)
    if mismatch:
        flags.append(mismatch)

    cancelled = amazon_status == "Canceled"
    if amazon_status == "Unfulfillable":
        cancelled = True
        flags.append("Amazon reports the order Unfulfillable (multi-channel fulfilment); imported as cancelled")
    fulfilled = _fulfilled(amazon_status, ordered, shipped)
    delivered = order.get("EasyShipShipmentStatus") == "Delivered"
    status = canonical_status(cancelled=cancelled, refunded=Level.NONE, fulfilled=fulfilled, delivered=delivered,
                              paid=amazon_status not in ("Pending", "PendingAvailability"))

    address = _address(order.get("ShippingAddress"))
    buyer = order.get("BuyerInfo") if isinstance(order.get("BuyerInfo"), dict) else {}
    buyer_name = _text(buyer.get("BuyerName")) or (address.name if address else "")
    ship_to = (address.country if address else None) or country(marketplace_country)

    return ChannelOrder(
        external_id=order_id,
        status=status,
        currency=currency,
        total=total,
        subtotal=subtotal,
        shipping=shipping,
        tax=tax,
        discount=discount,
        placed_at=iso_time(order.get("PurchaseDate"), "PurchaseDate"),
        updated_at=iso_time(order.get("LastUpdateDate"), "LastUpdateDate"),
        lines=tuple(lines),
        ship_to_country=ship_to,
        buyer_name=buyer_name,
        buyer_email=_text(buyer.get("BuyerEmail")) or None,
        buyer_phone=(address.phone if address and address.phone else None),
        shipping_address=address,
        billing_address=None,  # the Orders API has no billing address
        prices_include_tax=include_tax,
        flags=tuple(flags),
        raw={"order": order, "items": items},
    )


def _currency(order: dict[str, Any], items: list[dict[str, Any]], fallback: str | None) -> str:
    codes = set()
    for money in [order.get("OrderTotal")] + [item.get(key) for item in items if isinstance(item, dict)
                                              for key in ("ItemPrice", "ShippingPrice", "ItemTax")]:
        if isinstance(money, dict) and money.get("CurrencyCode"):
            codes.add(money["CurrencyCode"])
    if len(codes) > 1:
        raise MappingError(f"amounts in more than one currency: {', '.join(sorted(codes))}")
    code = codes.pop() if codes else fallback
    if code is None:
        raise MappingError("no currency: no amounts and an unknown MarketplaceId")
    try:
        minor_units(code)
    except CurrencyError as exc:
        raise MappingError(str(exc)) from None
    return code


def _money(value: object, field: str, currency: str) -> Decimal | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise MappingError(f"{field}: not a Money object: {value!r}")
    if value.get("CurrencyCode") not in (None, currency):
        raise MappingError(f"{field}: currency {value.get('CurrencyCode')} in an order in {currency}")
    return amount(value.get("Amount"), f"{field}.Amount")


def _count(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise MappingError(f"{field}: not a whole number: {value!r}")
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        raise MappingError(f"{field}: not a whole number: {value!r}") from None
    if not number.is_finite() or number != number.to_integral_value() or number < 0:
        raise MappingError(f"{field}: not a whole number: {value!r}")
    return int(number)


def _line(item: dict[str, Any], currency: str) -> tuple[ChannelLine | None, dict[str, Decimal] | None]:
    """The canonical line (None for a cancelled zero-quantity line) and its priced parts (None while unpriced)."""
    if not isinstance(item, dict):
        raise MappingError(f"an order item is not an object: {item!r}")
    item_id = str(item.get("OrderItemId") or "")
    quantity = _count(item.get("QuantityOrdered"), f"item {item_id}: QuantityOrdered")
    if quantity == 0:
        return None, None
    sku = _text(item.get("SellerSKU")) or _text(item.get("ASIN"))
    if not sku:
        raise MappingError(f"item {item_id}: neither SellerSKU nor ASIN")

    def money(key: str) -> Decimal | None:
        return _money(item.get(key), f"item {item_id}: {key}", currency)

    line_total = money("ItemPrice")
    tax = money("ItemTax")
    promotion = money("PromotionDiscount")
    promotion = Decimal(0) if promotion is None else promotion
    unit_price = None
    if line_total is not None:
        unit_price = (line_total / quantity).quantize(Decimal(1).scaleb(-minor_units(currency)), ROUND_HALF_EVEN)
    line = ChannelLine(sku=sku, title=_text(item.get("Title")), quantity=quantity, unit_price=unit_price,
                       line_total=line_total, tax=tax, discount=promotion, external_line_id=item_id)
    if line_total is None:
        return line, None
    parts = {
        "subtotal": line_total,
        "shipping": money("ShippingPrice") or Decimal(0),
        "tax": (tax or Decimal(0)) + (money("ShippingTax") or Decimal(0)),
        "discount": promotion + (money("ShippingDiscount") or Decimal(0)),
    }
    return line, parts


def _fulfilled(amazon_status: str, ordered: int, shipped: int) -> Level:
    if amazon_status in ("Shipped", "InvoiceUnconfirmed"):
        return Level.FULL
    if amazon_status == "PartiallyShipped":
        return Level.PARTIAL
    if ordered and shipped >= ordered:
        return Level.FULL
    return Level.PARTIAL if shipped else Level.NONE


def _address(value: object) -> ChannelAddress | None:
    if not isinstance(value, dict):
        return None
    extra = [_text(value.get("AddressLine2")), _text(value.get("AddressLine3"))]
    return ChannelAddress(
        name=_text(value.get("Name")),
        company=_text(value.get("CompanyName")),
        line1=_text(value.get("AddressLine1")),
        line2=", ".join(part for part in extra if part),
        city=_text(value.get("City")),
        region=_text(value.get("StateOrRegion")),
        postal_code=_text(value.get("PostalCode")),
        country=country(value.get("CountryCode")),
        phone=_text(value.get("Phone")),
    )


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""
