"""Order use cases: create (with reservation), list, get, move through the state machine, ship.

Stock follows the order: creating reserves, cancelling or refunding before shipment releases,
shipping consumes. Every change lands on the order's timeline in the same transaction.
"""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy.orm import Session, object_session, selectinload

from hub.accounts.actor import Actor
from hub.accounts.models import Role, Seller
from hub.catalog import stock
from hub.catalog.models import Product
from hub.channels.models import DIRECT, Channel
from hub.currency.models import OrderFx
from hub.currency.snapshots import take_snapshot
from hub.customers import services as customers
from hub.db import unique_or_raise
from hub.errors import Conflict, IllegalTransition, NotFound, ValidationError
from hub.money import Money
from hub.orders.models import Fulfillment, FulfillmentLine, Order, OrderEvent, OrderLine
from hub.orders.rows import ROW_COLUMNS
from hub.orders.schemas import OrderFilters, OrderIn, OrderListQuery, OrderSort, ShipmentIn, StatusMove
from hub.orders.status import OrderStatus, check_move
from hub.orders.totals import LinePrice, exact, order_totals
from hub.outbox import payloads as outbox
from hub.timeutil import ensure_utc, utcnow

S = OrderStatus


def direct_channel(session: Session, seller_id: int) -> Channel:
    channel = session.scalar(sa.select(Channel).where(Channel.seller_id == seller_id, Channel.kind == DIRECT))
    if channel is None:
        raise NotFound("the seller has no direct channel")
    return channel


def _event(order: Order, actor: Actor, kind: str, message: str = "",
           from_status: OrderStatus | None = None, to_status: OrderStatus | None = None) -> None:
    order.events.append(OrderEvent(seller_id=order.seller_id, kind=kind, from_status=from_status,
                                   to_status=to_status, user_id=actor.user_id, actor=actor.label, message=message))


def create_order(session: Session, actor: Actor, data: OrderIn) -> Order:
    """Create a direct order with computed totals and reserve its stock, all or nothing."""
    actor.require(Role.STAFF, "create orders")
    seller = session.get(Seller, actor.acting_seller("create orders"))
    currency = data.currency or seller.base_currency
    products = _products_by_sku(session, actor.seller_id, [line.sku for line in data.lines])
    prices = [
        LinePrice(quantity=line.quantity, unit_price=exact(line.unit_price, currency, f"lines[{i}].unit_price"),
                  discount=exact(line.discount, currency, f"lines[{i}].discount"), tax_rate=line.tax_rate)
        for i, line in enumerate(data.lines)
    ]
    totals = order_totals(prices, exact(data.shipping_total, currency, "shipping_total"), seller.prices_include_tax)
    if data.expected_total is not None:
        expected = exact(data.expected_total, currency, "expected_total")
        if expected != totals.grand_total:
            diff = expected - totals.grand_total
            raise ValidationError(
                f"expected_total {expected} does not match the computed total {totals.grand_total} "
                f"(difference {diff}): subtotal {totals.subtotal.amount} - discount {totals.discount.amount} "
                f"+ tax {totals.tax.amount} + shipping {totals.shipping.amount}"
                + (" (tax included in prices)" if seller.prices_include_tax else ""),
                fields={"expected_total": f"differs from the computed total by {diff}"}, code="total_mismatch")

    now = utcnow()
    placed_at = data.placed_at or now
    channel = direct_channel(session, actor.seller_id)
    order = Order(
        seller_id=actor.seller_id, channel_id=channel.id,
        external_id=data.external_id or f"H-{now:%Y%m%d}-{secrets.token_hex(4).upper()}",
        status=S.PENDING, currency=currency, prices_include_tax=seller.prices_include_tax,
        subtotal=totals.subtotal.amount, discount_total=totals.discount.amount,
        shipping_total=totals.shipping.amount, tax_total=totals.tax.amount, grand_total=totals.grand_total.amount,
        buyer_name=data.buyer.name, buyer_email=data.buyer.email, buyer_phone=data.buyer.phone,
        shipping_address=data.shipping_address.model_dump(),
        billing_address=(data.billing_address or data.shipping_address).model_dump(),
        ship_country=data.shipping_address.country, placed_at=placed_at, updated_at=now,
        raw_payload=data.model_dump(mode="json"), note=data.note,
    )
    for i, (line, line_totals) in enumerate(zip(data.lines, totals.lines, strict=True)):
        product = products[line.sku]
        order.lines.append(OrderLine(
            seller_id=actor.seller_id, line_no=i + 1, sku=line.sku, product_id=product.id,
            title=line.title or product.title, quantity=line.quantity, unit_price=prices[i].unit_price.amount,
            discount=line_totals.discount.amount, tax=line_totals.tax.amount, line_total=line_totals.total.amount,
        ))
    _event(order, actor, "created", f"order created, total {totals.grand_total}", to_status=S.PENDING)
    def duplicate() -> Conflict:
        existing = session.scalar(sa.select(Order.id).where(Order.channel_id == channel.id,
                                                            Order.external_id == order.external_id))
        return Conflict(f"order {order.external_id} already exists (id {existing})",
                        fields={"external_id": "already used"}, code="duplicate_order")

    with unique_or_raise(session, duplicate):
        session.add(order)
    for line in order.lines:
        stock.reserve_line(session, actor, line)
    # In the base currency (the usual case) this is rate 1; otherwise a missing rate flags, never refuses.
    take_snapshot(session, order)
    outbox.emit_imported(session, order)  # same transaction: the event exists if and only if the order does
    customers.link_order(session, order)
    return order


