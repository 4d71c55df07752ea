"""Shopee Open Platform v2 order bodies -> canonical orders. Pure: no I/O, no clock.

Source shapes (v2.order.get_order_list and v2.order.get_order_detail):
    https://open.shopee.com/documents/v2/v2.order.get_order_list?module=94&type=1
    https://open.shopee.com/documents/v2/v2.order.get_order_detail?module=94&type=1

Facts the mapping relies on:
- `total_amount`, `model_original_price` and `model_discounted_price` are JSON numbers in major units
  (12.9 in SGD, 150000 in VND); bodies are parsed with Decimal, so they arrive exact. Item prices are
  per unit; `model_quantity_purchased` is the ordered quantity.
- Times (`create_time`, `update_time`, `pay_time`) are unix seconds.
- SKU is `model_sku`, or `item_sku` when the item has no model SKU.
- `recipient_address.region` is the ISO country code of the recipient; the order's `region` is the shop's market.
- Consumer prices on Shopee's markets include VAT/GST; the order detail has no tax breakdown.
- The order detail does not give the shipping fee the buyer paid nor the vouchers (those are in
  v2.payment.get_escrow_detail), so shipping/discount/tax are None and no parts-versus-total check is
  made: `total_amount` is authoritative.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from hub.channels.port import ChannelAddress, ChannelLine, ChannelOrder, ChannelReview
from hub.channels.rules import Level, canonical_status
from hub.channels.values import MappingError, country, optional_amount, quantity, unix_time
from hub.money import is_currency

# order_status -> (cancelled, fulfilled, delivered). Payment comes from pay_time / the status itself.
STATUSES: dict[str, tuple[bool, Level, bool]] = {
    "UNPAID": (False, Level.NONE, False),
    "READY_TO_SHIP": (False, Level.NONE, False),
    "PROCESSED": (False, Level.NONE, False),  # shipment arranged, not yet handed to the carrier
    "RETRY_SHIP": (False, Level.NONE, False),  # the carrier's pickup failed and is retried
    "IN_CANCEL": (False, Level.NONE, False),  # a cancellation is requested, not decided: flagged
    "SHIPPED": (False, Level.FULL, False),
    "TO_CONFIRM_RECEIVE": (False, Level.FULL, True),  # delivered, waiting for the buyer's confirmation
    "COMPLETED": (False, Level.FULL, True),
    "TO_RETURN": (False, Level.FULL, True),  # a return/refund is requested, nothing refunded yet: flagged
    "CANCELLED": (True, Level.NONE, False),
}
# Package logistics statuses meaning the parcel has left the seller (v2.logistics data definition).
SHIPPED_PACKAGE_STATUSES = frozenset({
    "LOGISTICS_PICKUP_DONE", "LOGISTICS_DELIVERY_DONE", "LOGISTICS_DELIVERY_FAILED", "LOGISTICS_LOST",
})
NOT_YET_SHIPPED = frozenset({"READY_TO_SHIP", "PROCESSED", "RETRY_SHIP"})


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _address(raw: object) -> ChannelAddress | None:
    if not isinstance(raw, dict) or not raw:
        return None
    street = _text(raw.get("full_address"))
    line2 = ", ".join(p for p in (_text(raw.get("town")), _text(raw.get("district"))) if p)
    return ChannelAddress(
        name=_text(raw.get("name")), line1=street, line2=line2, city=_text(raw.get("city")),
        region=_text(raw.get("state")), postal_code=_text(raw.get("zipcode")),
        country=country(raw.get("region")), phone=_text(raw.get("phone")),
    )


def _line(raw: object, index: int) -> ChannelLine:
    if not isinstance(raw, dict):
        raise MappingError(f"item_list[{index}]: not an object")
    sku = _text(raw.get("model_sku")) or _text(raw.get("item_sku"))
    if not sku:
        raise MappingError(f"item_list[{index}] (item_id {raw.get('item_id')}, model_id {raw.get('model_id')}): "
                           "neither model_sku nor item_sku is set, so the line cannot be matched to a product")
    qty = quantity(raw.get("model_quantity_purchased"), f"item_list[{index}].model_quantity_purchased")
    paid = optional_amount(raw.get("model_discounted_price"), f"item_list[{index}].model_discounted_price")
    original = optional_amount(raw.get("model_original_price"), f"item_list[{index}].model_original_price")
    if paid is None and original is not None:
        paid = original
    unit = original if original is not None else paid
    discount = (unit - paid) * qty if unit is not None and paid is not None and unit > paid else Decimal(0)
    title = _text(raw.get("item_name"))
    if _text(raw.get("model_name")):
        title = f"{title} ({_text(raw.get('model_name'))})" if title else _text(raw.get("model_name"))
    line_id = raw.get("order_item_id") or raw.get("item_id")
    return ChannelLine(
        sku=sku, title=title, quantity=qty, unit_price=unit,
        line_total=paid * qty if paid is not None else None, discount=discount,
        external_line_id=f"{line_id}:{raw.get('model_id', 0)}" if line_id is not None else "",
    )


def _fulfilment(status: str, base: Level, packages: object) -> Level:
    """Split orders ship package by package: some packages gone while the order waits is a partial fulfilment."""
    if status not in NOT_YET_SHIPPED or not isinstance(packages, list) or len(packages) < 2:
        return base
    shipped = [isinstance(p, dict) and p.get("logistics_status") in SHIPPED_PACKAGE_STATUSES for p in packages]
    return Level.PARTIAL if any(shipped) and not all(shipped) else (Level.FULL if all(shipped) else base)


def map_order(raw: dict[str, Any]) -> ChannelOrder:
    """One `get_order_detail` order -> ChannelOrder; MappingError with the reason when it cannot be mapped."""
    if not isinstance(raw, dict):
        raise MappingError("order: not an object")
    order_sn = _text(raw.get("order_sn"))
    if not order_sn:
        raise MappingError("order_sn is missing")
    status = raw.get("order_status")
    if status not in STATUSES:
        raise MappingError(f"{order_sn}: unknown order_status {status!r}")
    currency = raw.get("currency")
    if not is_currency(currency):
        raise MappingError(f"{order_sn}: currency {currency!r} is not an ISO 4217 code")
    items = raw.get("item_list")
    if not isinstance(items, list) or not items:
        raise MappingError(f"{order_sn}: item_list is missing or empty (request it in response_optional_fields)")
    try:
        lines = tuple(_line(item, i) for i, item in enumerate(items))
        total = optional_amount(raw.get("total_amount"), "total_amount")
        placed_at = unix_time(raw.get("create_time"), "create_time")
        updated_at = unix_time(raw.get("update_time"), "update_time")
    except MappingError as exc:
        raise MappingError(f"{order_sn}: {exc}") from None

    cancelled, fulfilled, delivered = STATUSES[status]
    fulfilled = _fulfilment(status, fulfilled, raw.get("package_list"))
    paid = status != "UNPAID" and (bool(raw.get("pay_time")) or status != "IN_CANCEL" or bool(raw.get("cod")))
    flags = []
    if status == "IN_CANCEL":
        flags.append("IN_CANCEL: the buyer asked to cancel; Shopee has not decided yet, the order is not cancelled")
    if status == "TO_RETURN":
        flags.append("TO_RETURN: a return/refund is requested; nothing is refunded until Shopee settles it")
    if total is None:
        flags.append("total_amount not given yet")

    priced = [line.line_total for line in lines]
    subtotal = sum(priced, Decimal(0)) if all(p is not None for p in priced) else None
    shipping_address = _address(raw.get("recipient_address"))
    ship_to = (shipping_address.country if shipping_address else None) or country(raw.get("region"))
    buyer = (shipping_address.name if shipping_address else "") or _text(raw.get("buyer_username"))
    phone = shipping_address.phone if shipping_address and shipping_address.phone else None
    return ChannelOrder(
        external_id=order_sn,
        status=canonical_status(cancelled=cancelled, refunded=Level.NONE, fulfilled=fulfilled, delivered=delivered,
                                paid=paid),
        currency=currency, total=total, subtotal=subtotal, shipping=None, tax=None, discount=None,
        placed_at=placed_at, updated_at=updated_at, lines=lines, ship_to_country=ship_to, buyer_name=buyer,
        buyer_email=None, buyer_phone=phone, shipping_address=shipping_address, billing_address=None,
        prices_include_tax=True, flags=tuple(flags), raw=raw,
    )


def _envelope_orders(body: object) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(listed, detailed) order dicts from one body: an envelope, its `response`, or a bare order list."""
    if isinstance(body, list):
        listed: list[dict[str, Any]] = []
        detailed: list[dict[str, Any]] = []
        for part in body:
            a, b = _envelope_orders(part)
            listed += a
            detailed += b
        return listed, detailed
    if not isinstance(body, dict):
        raise MappingError(f"not a Shopee response body: {type(body).__name__}")
    if body.get("error"):
        raise MappingError(f"an error body, not orders: {body.get('error')}: {body.get('message')}")
    if "order_sn" in body:  # a single order
        return ([], [body]) if "order_status" in body and "item_list" in body else ([body], [])
    response = body.get("response", body)
    orders = response.get("order_list") if isinstance(response, dict) else None
    if not isinstance(orders, list):
        raise MappingError("body has no response.order_list")
    listed, detailed = [], []
    for order in orders:
        if not isinstance(order, dict):
            raise MappingError("order_list entry is not an object")
        (detailed if "item_list" in order or "total_amount" in order else listed).append(order)
    return listed, detailed


