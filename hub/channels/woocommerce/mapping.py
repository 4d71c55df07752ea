"""WooCommerce REST API v3 orders -> canonical orders. Pure: no I/O, no clock.

Order properties: https://woocommerce.github.io/woocommerce-rest-api-docs/#order-properties

What WooCommerce sends and how it is read here:

- Money: order and line amounts (`total`, `subtotal`, `total_tax`, ...) are strings with `dp` decimals and
  are the authority. `line_items[].price` is a JSON *number*, WooCommerce's `total / quantity` as a PHP
  float (3.3333333333333335): it is only checked (a float reaching here is refused) and used when a line
  has no `total`; nothing is ever multiplied back from it.
- Taxes: the API amounts are always net; `total_tax` is added on top. When the shop entered prices with
  tax included (`prices_include_tax`), the canonical amounts are given gross (net + their tax) so that
  `prices_include_tax=True` holds for every amount of the order, and `tax` is the tax they include.
- Fees (`fee_lines`) have no canonical field: they are counted in the subtotal and flagged.
- Statuses: pending, processing, on-hold, completed, cancelled, refunded, failed, trash (plus the
  block checkout's checkout-draft); `refunds[]` carry negative totals, their sum against the order
  total tells a partial refund from a full one. Core WooCommerce has no partial fulfilment.
- Times: `date_*_gmt` are UTC without an offset (`date_*` are site-local and ignored).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from hub.channels.port import ChannelAddress, ChannelLine, ChannelOrder, ChannelReview
from hub.channels.rules import Level, canonical_status, total_mismatch
from hub.channels.values import MappingError, amount, country, iso_time, optional_amount, quantity
from hub.money import is_currency
from hub.orders.status import OrderStatus

DOCS = "https://woocommerce.github.io/woocommerce-rest-api-docs/#order-properties"

# WooCommerce status -> (cancelled, paid, fulfilled)
STATUSES: dict[str, tuple[bool, bool, bool]] = {
    "pending": (False, False, False),  # awaiting payment
    "checkout-draft": (False, False, False),  # block checkout not finished yet
    "on-hold": (False, False, False),  # awaiting payment confirmation (e.g. bank transfer)
    "failed": (False, False, False),  # payment failed or was declined; the buyer may still pay
    "processing": (False, True, False),  # paid, awaiting fulfilment
    "completed": (False, True, True),  # fulfilled
    "refunded": (False, True, False),  # fully refunded (the refund level decides)
    "cancelled": (True, False, False),
    "trash": (True, False, False),  # deleted to the bin in wp-admin
}


def _text(value: object) -> str:
    return html.unescape(value).strip() if isinstance(value, str) else ""


def _address(raw: object) -> ChannelAddress | None:
    if not isinstance(raw, dict):
        return None
    name = " ".join(p for p in (_text(raw.get("first_name")), _text(raw.get("last_name"))) if p)
    address = ChannelAddress(
        name=name, company=_text(raw.get("company")), line1=_text(raw.get("address_1")),
        line2=_text(raw.get("address_2")), city=_text(raw.get("city")), region=_text(raw.get("state")),
        postal_code=_text(raw.get("postcode")), country=country(raw.get("country")), phone=_text(raw.get("phone")),
    )
    return None if address == ChannelAddress() else address


def _gross(net: Decimal | None, tax: Decimal | None, include: bool) -> Decimal | None:
    if net is None or not include:
        return net
    return net + (tax or Decimal(0))


def _line(raw: object, index: int, include_tax: bool) -> tuple[ChannelLine, Decimal | None]:
    """A canonical line and its subtotal (before discounts) in the order's tax mode."""
    if not isinstance(raw, dict):
        raise MappingError(f"line_items[{index}]: not an object")
    where = f"line_items[{index}]"
    qty = quantity(raw.get("quantity"), f"{where}.quantity")
    price = optional_amount(raw.get("price"), f"{where}.price")  # checked, never multiplied
    total = optional_amount(raw.get("total"), f"{where}.total")
    total_tax = optional_amount(raw.get("total_tax"), f"{where}.total_tax")
    subtotal = optional_amount(raw.get("subtotal"), f"{where}.subtotal")
    subtotal_tax = optional_amount(raw.get("subtotal_tax"), f"{where}.subtotal_tax")
    line_total = _gross(total, total_tax, include_tax)
    line_subtotal = _gross(subtotal, subtotal_tax, include_tax)
    if line_subtotal is None:
        line_subtotal = line_total
    if line_subtotal is not None:
        unit_price: Decimal | None = line_subtotal / qty
    else:
        unit_price = price if not include_tax else None
    discount = line_subtotal - line_total if line_subtotal is not None and line_total is not None else Decimal(0)
    line = ChannelLine(
        sku=_text(raw.get("sku")), title=_text(raw.get("name")), quantity=qty, unit_price=unit_price,
        line_total=line_total, tax=total_tax, discount=discount, external_line_id=str(raw.get("id") or ""),
    )
    return line, line_subtotal


