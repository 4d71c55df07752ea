"""eBay Fulfillment API orders -> canonical orders. Pure: no I/O, no clock.

Source shapes (Order type): https://developer.ebay.com/api-docs/sell/fulfillment/types/sel:Order
and getOrders: https://developer.ebay.com/api-docs/sell/fulfillment/resources/order/methods/getOrders

- Money is `Amount {value: "decimal string", currency}`; every amount of one order must share a currency.
- `pricingSummary {priceSubtotal, priceDiscount (negative), deliveryCost, deliveryDiscount (negative), tax,
  total}`. Line `lineItemCost` is the line total before discounts (unit price x quantity); eBay gives no
  unit price, so it is divided back out exactly (never multiplied up from a rounded figure).
- Tax is added on top of prices (`prices_include_tax` False): `pricingSummary.tax` when given, else the sum
  of the lines' taxes. eBay-collected ("Collect and Remit") tax is included in `pricingSummary.total` and
  `lineItems[].total` (https://developer.ebay.com/api-docs/sell/fulfillment/types/sel:EbayCollectAndRemitTax);
  it appears both in `ebayCollectAndRemitTaxes` and, with the same amount, in `taxes`, so it is counted once.
  A total that does not add up is flagged, never rejected: the marketplace's total is kept.
- Status precedence (hub.channels.rules): `cancelStatus.cancelState` CANCELED > `orderPaymentStatus`
  FULLY_/PARTIALLY_REFUNDED > `orderFulfillmentStatus` FULFILLED / IN_PROGRESS > payment PAID.
- `sku` may be absent (listings made outside the Inventory API): the line falls back to the legacy item
  id (plus variation id) or the line item id, and the order carries a flag saying so.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, localcontext
from typing import Any

from hub.channels import values
from hub.channels.port import ChannelAddress, ChannelLine, ChannelOrder
from hub.channels.rules import Level, canonical_status, total_mismatch
from hub.channels.values import MappingError
from hub.money import is_currency

PAYMENT_STATUSES = frozenset({"PENDING", "PAID", "FAILED", "PARTIALLY_REFUNDED", "FULLY_REFUNDED"})
FULFILMENT_LEVELS = {"NOT_STARTED": Level.NONE, "IN_PROGRESS": Level.PARTIAL, "FULFILLED": Level.FULL}
REFUND_LEVELS = {"PARTIALLY_REFUNDED": Level.PARTIAL, "FULLY_REFUNDED": Level.FULL}
PAID_STATUSES = frozenset({"PAID", "PARTIALLY_REFUNDED", "FULLY_REFUNDED"})


class _Money:
    """Reads `Amount` objects of one order, holding them all to one currency."""

    def __init__(self, currency: str | None) -> None:
        self.currency = currency

    def optional(self, node: object, field: str) -> Decimal | None:
        if node is None:
            return None
        if not isinstance(node, dict):
            raise MappingError(f"{field}: expected an Amount object, got {type(node).__name__}")
        if node.get("value") in (None, ""):
            return None
        currency = node.get("currency")
        if not isinstance(currency, str) or not is_currency(currency):
            raise MappingError(f"{field}: unknown currency {currency!r}")
        if self.currency is None:
            self.currency = currency
        elif currency != self.currency:
            raise MappingError(f"{field}: currency {currency} differs from the order's {self.currency}")
        return values.amount(node["value"], field)


def _dig(node: object, *path: str) -> Any:
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _order_currency(raw: dict[str, Any]) -> str | None:
    summary = raw.get("pricingSummary") or {}
    for key in ("total", "priceSubtotal"):
        currency = _dig(summary, key, "currency")
        if currency:
            return currency
    for line in raw.get("lineItems") or []:
        for key in ("lineItemCost", "total"):
            currency = _dig(line, key, "currency")
            if currency:
                return currency
    return None


def _address(node: object) -> ChannelAddress | None:
    """A `shipTo` or `buyerRegistrationAddress` (ExtendedContact) as a canonical address."""
    if not isinstance(node, dict):
        return None
    contact = node.get("contactAddress") or {}
    return ChannelAddress(
        name=_text(node.get("fullName")),
        company=_text(node.get("companyName")),
        line1=_text(contact.get("addressLine1")),
        line2=_text(contact.get("addressLine2")),
        city=_text(contact.get("city")),
        region=_text(contact.get("stateOrProvince")),
        postal_code=_text(contact.get("postalCode")),
        country=values.country(contact.get("countryCode")),
        phone=_text(_dig(node, "primaryPhone", "phoneNumber")),
    )


def _marketplace_country(raw: dict[str, Any]) -> str | None:
    """EBAY_US -> US, EBAY_MOTORS_US -> US, EBAY_GB -> GB: the site the item was bought on."""
    for line in raw.get("lineItems") or []:
        for key in ("purchaseMarketplaceId", "listingMarketplaceId"):
            marketplace = line.get(key) if isinstance(line, dict) else None
            if isinstance(marketplace, str) and marketplace.startswith("EBAY_"):
                code = values.country(marketplace.rsplit("_", 1)[-1])
                if code:
                    return code
    return None


def _line_sku(line: dict[str, Any]) -> tuple[str, str | None]:
    """The line's SKU, or a stand-in and a note saying which one was used."""
    sku = _text(line.get("sku"))
    if sku:
        return sku, None
    item, variation, line_id = (_text(line.get(k)) for k in ("legacyItemId", "legacyVariationId", "lineItemId"))
    if item:
        stand_in = f"ebay-item:{item}" + (f":{variation}" if variation else "")
        return stand_in, f"line {line_id or '?'} has no SKU; using legacy item id {stand_in}"
    if line_id:
        return f"ebay-line:{line_id}", f"line {line_id} has no SKU or item id; using the line item id"
    raise MappingError("a line item has no sku, legacyItemId or lineItemId")