def join(bodies: Iterable[object]) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """Order numbers in first-seen order and the newest detail of each, from list and detail bodies in any order."""
    order: list[str] = []
    details: dict[str, dict[str, Any]] = {}
    for body in bodies:
        listed, detailed = _envelope_orders(body)
        for entry in listed + detailed:
            sn = _text(entry.get("order_sn"))
            if sn and sn not in order:
                order.append(sn)
        for entry in detailed:
            sn = _text(entry.get("order_sn"))
            known = details.get(sn)
            if known is None or _newer(entry, known):
                details[sn] = entry
    return order, details


def _newer(candidate: dict[str, Any], known: dict[str, Any]) -> bool:
    try:
        return int(candidate.get("update_time") or 0) >= int(known.get("update_time") or 0)
    except (TypeError, ValueError):
        return True


def normalize(bodies: list[Any]) -> list[ChannelOrder]:
    """get_order_list and get_order_detail bodies, in any order, joined by order_sn -> canonical orders.

    An order listed but without a detail body cannot be mapped (the list holds only order numbers)."""
    numbers, details = join(bodies)
    missing = [sn for sn in numbers if sn not in details]
    if missing:
        raise MappingError(f"no get_order_detail body for {', '.join(missing)}")
    return [map_order(details[sn]) for sn in numbers]