def _sum(values: Iterable[Decimal | None]) -> Decimal | None:
    result = Decimal(0)
    for value in values:
        if value is None:
            return None
        result += value
    return result


def map_order(raw: Any) -> ChannelOrder:
    """One order object as GET /wp-json/wc/v3/orders returns it (or a webhook delivers it)."""
    if not isinstance(raw, dict):
        raise MappingError(f"an order must be a JSON object, got {type(raw).__name__}")
    if raw.get("id") in (None, "", 0):
        raise MappingError("order without an id")
    external_id = str(raw["id"])
    status_name = raw.get("status")
    if status_name not in STATUSES:
        raise MappingError(f"order {external_id}: unknown status {status_name!r} (known: {', '.join(STATUSES)})")
    cancelled, paid, fulfilled = STATUSES[status_name]
    currency = raw.get("currency")
    if not is_currency(currency):
        raise MappingError(f"order {external_id}: not an ISO 4217 currency: {currency!r}")
    include_tax = raw.get("prices_include_tax") is True
    placed_at = iso_time(raw.get("date_created_gmt"), "date_created_gmt", naive_is_utc=True)
    modified = raw.get("date_modified_gmt")
    updated_at: datetime = (iso_time(modified, "date_modified_gmt", naive_is_utc=True) if modified else placed_at)
    flags: list[str] = []

    raw_lines = raw.get("line_items") or []
    if not isinstance(raw_lines, list):
        raise MappingError(f"order {external_id}: line_items is not a list")
    lines: list[ChannelLine] = []
    subtotals: list[Decimal | None] = []
    for index, raw_line in enumerate(raw_lines):
        line, line_subtotal = _line(raw_line, index, include_tax)
        lines.append(line)
        subtotals.append(line_subtotal)
        if not line.sku:
            flags.append(f"line {line.external_line_id or index} ({line.title}) has no SKU")

    fees: list[Decimal | None] = []
    for index, fee in enumerate(raw.get("fee_lines") or []):
        if not isinstance(fee, dict):
            raise MappingError(f"order {external_id}: fee_lines[{index}] is not an object")
        fee_total = _gross(optional_amount(fee.get("total"), f"fee_lines[{index}].total"),
                           optional_amount(fee.get("total_tax"), f"fee_lines[{index}].total_tax"), include_tax)
        fees.append(fee_total)
        flags.append(f"fee {_text(fee.get('name')) or index} of {fee_total} {currency} counted in the subtotal")

    total = optional_amount(raw.get("total"), "total")
    tax = optional_amount(raw.get("total_tax"), "total_tax")
    subtotal = _sum([*subtotals, *fees]) if lines else None
    shipping = _gross(optional_amount(raw.get("shipping_total"), "shipping_total"),
                      optional_amount(raw.get("shipping_tax"), "shipping_tax"), include_tax)
    discount = _gross(optional_amount(raw.get("discount_total"), "discount_total"),
                      optional_amount(raw.get("discount_tax"), "discount_tax"), include_tax)

    refunded_amount = Decimal(0)
    for index, refund in enumerate(raw.get("refunds") or []):
        if not isinstance(refund, dict):
            raise MappingError(f"order {external_id}: refunds[{index}] is not an object")
        refunded_amount += abs(amount(refund.get("total"), f"refunds[{index}].total"))
    if status_name == "refunded" or (total is not None and total > 0 and refunded_amount >= total):
        refunded = Level.FULL
    elif refunded_amount > 0:
        refunded = Level.PARTIAL
        flags.append(f"refunded {refunded_amount} {currency} of {total}")
    else:
        refunded = Level.NONE
    if status_name == "trash":
        flags.append("the order is in the WooCommerce bin (trash)")
    if status_name == "failed":
        flags.append("payment failed")
    paid = paid or bool(raw.get("date_paid_gmt"))

    status: OrderStatus = canonical_status(
        cancelled=cancelled, refunded=refunded, fulfilled=Level.FULL if fulfilled else Level.NONE,
        delivered=False, paid=paid)
    mismatch = total_mismatch(currency, total, subtotal=subtotal, discount=discount, shipping=shipping, tax=tax,
                              tax_included=include_tax)
    if mismatch:
        flags.append(mismatch)

    billing = _address(raw.get("billing"))
    shipping_address = _address(raw.get("shipping"))
    raw_billing = raw.get("billing") if isinstance(raw.get("billing"), dict) else {}
    buyer_name = (billing.name if billing else "") or (shipping_address.name if shipping_address else "")
    email = _text(raw_billing.get("email")) or None
    phone = (billing.phone if billing else "") or (shipping_address.phone if shipping_address else "") or None
    ship_to = (shipping_address.country if shipping_address else None) or (billing.country if billing else None)

    return ChannelOrder(
        external_id=external_id, status=status, currency=currency, total=total, subtotal=subtotal,
        shipping=shipping, tax=tax, discount=discount, placed_at=placed_at, updated_at=updated_at,
        lines=tuple(lines), ship_to_country=ship_to, buyer_name=buyer_name, buyer_email=email, buyer_phone=phone,
        shipping_address=shipping_address, billing_address=billing, prices_include_tax=include_tax,
        flags=tuple(flags), raw=raw,
    )