def _products_by_sku(session: Session, seller_id: int, skus: list[str]) -> dict[str, Product]:
    found = {p.sku: p for p in session.scalars(sa.select(Product).where(
        Product.seller_id == seller_id, Product.sku.in_(set(skus)), Product.deleted_at.is_(None)))}
    errors = {f"lines[{i}].sku": f"no product with SKU {sku}" for i, sku in enumerate(skus) if sku not in found}
    errors.update({f"lines[{i}].sku": f"product {sku} is inactive"
                   for i, sku in enumerate(skus) if sku in found and not found[sku].is_active})
    if errors:
        raise ValidationError("; ".join(errors.values()), fields=errors, code="unknown_sku")
    return found


def get_order(session: Session, actor: Actor, order_id: int, *, for_update: bool = False) -> Order:
    query = sa.select(Order).where(Order.id == order_id, actor.sees(Order.seller_id)).options(
        selectinload(Order.lines), selectinload(Order.events), selectinload(Order.fulfillments)
        .selectinload(Fulfillment.lines))
    if for_update:
        # Serialises concurrent moves of one order (no-op on SQLite, whose write lock already does).
        query = query.with_for_update(of=Order)
    order = session.scalar(query)
    if order is None:
        raise NotFound(f"no order {order_id}")
    return order


@dataclass
class OrderPage:
    """One page of the order list with the opaque cursors of its neighbours (None: no such page)."""

    rows: list[Any]  # Order objects (page_orders) or ROW_COLUMNS rows (page_order_rows)
    next_cursor: str | None = None
    prev_cursor: str | None = None


# Each sort's key column and whether it runs descending; ties are broken by id in the same direction.
SORT_KEYS: dict[OrderSort, tuple[sa.ColumnElement[Any], bool]] = {
    OrderSort.NEWEST: (Order.placed_at, True),
    OrderSort.OLDEST: (Order.placed_at, False),
    OrderSort.TOTAL_HIGH: (Order.grand_total, True),
    OrderSort.TOTAL_LOW: (Order.grand_total, False),
}
_CURSOR_SALT = "hub.orders.cursor"
BAD_CURSOR = "this page link is not valid (it was changed or has expired); start again from the first page"


def _filtered(query: sa.Select[Any], actor: Actor, filters: OrderFilters) -> sa.Select[Any]:
    """The WHERE clauses of the list filters and search, limited to what the actor may see."""
    query = query.where(actor.sees(Order.seller_id))
    if filters.status:
        query = query.where(Order.status == filters.status)
    if filters.channel:
        query = query.where(Order.channel_id.in_(sa.select(Channel.id).where(
            Channel.name == filters.channel, actor.sees(Channel.seller_id))))
    if filters.country:
        query = query.where(Order.ship_country == filters.country)
    if filters.currency:
        query = query.where(Order.currency == filters.currency)
    if filters.placed_from:
        query = query.where(Order.placed_at >= filters.placed_from)
    if filters.placed_to:
        query = query.where(Order.placed_at < filters.placed_to)
    if filters.unmatched is not None:
        unmatched = sa.exists().where(OrderLine.order_id == Order.id, OrderLine.product_id.is_(None))
        query = query.where(unmatched if filters.unmatched else ~unmatched)
    if filters.q:
        query = query.where(Order.id.in_(_search(actor, filters.q.strip())))
    return query