# --- comments (product reviews) --------------------------------------------------------------------------------
COMMENT_DOCS = "https://open.shopee.com/documents/v2/v2.product.get_comment?module=89&type=1"


def comment_sku(raw: dict[str, Any], skus: dict[tuple[int, int], str]) -> str:
    """The SKU a comment is about: its first model's, else the item's own (an item without variants, model 0),
    else the one SKU of an item with a single variant; "" when it cannot be told. `skus` maps (item_id, model_id)
    to SKUs, as the connector's catalogue read gives them."""
    item_id = raw.get("item_id")
    models = [m for m in (raw.get("model_id_list") or []) if isinstance(m, int)]
    if isinstance(raw.get("model_id"), int) and raw["model_id"]:
        models.append(raw["model_id"])  # the older single field, offline since 2024-12-27
    for model_id in models:
        if (item_id, model_id) in skus:
            return skus[(item_id, model_id)]
    if (item_id, 0) in skus:
        return skus[(item_id, 0)]
    of_item = {sku for (item, _), sku in skus.items() if item == item_id}
    return of_item.pop() if len(of_item) == 1 else ""


def map_comment(raw: Any, skus: dict[tuple[int, int], str]) -> ChannelReview:
    """One entry of get_comment's item_comment_list. `rating_star` is 1..5, `create_time` unix seconds, photos in
    `media.image_url_list`; a `hidden` comment is kept, not shown."""
    if not isinstance(raw, dict):
        raise MappingError(f"a comment must be a JSON object, got {type(raw).__name__}")
    comment_id = raw.get("comment_id")
    if not isinstance(comment_id, int) or isinstance(comment_id, bool) or comment_id <= 0:
        raise MappingError(f"comment without a comment_id: {comment_id!r}")
    rating = raw.get("rating_star")
    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        raise MappingError(f"comment {comment_id}: rating_star {rating!r} is not 1 to 5")
    item_id = raw.get("item_id")
    if not isinstance(item_id, int) or isinstance(item_id, bool):
        raise MappingError(f"comment {comment_id}: item_id {item_id!r} is not an id")
    media = raw.get("media") if isinstance(raw.get("media"), dict) else {}
    photos = tuple(u for u in (media.get("image_url_list") or []) if isinstance(u, str)
                   and u.startswith(("https://", "http://")))
    return ChannelReview(
        external_id=str(comment_id), product_ref=str(item_id), sku=comment_sku(raw, skus), rating=rating,
        body=_text(raw.get("comment")), created_at=unix_time(raw.get("create_time"), "create_time"),
        reviewer_name=_text(raw.get("buyer_username"))[:200], photos=photos, published=raw.get("hidden") is not True,
        order_ref=_text(raw.get("order_sn")))