def _unit_price(line_total: Decimal, quantity: int) -> Decimal | None:
    """lineItemCost / quantity when it divides exactly (eBay computes the cost as unit x quantity)."""
    with localcontext() as ctx:
        ctx.prec = 60
        unit = line_total / quantity
        exact = unit * quantity == line_total
    return unit if exact else None


def _line(raw_line: object, index: int, money: _Money, flags: list[str]) -> tuple[ChannelLine, Decimal]:
    if not isinstance(raw_line, dict):
        raise MappingError(f"lineItems[{index}]: not an object")
    where = f"lineItems[{index}]"
    sku, note = _line_sku(raw_line)
    if note:
        flags.append(note)
    qty = values.quantity(raw_line.get("quantity"), f"{where}.quantity")
    line_total = money.optional(raw_line.get("lineItemCost"), f"{where}.lineItemCost")
    unit = None
    if line_total is not None:
        unit = _unit_price(line_total, qty)
        if unit is None:
            flags.append(f"{where}: lineItemCost {line_total} is not a whole multiple of quantity {qty}; "
                         "unit price left out")
    # eBay lists collect-and-remit tax in `ebayCollectAndRemitTaxes` and, with the same amount, in `taxes`
    # (https://developer.ebay.com/api-docs/sell/fulfillment/types/sel:EbayCollectAndRemitTax): count it once.
    remit = [money.optional(t.get("amount"), f"{where}.ebayCollectAndRemitTaxes[{i}].amount")
             for i, t in enumerate(raw_line.get("ebayCollectAndRemitTaxes") or []) if isinstance(t, dict)]
    listed = [money.optional(t.get("amount"), f"{where}.taxes[{i}].amount")
              for i, t in enumerate(raw_line.get("taxes") or []) if isinstance(t, dict)]
    known_taxes = [t for t in (listed if any(t is not None for t in listed) else remit) if t is not None]
    line_tax = sum(known_taxes, Decimal(0))
    discounts = [money.optional(p.get("discountAmount"), f"{where}.appliedPromotions[{i}].discountAmount")
                 for i, p in enumerate(raw_line.get("appliedPromotions") or []) if isinstance(p, dict)]
    discount = sum((abs(d) for d in discounts if d is not None), Decimal(0))
    line = ChannelLine(
        sku=sku,
        title=_text(raw_line.get("title")),
        quantity=qty,
        unit_price=unit,
        line_total=line_total,
        tax=sum(known_taxes, Decimal(0)) if known_taxes else None,
        discount=discount,
        external_line_id=_text(raw_line.get("lineItemId")),
    )
    return line, line_tax


