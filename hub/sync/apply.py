"""A marketplace's view of an order, applied to the hub: the one path for pulls, webhooks and replays.

    apply_order(session, channel, order) -> Applied.CREATED | UPDATED | UNCHANGED

The unique key (channel_id, external_id) decides between create and update: the INSERT ... ON CONFLICT DO
NOTHING either makes the row or finds it taken, so two workers, a webhook and a pull racing on one order
make one row. Versions apply in the order of the marketplace's own updated-at: an older or equal version
changes nothing, so replays, redeliveries and overlapping pages are harmless. Marketplaces that stamp
seconds (WooCommerce) can change an order twice within one: a different payload with the same updated-at
is applied, since a pull always returns the marketplace's current state, so polling heals what a
same-second webhook reordering could get wrong.

Stock follows the marketplace's status: an order that is open when first seen reserves what stock there is
(the sale has happened: a shortfall is flagged as oversold, not refused); cancelled or refunded releases;
fulfilled consumes what is held. An order first seen closed or shipped (a backfill of history) leaves stock
alone: its units left long ago.
"""

from __future__ import annotations

import dataclasses
import enum
from decimal import ROUND_HALF_EVEN, Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.accounts.actor import Actor
from hub.catalog import stock
from hub.catalog.models import Product, StockReservation
from hub.channels.models import Channel, Listing
from hub.channels.port import ChannelLine, ChannelOrder
from hub.channels.values import MappingError
from hub.currency.snapshots import fx_inputs, take_snapshot
from hub.customers import services as customers
from hub.db import dialect_insert, insert_ignoring_duplicates
from hub.money import is_currency
from hub.orders.models import Order, OrderEvent, OrderLine
from hub.orders.status import OrderStatus
from hub.outbox import payloads as outbox

S = OrderStatus
OPEN = frozenset({S.PENDING, S.PAID, S.PARTIALLY_FULFILLED, S.PARTIALLY_REFUNDED})
CLOSED = frozenset({S.CANCELLED, S.REFUNDED})
SHIPPED = frozenset({S.FULFILLED, S.DELIVERED})
# Numeric(19, 4): anything at or beyond this does not fit, and is no real order anyway.
AMOUNT_LIMIT = Decimal(10) ** 14
FOUR_PLACES = Decimal("0.0001")


