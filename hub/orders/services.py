"""Order use cases: create (with reservation), list, get, move through the state machine, ship.

Stock follows the order: creating reserves, cancelling or refunding before shipment releases,
shipping consumes. Every change lands on the order's timeline in the same transaction.
"""

from __future__ import annotations

import secrets
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from hub.accounts.actor import Actor
from hub.accounts.models import Role, Seller
from hub.catalog import stock
from hub.catalog.models import Product
from hub.channels.models import DIRECT, Channel
from hub.currency.snapshots import take_snapshot
from hub.db import unique_or_raise
from hub.errors import Conflict, IllegalTransition, NotFound, ValidationError
from hub.money import Money
from hub.orders.models import Fulfillment, FulfillmentLine, Order, OrderEvent, OrderLine
from hub.orders.schemas import OrderFilters, OrderIn, ShipmentIn, StatusMove
from hub.orders.status import OrderStatus, check_move
from hub.orders.totals import LinePrice, exact, order_totals
from hub.timeutil import utcnow

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


def list_orders(session: Session, actor: Actor, filters: OrderFilters) -> list[Order]:
    """Newest first, keyset-paginated on id (`after` is the last id of the previous page)."""
    query = sa.select(Order).where(actor.sees(Order.seller_id))
    if filters.status:
        query = query.where(Order.status == filters.status)
    if filters.channel:
        query = query.join(Channel).where(Channel.name == filters.channel)
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
        term = filters.q.strip()
        like = f"%{term.lower()}%"
        by_sku = sa.exists().where(OrderLine.order_id == Order.id, OrderLine.sku == term)
        query = query.where(sa.or_(Order.external_id == term, sa.func.lower(Order.buyer_name).like(like),
                                   sa.func.lower(Order.buyer_email) == term.lower(), by_sku))
    if filters.after:
        query = query.where(Order.id < filters.after)
    return list(session.scalars(query.order_by(Order.id.desc()).limit(filters.limit)
                                .options(selectinload(Order.lines))))


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