def map_order(raw: dict[str, Any]) -> ChannelOrder:
    """One eBay `Order` as a canonical order; MappingError with the reason when it cannot be."""
    if not isinstance(raw, dict):
        raise MappingError(f"an order must be an object, got {type(raw).__name__}")
    external_id = _text(raw.get("orderId"))
    if not external_id:
        raise MappingError("orderId is missing")

    payment = raw.get("orderPaymentStatus")
    if payment not in PAYMENT_STATUSES:
        raise MappingError(f"unknown orderPaymentStatus {payment!r}")
    fulfilment = raw.get("orderFulfillmentStatus")
    if fulfilment not in FULFILMENT_LEVELS:
        raise MappingError(f"unknown orderFulfillmentStatus {fulfilment!r}")
    cancel_state = _dig(raw, "cancelStatus", "cancelState") or "NONE_REQUESTED"

    flags: list[str] = []
    status = canonical_status(
        cancelled=cancel_state == "CANCELED",
        refunded=REFUND_LEVELS.get(payment, Level.NONE),
        fulfilled=FULFILMENT_LEVELS[fulfilment],
        delivered=False,  # the Fulfillment API has no delivery state
        paid=payment in PAID_STATUSES,
    )
    if payment == "FAILED":
        flags.append("eBay reports the payment as FAILED")
    if cancel_state not in ("CANCELED", "NONE_REQUESTED"):
        flags.append(f"cancellation requested (cancelState {cancel_state})")

    money = _Money(_order_currency(raw))
    raw_lines = raw.get("lineItems")
    if not isinstance(raw_lines, list) or not raw_lines:
        raise MappingError("the order has no lineItems")
    mapped = [_line(item, i, money, flags) for i, item in enumerate(raw_lines)]
    lines = tuple(line for line, _ in mapped)

    summary = raw.get("pricingSummary") or {}
    if not isinstance(summary, dict):
        raise MappingError("pricingSummary is not an object")
    total = money.optional(summary.get("total"), "pricingSummary.total")
    subtotal = money.optional(summary.get("priceSubtotal"), "pricingSummary.priceSubtotal")
    delivery = money.optional(summary.get("deliveryCost"), "pricingSummary.deliveryCost")
    price_discount = money.optional(summary.get("priceDiscount"), "pricingSummary.priceDiscount")
    delivery_discount = money.optional(summary.get("deliveryDiscount"), "pricingSummary.deliveryDiscount")
    summary_tax = money.optional(summary.get("tax"), "pricingSummary.tax")
    if money.currency is None:
        raise MappingError("the order carries no amount to take its currency from")

    discount = None
    if price_discount is not None or delivery_discount is not None:
        # eBay sends discounts as negative amounts; the hub keeps them positive.
        discount = abs(price_discount or Decimal(0)) + abs(delivery_discount or Decimal(0))
    elif total is not None:
        discount = Decimal(0)
    line_taxes = sum((t for _, t in mapped), Decimal(0))
    if summary_tax is not None:
        tax: Decimal | None = summary_tax
    elif any(line.tax is not None for line in lines):
        tax = line_taxes
    else:
        tax = Decimal(0) if total is not None else None
    shipping = delivery if delivery is not None else (Decimal(0) if total is not None else None)

    mismatch = total_mismatch(money.currency, total, subtotal=subtotal, discount=discount, shipping=shipping,
                              tax=tax, tax_included=False)
    if mismatch:
        flags.append(mismatch)

    buyer = raw.get("buyer") if isinstance(raw.get("buyer"), dict) else {}
    ship_to_contact, registration = _ship_to(raw), buyer.get("buyerRegistrationAddress")
    ship_to, billing = _address(ship_to_contact), _address(registration)
    country = ((ship_to.country if ship_to else None) or (billing.country if billing else None)
               or _marketplace_country(raw))
    contacts = [c for c in (ship_to_contact, registration) if isinstance(c, dict)]
    email = next((_text(c.get("email")) for c in reversed(contacts) if _text(c.get("email"))), None)
    phone = next((_text(_dig(c, "primaryPhone", "phoneNumber")) for c in contacts
                  if _text(_dig(c, "primaryPhone", "phoneNumber"))), None)
    name = ((billing.name if billing else "") or (ship_to.name if ship_to else "") or _text(buyer.get("username")))

    return ChannelOrder(
        external_id=external_id,
        status=status,
        currency=money.currency,
        total=total,
        subtotal=subtotal,
        shipping=shipping,
        tax=tax,
        discount=discount,
        placed_at=values.iso_time(raw.get("creationDate"), "creationDate"),
        updated_at=values.iso_time(raw.get("lastModifiedDate") or raw.get("creationDate"), "lastModifiedDate"),
        lines=lines,
        ship_to_country=country,
        buyer_name=name,
        buyer_email=email,
        buyer_phone=phone,
        shipping_address=ship_to,
        billing_address=billing,
        prices_include_tax=False,
        flags=tuple(flags),
        raw=raw,
    )


def _ship_to(raw: dict[str, Any]) -> dict[str, Any] | None:
    """The first fulfilment instruction's ship-to contact (eBay has one per order in practice)."""
    for instruction in raw.get("fulfillmentStartInstructions") or []:
        ship_to = _dig(instruction, "shippingStep", "shipTo")
        if isinstance(ship_to, dict):
            return ship_to
    return None


def orders_in(body: object) -> list[dict[str, Any]]:
    """The orders in one raw body: a getOrders page (`{orders: [...]}`) or a getOrder body (one Order)."""
    if isinstance(body, list):
        return [o for item in body for o in orders_in(item)]
    if not isinstance(body, dict):
        raise MappingError(f"not an eBay response body: {type(body).__name__}")
    if "orders" in body:
        return list(body.get("orders") or [])
    if "orderId" in body:
        return [body]
    if "errors" in body:
        raise MappingError(f"an error body, not orders: {body['errors']!r}")
    raise MappingError("a body with neither `orders` nor `orderId`")


def normalize(bodies: Iterable[object]) -> list[ChannelOrder]:
    """Raw getOrders pages and getOrder bodies, in any order, to canonical orders, one per order id.

    When an order appears more than once (on two pages, or in a page and a getOrder body) the version
    with the latest `lastModifiedDate` wins; on a tie the later body wins.
    """
    latest: dict[str, ChannelOrder] = {}
    for body in bodies:
        for raw in orders_in(body):
            order = map_order(raw)
            current = latest.get(order.external_id)
            if current is None or order.updated_at >= current.updated_at:
                latest[order.external_id] = order
    return sorted(latest.values(), key=lambda o: (o.updated_at, o.external_id))