class Applied(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


def apply_order(session: Session, channel: Channel, order: ChannelOrder,
                products: dict[str, int | None] | None = None) -> tuple[Applied, int]:
    """Create or update the hub's copy of `order`; returns what happened and the order's id. Raises
    MappingError for an order the hub cannot hold (the caller quarantines it). `products` (channel SKU ->
    product id, from `resolve_skus`) saves the lookups when a whole page is applied."""
    check(order)
    actor = Actor.system(channel.seller_id, label=f"channel {channel.name}")
    values = _order_columns(channel, order)
    insert = dialect_insert(session)
    new_id = session.execute(
        insert(Order).values(**values).on_conflict_do_nothing(index_elements=["channel_id", "external_id"])
        .returning(Order.id)
    ).scalar_one_or_none()
    if new_id is not None:
        _create(session, channel, actor, new_id, order, products)
        return Applied.CREATED, new_id
    row = session.scalar(sa.select(Order).where(Order.channel_id == channel.id,
                                                Order.external_id == order.external_id).with_for_update(of=Order))
    if order.updated_at < row.updated_at or (order.updated_at == row.updated_at
                                              and (order.raw or None) == row.raw_payload):
        return Applied.UNCHANGED, row.id
    changed = _update(session, channel, actor, row, order, values)
    return (Applied.UPDATED if changed else Applied.UNCHANGED), row.id


def check(order: ChannelOrder) -> None:
    """What the database would refuse, refused here with a reason a person can act on."""
    if not order.external_id or len(order.external_id) > 128:
        raise MappingError(f"external id must be 1 to 128 characters, got {len(order.external_id)}")
    if not is_currency(order.currency):
        raise MappingError(f"unknown currency {order.currency!r}")
    if not order.lines:
        raise MappingError("the order has no lines")
    for i, line in enumerate(order.lines):
        if line.quantity <= 0:
            raise MappingError(f"line {i + 1} ({line.sku}): quantity {line.quantity} is not positive")
        # A line without a SKU (a custom item, a fee) is kept, unmatched, like a SKU no listing knows.
        if len(line.sku) > 64:
            raise MappingError(f"line {i + 1}: SKU longer than 64 characters: {line.sku!r:.80}")
    amounts = [order.total, order.subtotal, order.shipping, order.tax, order.discount]
    amounts += [v for line in order.lines for v in (line.unit_price, line.line_total, line.tax, line.discount)]
    if any(v is not None and abs(v) >= AMOUNT_LIMIT for v in amounts):
        raise MappingError(f"an amount is beyond {AMOUNT_LIMIT:,}")


def _money(value: Decimal | None) -> Decimal:
    return Decimal(0) if value is None else value.quantize(FOUR_PLACES, ROUND_HALF_EVEN)


def _line_total(line: ChannelLine) -> Decimal:
    if line.line_total is not None:
        return _money(line.line_total)
    return _money((line.unit_price or Decimal(0)) * line.quantity - line.discount)


def _order_columns(channel: Channel, order: ChannelOrder) -> dict[str, object]:
    subtotal = order.subtotal if order.subtotal is not None else sum((_line_total(li) for li in order.lines),
                                                                    Decimal(0))
    discount, shipping, tax = _money(order.discount), _money(order.shipping), _money(order.tax)
    total = order.total if order.total is not None else subtotal + shipping + (
        Decimal(0) if order.prices_include_tax else tax)
    flags = list(order.flags)
    if any(line.unit_price is None for line in order.lines):
        flags.append("a line has no price yet")
    email = order.buyer_email if order.buyer_email and len(order.buyer_email) <= 254 else None
    return {
        "seller_id": channel.seller_id, "channel_id": channel.id, "external_id": order.external_id,
        "status": order.status, "currency": order.currency, "subtotal": _money(subtotal), "discount_total": discount,
        "shipping_total": shipping, "tax_total": tax, "grand_total": _money(total), "refunded_total": Decimal(0),
        "prices_include_tax": order.prices_include_tax, "buyer_name": order.buyer_name[:200],
        "buyer_email": email, "buyer_phone": (order.buyer_phone or None) and order.buyer_phone[:40],
        "shipping_address": _address(order.shipping_address), "billing_address": _address(order.billing_address),
        "ship_country": order.ship_to_country, "placed_at": order.placed_at, "updated_at": order.updated_at,
        "raw_payload": order.raw or None, "note": "", "flags": flags,
    }


def _address(address: object) -> dict[str, object] | None:
    return dataclasses.asdict(address) if address is not None else None  # type: ignore[arg-type]


def resolve_skus(session: Session, channel: Channel, skus: set[str]) -> dict[str, int | None]:
    """Channel SKU -> product id through the channel's listings. A SKU seen for the first time gets a listing,
    linked to the seller's product of the same SKU when there is one, left unmatched (None) otherwise."""
    def listed() -> dict[str, int | None]:
        return dict(session.execute(sa.select(Listing.channel_sku, Listing.product_id).where(
            Listing.channel_id == channel.id, Listing.channel_sku.in_(skus))).all())

    found = listed()
    missing = skus - found.keys()
    if missing:
        same_sku = dict(session.execute(sa.select(Product.sku, Product.id).where(
            Product.seller_id == channel.seller_id, Product.sku.in_(missing), Product.deleted_at.is_(None))).all())
        for sku in sorted(missing):
            insert_ignoring_duplicates(session, Listing.__table__, {
                "seller_id": channel.seller_id, "channel_id": channel.id, "channel_sku": sku,
                "product_id": same_sku.get(sku), "is_active": True, "push_error": ""})
        found = listed()
    return found


def _line_rows(session: Session, channel: Channel, order: ChannelOrder,
               products: dict[str, int | None] | None = None) -> list[dict[str, object]]:
    wanted = {line.sku for line in order.lines if line.sku}
    if products is None or not wanted <= products.keys():
        products = resolve_skus(session, channel, wanted)
    shipped = order.status in SHIPPED
    return [{
        "seller_id": channel.seller_id, "line_no": i + 1, "sku": line.sku, "product_id": products.get(line.sku),
        "title": (line.title or line.sku)[:255], "quantity": line.quantity, "unit_price": _money(line.unit_price),
        "discount": _money(line.discount), "tax": _money(line.tax), "line_total": _line_total(line),
        "external_line_id": line.external_line_id[:64], "quantity_fulfilled": line.quantity if shipped else 0,
        "quantity_short": 0,
    } for i, line in enumerate(order.lines)]


def _lines(session: Session, channel: Channel, order: ChannelOrder) -> list[OrderLine]:
    return [OrderLine(**row) for row in _line_rows(session, channel, order)]


def _event(order: Order, channel: Channel, kind: str, message: str, before: OrderStatus | None = None,
           after: OrderStatus | None = None) -> None:
    order.events.append(OrderEvent(seller_id=order.seller_id, kind=kind, from_status=before, to_status=after,
                                   actor=f"channel {channel.name}"[:120], message=message))


def _create(session: Session, channel: Channel, actor: Actor, order_id: int, incoming: ChannelOrder,
            products: dict[str, int | None] | None) -> None:
    # Plain INSERTs, no ORM graph: this runs once per imported order, thousands per pull.
    rows = _line_rows(session, channel, incoming, products)
    session.execute(sa.insert(OrderLine), [{**row, "order_id": order_id} for row in rows])
    notes = [f"imported from {channel.name} as {incoming.status}"]
    order = session.get(Order, order_id)
    if incoming.status in OPEN and any(row["product_id"] for row in rows):
        notes += _reserve(session, actor, order)
    if take_snapshot(session, order) is None:
        notes.append("not converted to the base currency: no exchange rate")
    unmatched = sorted({str(row["sku"]) or "(none)" for row in rows if row["product_id"] is None})
    if unmatched:
        notes.append(f"unmatched SKU {', '.join(unmatched)}: waiting for a mapping")
    session.execute(sa.insert(OrderEvent), [{
        "seller_id": channel.seller_id, "order_id": order_id, "kind": "imported", "from_status": None,
        "to_status": incoming.status, "actor": f"channel {channel.name}"[:120], "message": "; ".join(notes)}])
    # Only the transaction whose INSERT made the row gets here, so a re-pulled order is announced once.
    outbox.emit_imported(session, order)
    customers.link_order(session, order)  # the buyer's cross-channel profile, with the reason of the match


def _reserve(session: Session, actor: Actor, order: Order) -> list[str]:
    notes = []
    for line in order.lines:
        if line.product_id is None:
            continue
        line.quantity_short = stock.reserve_available(session, actor, line)
        if line.quantity_short:
            notes.append(f"oversold: {line.quantity_short} of {line.quantity} x {line.sku} not in stock")
    if notes and "oversold" not in order.flags:
        order.flags = [*order.flags, "oversold"]
    return notes


def _held(session: Session, line: OrderLine) -> int:
    return session.scalar(sa.select(sa.func.coalesce(sa.func.sum(StockReservation.quantity), 0)).where(
        StockReservation.order_line_id == line.id)) or 0


def _update(session: Session, channel: Channel, actor: Actor, row: Order, incoming: ChannelOrder,
            values: dict[str, object]) -> bool:
    before = row.status
    fx_before = fx_inputs(row)
    notes: list[str] = []
    tracked = ("grand_total", "buyer_name", "buyer_email", "shipping_address", "billing_address", "ship_country")
    for name in tracked:
        if getattr(row, name) != values[name]:
            notes.append(f"{name.replace('_', ' ')} changed")
    new_lines = [(li.sku, li.quantity) for li in incoming.lines]
    lines_changed = new_lines != [(li.sku, li.quantity) for li in row.lines]
    for name, value in values.items():
        if name not in ("seller_id", "channel_id", "external_id", "status", "refunded_total", "note", "flags"):
            setattr(row, name, value)
    row.flags = sorted(set(row.flags) | set(values["flags"]))  # type: ignore[arg-type]
    if lines_changed:
        if any(line.quantity_fulfilled for line in row.lines):
            row.flags = sorted({*row.flags, "lines changed on the channel after shipment"})
            notes.append("lines changed on the channel after shipment: left as shipped")
        else:
            for line in row.lines:
                stock.release_line(session, actor, line, reason=f"order {row.external_id} lines changed")
            row.lines.clear()
            session.flush()
            row.lines.extend(_lines(session, channel, incoming))
            session.flush()
            notes.append("lines changed")
            if incoming.status in OPEN:
                notes += _reserve(session, actor, row)
    if fx_inputs(row) != fx_before:
        # The snapshot follows the amounts (replaced, never added to); a status change alone keeps it.
        take_snapshot(session, row)
    after = incoming.status
    if after != before:
        row.status = after
        notes.append(f"status {before} -> {after}")
        outbox.emit_status(session, row, before)
        if after in CLOSED:
            for line in row.lines:
                stock.release_line(session, actor, line, reason=f"order {row.external_id} {after} on the channel")
        elif after in SHIPPED and before not in SHIPPED:
            for line in row.lines:
                held = _held(session, line)
                if held:
                    stock.ship_from_line(session, actor, line, held,
                                         reason=f"order {row.external_id} shipped on the channel")
                line.quantity_fulfilled = line.quantity
    if not notes:
        return False
    _event(row, channel, "channel update", "; ".join(notes),
           before=before if after != before else None, after=after if after != before else None)
    return True