def _search(actor: Actor, term: str) -> sa.CompoundSelect:
    """The ids of the orders a search term finds: an exact external id, an exact buyer email, a SKU on a line, or
    a part of the buyer's name (case-insensitive).

    A UNION of four lookups, each served by its own index, instead of one OR across columns and tables, which no
    index serves and which scanned every order of the seller (0.5 s at a million orders)."""
    like = "%" + term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return sa.union(
        sa.select(Order.id).where(actor.sees(Order.seller_id), Order.external_id == term),
        sa.select(Order.id).where(actor.sees(Order.seller_id), sa.func.lower(Order.buyer_email) == term.lower()),
        sa.select(Order.id).where(actor.sees(Order.seller_id),
                                  sa.func.lower(Order.buyer_name).like(like, escape="\\")),
        sa.select(OrderLine.order_id).where(actor.sees(OrderLine.seller_id), OrderLine.sku == term),
    )


def _serializer(secret: str | bytes) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=_CURSOR_SALT)


def encode_cursor(secret: str | bytes, sort: OrderSort, key: Any, order_id: int, direction: str) -> str:
    """An opaque, signed cursor: the (sort key, id) of a page's edge row, the sort it belongs to and whether it
    pages forward ("n", rows after it) or backward ("p", rows before it)."""
    value = key.isoformat() if isinstance(key, datetime) else str(key)
    return _serializer(secret).dumps([str(sort), direction, value, order_id])


def decode_cursor(secret: str | bytes, sort: OrderSort, cursor: str) -> tuple[str, Any, int]:
    """(direction, key, id) of a cursor made by encode_cursor for this sort; anything else is a ValidationError."""
    try:
        name, direction, value, order_id = _serializer(secret).loads(cursor)
        if name != str(sort) or direction not in ("n", "p") or not isinstance(order_id, int) or order_id < 1:
            raise ValueError(name)
        column, _ = SORT_KEYS[sort]
        key = ensure_utc(datetime.fromisoformat(value)) if column is Order.placed_at else Decimal(value)
    except (BadData, ValueError, TypeError, ArithmeticError, OverflowError):
        raise ValidationError(BAD_CURSOR, fields={"cursor": "not a valid page link"}, code="bad_cursor") from None
    return direction, key, order_id


def _ordered(query: sa.Select[Any], sort: OrderSort, descending_run: bool,
             edge: tuple[Any, int] | None) -> sa.Select[Any]:
    column, _ = SORT_KEYS[sort]
    keys = sa.tuple_(column, Order.id)
    if edge is not None:
        query = query.where(keys < edge if descending_run else keys > edge)
    return query.order_by(*((column.desc(), Order.id.desc()) if descending_run else (column.asc(), Order.id.asc())))


def page_orders(session: Session, actor: Actor, filters: OrderListQuery,
                secret: str | bytes | None = None) -> OrderPage:
    """One page of the filtered orders, with their lines, in the chosen sort (see _page)."""
    query = _filtered(sa.select(Order), actor, filters).options(selectinload(Order.lines))
    return _page(session, query, filters, secret, lambda q: list(session.scalars(q)))


def page_order_rows(session: Session, actor: Actor, filters: OrderListQuery,
                    secret: str | bytes | None = None) -> OrderPage:
    """The same page as page_orders, as rows of ROW_COLUMNS (attributes named as the order's, plus `channel`)."""
    query = _filtered(sa.select(*ROW_COLUMNS).join(Channel, Channel.id == Order.channel_id), actor, filters)
    return _page(session, query, filters, secret, lambda q: list(session.execute(q)))