def orders_in(body: Any) -> list[Any]:
    """The order objects in one response body: a list page, one order, or a webhook delivery."""
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        if "id" not in body and "code" in body and "message" in body:
            raise MappingError(f"an error response, not orders: {body.get('code')}: {body.get('message')}")
        return [body]
    raise MappingError(f"not a WooCommerce orders body: {type(body).__name__}")


def normalize(bodies: list[Any]) -> list[ChannelOrder]:
    """Raw bodies (list pages, single orders, webhook payloads; any order) -> canonical orders.

    The same order in several bodies is joined by id; the copy modified last wins (on a tie, the later body).
    """
    latest: dict[str, ChannelOrder] = {}
    for body in bodies:
        for raw in orders_in(body):
            order = map_order(raw)
            known = latest.get(order.external_id)
            if known is None or order.updated_at >= known.updated_at:
                latest[order.external_id] = order
    return sorted(latest.values(), key=lambda o: (int(o.external_id) if o.external_id.isdigit() else 0,
                                                   o.external_id))


# --- product reviews -------------------------------------------------------------------------------------------
REVIEW_DOCS = "https://woocommerce.github.io/woocommerce-rest-api-docs/#product-review-properties"
TAG = re.compile(r"<[^>]*>")


def review_text(value: object) -> str:
    """`review` is the comment's HTML (wpautop'ed: `<p>Nice</p>\n`): tags dropped, entities decoded."""
    if not isinstance(value, str):
        return ""
    return html.unescape(TAG.sub(" ", value.replace("<br />", "\n").replace("</p>", "\n"))).strip()


def map_review(raw: Any, skus: dict[int, str]) -> ChannelReview:
    """One review as GET /products/reviews gives it; `skus` maps WooCommerce product ids to their SKUs (a
    product missing from it leaves the SKU empty). `rating` is 0 when the reviewer gave none: refused, a hub rating
    is 1 to 5. Only `approved` reviews are shown on the shop; hold, spam and trash are kept hidden."""
    if not isinstance(raw, dict):
        raise MappingError(f"a review must be a JSON object, got {type(raw).__name__}")
    review_id = raw.get("id")
    if not isinstance(review_id, int) or isinstance(review_id, bool) or review_id <= 0:
        raise MappingError(f"review without an id: {review_id!r}")
    rating = raw.get("rating")
    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        raise MappingError(f"review {review_id}: rating {rating!r} is not 1 to 5")
    product_id = raw.get("product_id")
    if not isinstance(product_id, int) or isinstance(product_id, bool):
        raise MappingError(f"review {review_id}: product_id {product_id!r} is not an id")
    created = iso_time(raw.get("date_created_gmt"), "date_created_gmt", naive_is_utc=True)
    return ChannelReview(
        external_id=str(review_id), product_ref=str(product_id), sku=skus.get(product_id, ""), rating=rating,
        body=review_text(raw.get("review")), created_at=created, reviewer_name=_text(raw.get("reviewer"))[:200],
        published=raw.get("status") == "approved")