def _page(session: Session, query: sa.Select[Any], filters: OrderListQuery, secret: str | bytes | None,
          fetch: Callable[[sa.Select[Any]], list[Any]]) -> OrderPage:
    """Keyset pagination on (sort key, id) of a filtered query whose rows have the order's `id` and sort keys.

    Without a sort: newest id first, paged with `after` (the JSON API's order). With a sort, `cursor` is one
    this function handed out (signed with `secret`), so a page link cannot be forged or carried to another sort.
    """
    limit = filters.limit
    if filters.sort is None:
        if filters.cursor is not None:
            raise ValidationError("a cursor pages a sort: give the sort it came with",
                                  fields={"cursor": "needs its sort"}, code="bad_cursor")
        if filters.after:
            query = query.where(Order.id < filters.after)
        rows = fetch(query.order_by(Order.id.desc()).limit(limit + 1))
        more = len(rows) > limit
        return OrderPage(rows[:limit], str(rows[limit - 1].id) if more else None, None)

    sort = filters.sort
    column, descending = SORT_KEYS[sort]
    direction, edge = "n", None
    if filters.cursor is not None:
        if secret is None:
            raise ValidationError("cursor paging is not available here", fields={"cursor": "not accepted"},
                                  code="bad_cursor")
        direction, key, order_id = decode_cursor(secret, sort, filters.cursor)
        edge = (key, order_id)
    backward = direction == "p"
    rows = fetch(_ordered(query, sort, descending != backward, edge).limit(limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    if backward:
        rows.reverse()
    has_next, has_prev = (True, more) if backward else (more, edge is not None)
    if not rows:
        return OrderPage(rows)
    key_of = column.key

    def cursor(row: Any, way: str) -> str:
        return encode_cursor(secret or b"", sort, getattr(row, key_of), row.id, way)

    if secret is None:  # no links without a key to sign them (the first page of a sort in the JSON API)
        return OrderPage(rows)
    return OrderPage(rows, cursor(rows[-1], "n") if has_next else None, cursor(rows[0], "p") if has_prev else None)


def list_orders(session: Session, actor: Actor, filters: OrderFilters) -> list[Order]:
    """Newest first, keyset-paginated on id (`after` is the last id of the previous page): the API's list."""
    return page_orders(session, actor, OrderListQuery(**filters.model_dump())).rows


def channel_names(session: Session, actor: Actor) -> list[str]:
    """The names of the channels the actor's orders can come from, for the list's channel filter."""
    return sorted(set(session.scalars(sa.select(Channel.name).where(actor.sees(Channel.seller_id)))))


EXPORT_BATCH = 1000
EXPORT_HEADER = ("external_id", "channel", "placed_at_utc", "status", "currency", "subtotal", "discount_total",
                 "shipping_total", "tax_total", "grand_total", "refunded_total", "base_currency",
                 "base_grand_total", "fx_rate", "fx_rate_as_of", "buyer_name", "buyer_email", "ship_country")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula (= + - @, tab, CR) gets a leading quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def export_rows(session: Session, actor: Actor, filters: OrderListQuery,
                batch: int = EXPORT_BATCH) -> Iterator[tuple[str, ...]]:
    """Every order the filters select, in their sort, as CSV cells (EXPORT_HEADER's columns).

    Read in keyset batches of plain column rows (no ORM objects, so nothing piles up in the session): memory
    stays flat however many orders there are. Amounts are in the currency's minor units; the base-currency
    total and rate are the order's FX snapshot, empty while it has none.
    """
    sort = filters.sort or OrderSort.NEWEST
    column, descending = SORT_KEYS[sort]
    fx = OrderFx
    query = _filtered(sa.select(
        Order.id, column.label("sort_key"), Order.external_id, Channel.name, Order.placed_at, Order.status,
        Order.currency, Order.subtotal, Order.discount_total, Order.shipping_total, Order.tax_total,
        Order.grand_total, Order.refunded_total, fx.base_currency, fx.grand_total, fx.rate, fx.rate_as_of,
        Order.buyer_name, Order.buyer_email, Order.ship_country,
    ).join(Channel, Channel.id == Order.channel_id).outerjoin(fx, fx.order_id == Order.id), actor, filters)
    edge: tuple[Any, int] | None = None
    while True:
        rows = session.execute(_ordered(query, sort, descending, edge).limit(batch)).all()
        for row in rows:
            (_, _, external_id, channel, placed_at, status, currency, *amounts, base_currency, base_total, rate,
             rate_as_of, buyer_name, buyer_email, ship_country) = row
            cells = [external_id, channel, ensure_utc(placed_at).isoformat(), str(status), currency,
                     *(Money(a, currency).rounded().amount for a in amounts),
                     base_currency or "", Money(base_total, base_currency).rounded().amount if base_currency else "",
                     rate.normalize() if rate is not None else "", rate_as_of.isoformat() if rate_as_of else "",
                     buyer_name, buyer_email or "", ship_country or ""]
            yield tuple(csv_safe(cell) for cell in cells)
        if len(rows) < batch:
            return
        edge = (rows[-1].sort_key, rows[-1].id)


def export_csv(session: Session, actor: Actor, filters: OrderListQuery, batch: int = EXPORT_BATCH) -> Iterator[str]:
    """The export as CSV text: the header, then one chunk per batch of rows."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_HEADER)
    chunk = 0
    for cells in export_rows(session, actor, filters, batch):
        writer.writerow(cells)
        chunk += 1
        if chunk == batch:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
            chunk = 0
    yield out.getvalue()


def move(session: Session, actor: Actor, order_id: int, data: StatusMove) -> Order:
    actor.require(Role.STAFF, "change orders")
    order = get_order(session, actor, order_id, for_update=True)
    target = data.status
    check_move(order.status, target)
    if target is S.PARTIALLY_FULFILLED:
        raise ValidationError("record a shipment with the lines shipped to fulfil part of an order",
                              fields={"status": "use the shipment endpoint"})
    if target is S.FULFILLED:
        return ship(session, actor, order_id, ShipmentIn(), note=data.note)
    if target is S.REFUNDED:
        order.refunded_total = order.grand_total
    if target is S.PARTIALLY_REFUNDED:
        target = _partial_refund(order, data.amount)  # refunded once the refunds reach the total
    if target in (S.CANCELLED, S.REFUNDED):
        # A closed order holds nothing: give back every unit it still has reserved (none once shipped).
        # Reservations, not the previous status, say what is held: paid -> partially_refunded keeps them.
        for line in order.lines:
            stock.release_line(session, actor, line, reason=f"order {order.external_id} {target}")
    _transition(order, actor, target, data.note)
    return order


def _partial_refund(order: Order, amount: Decimal | None) -> OrderStatus:
    refund = exact(amount, order.currency, "amount")
    left = order.money(order.grand_total) - order.money(order.refunded_total)
    if refund > left:
        raise ValidationError(f"cannot refund {refund}: only {left} is left to refund",
                              fields={"amount": f"at most {left.amount}"})
    order.refunded_total = (order.money(order.refunded_total) + refund).amount
    return S.REFUNDED if refund == left else S.PARTIALLY_REFUNDED


def _transition(order: Order, actor: Actor, target: OrderStatus, note: str = "") -> None:
    previous = order.status
    check_move(previous, target)
    order.status = target
    order.updated_at = utcnow()
    _event(order, actor, "status", note, from_status=previous, to_status=target)
    # Every status change of the hub's own moves (move, ship) passes here: the one place that announces them.
    outbox.emit_status(object_session(order), order, previous)


def ship(session: Session, actor: Actor, order_id: int, data: ShipmentIn, note: str = "") -> Order:
    """Record a shipment of some or all open units; consumes their reserved stock."""
    actor.require(Role.STAFF, "ship orders")
    order = get_order(session, actor, order_id, for_update=True)
    if order.status not in (S.PAID, S.PARTIALLY_FULFILLED):
        raise IllegalTransition(f"an order that is {order.status} cannot ship; only paid orders ship",
                                fields={"status": str(order.status)})
    by_id = {line.id: line for line in order.lines}
    wanted = ([(by_id.get(item.line_id), item.quantity, item.line_id) for item in data.lines] if data.lines
              else [(line, line.quantity_open, line.id) for line in order.lines if line.quantity_open])
    errors: dict[str, str] = {}
    seen: set[int] = set()
    for i, (line, quantity, line_id) in enumerate(wanted):
        if line is None:
            errors[f"lines[{i}].line_id"] = f"order {order.id} has no line {line_id}"
        elif line_id in seen:
            errors[f"lines[{i}].line_id"] = "line listed twice"
        elif quantity > line.quantity_open:
            errors[f"lines[{i}].quantity"] = f"only {line.quantity_open} left to ship"
        seen.add(line_id)
    if errors or not wanted:
        raise ValidationError("; ".join(errors.values()) or "nothing left to ship", fields=errors)

    # A marketplace order's shipment is reported back to the marketplace (hub.sync.fulfilment); a direct one
    # has nobody to tell.
    fulfillment = Fulfillment(seller_id=order.seller_id, carrier=data.carrier,
                              tracking_number=data.tracking_number, user_id=actor.user_id,
                              channel_status="not_needed" if order.channel.kind == DIRECT else "pending")
    order.fulfillments.append(fulfillment)
    for line, quantity, _ in wanted:
        if line.product_id is not None:
            stock.ship_from_line(session, actor, line, quantity, reason=f"order {order.external_id} shipped")
        line.quantity_fulfilled += quantity
        fulfillment.lines.append(FulfillmentLine(seller_id=order.seller_id, order_line_id=line.id, quantity=quantity))
    done = all(line.quantity_open == 0 for line in order.lines)
    shipped = ", ".join(f"{q} x {line.sku}" for line, q, _ in wanted)
    tracking = f" via {data.carrier} {data.tracking_number}".rstrip() if data.carrier else ""
    target = S.FULFILLED if done else S.PARTIALLY_FULFILLED
    if target is order.status:  # another partial shipment: the status stays, the timeline records it
        _event(order, actor, "shipment", f"shipped {shipped}{tracking}. {note}".strip())
    else:
        _transition(order, actor, target, f"shipped {shipped}{tracking}. {note}".strip())
    return order


def totals_of(order: Order) -> dict[str, Money]:
    return {name: order.money(getattr(order, name)) for name in
            ("subtotal", "discount_total", "shipping_total", "tax_total", "grand_total", "refunded_total")}
