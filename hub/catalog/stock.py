"""Stock: levels per product and warehouse, changed only together with a ledger row.

Every change is one conditional UPDATE (`... WHERE on_hand + dh >= reserved + dr`) followed by an
insert into the append-only ledger, in the caller's transaction. The condition makes reservation
safe under concurrency without a read-then-write race: on PostgreSQL a concurrent UPDATE of the
same row waits and re-checks the condition against the committed row; on SQLite the write lock
serialises the transactions. Levels therefore always equal the ledger's sums.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from hub.accounts.actor import Actor
from hub.accounts.models import Role
from hub.catalog.models import MovementKind, Product, StockLevel, StockMovement, StockReservation, Warehouse
from hub.catalog.products import find_by_sku, get_product
from hub.catalog.schemas import StockAdjustment, StockReceipt, WarehouseIn
from hub.db import insert_ignoring_duplicates, unique_or_raise
from hub.errors import Conflict, InsufficientStock, ValidationError
from hub.orders.models import OrderLine
from hub.outbox.payloads import emit_stock_low
from hub.reports import LOW_STOCK_THRESHOLD
from hub.timeutil import utcnow

# Far beyond any warehouse, and inside the INTEGER columns: a larger count is a typo, refused as input.
MAX_UNITS = 1_000_000_000


@dataclass(frozen=True)
class Change:
    kind: MovementKind
    on_hand: int = 0
    reserved: int = 0
    reason: str = ""
    order_id: int | None = None


# --- warehouses --------------------------------------------------------------------------------

def create_warehouse(session: Session, actor: Actor, data: WarehouseIn) -> Warehouse:
    actor.require(Role.STAFF, "create warehouses")
    warehouse = Warehouse(seller_id=actor.acting_seller("create warehouses"), **data.model_dump())
    def taken() -> Conflict:
        return Conflict(f"warehouse {data.code} already exists", fields={"code": "already used"})

    with unique_or_raise(session, taken):
        session.add(warehouse)
    return warehouse


def list_warehouses(session: Session, actor: Actor) -> list[Warehouse]:
    return list(session.scalars(sa.select(Warehouse).where(actor.sees(Warehouse.seller_id))
                                .order_by(Warehouse.priority, Warehouse.id)))


def warehouse_by_code(session: Session, seller_id: int, code: str) -> Warehouse:
    warehouse = session.scalar(sa.select(Warehouse).where(Warehouse.seller_id == seller_id, Warehouse.code == code))
    if warehouse is None:
        raise ValidationError(f"no warehouse with code {code!r}", fields={"warehouse": "unknown warehouse"})
    return warehouse


# --- levels ------------------------------------------------------------------------------------

def levels_for(session: Session, actor: Actor, product_id: int) -> list[StockLevel]:
    product = get_product(session, actor, product_id)
    return list(session.scalars(sa.select(StockLevel).join(Warehouse).where(StockLevel.product_id == product.id)
                                .order_by(Warehouse.priority, Warehouse.id)))


def list_levels(session: Session, actor: Actor, *, sku: str = "", warehouse: str = "",
                after_id: int = 0, limit: int = 100) -> list[StockLevel]:
    query = (sa.select(StockLevel).join(Product).join(Warehouse)
             .where(actor.sees(StockLevel.seller_id), StockLevel.id > after_id, Product.deleted_at.is_(None)))
    if sku:
        query = query.where(Product.sku == sku)
    if warehouse:
        query = query.where(Warehouse.code == warehouse)
    return list(session.scalars(query.order_by(StockLevel.id).limit(limit)))


def levels_of_products(session: Session, actor: Actor, product_ids: list[int]) -> list[StockLevel]:
    """The levels of a page of products (the dashboard's stock grid); levels of other sellers never."""
    if not product_ids:
        return []
    return list(session.scalars(sa.select(StockLevel).where(
        actor.sees(StockLevel.seller_id), StockLevel.product_id.in_(product_ids))))


def _level_id(session: Session, seller_id: int, product_id: int, warehouse_id: int) -> int:
    def existing() -> int | None:
        return session.scalar(sa.select(StockLevel.id).where(
            StockLevel.product_id == product_id, StockLevel.warehouse_id == warehouse_id))

    # Usually there: one SELECT. The first change of a product in a warehouse makes the row, racing safely.
    found = existing()
    if found is not None:
        return found
    insert_ignoring_duplicates(session, StockLevel.__table__, {
        "seller_id": seller_id, "product_id": product_id, "warehouse_id": warehouse_id, "on_hand": 0, "reserved": 0,
    })
    return existing()


def apply_change(session: Session, actor: Actor, product_id: int, warehouse_id: int, change: Change,
                 seller_id: int | None = None, level_id: int | None = None) -> bool:
    """Apply one change and record it; False (and nothing written) if it would break a stock rule.

    `seller_id` defaults to the actor's; a platform admin moving a seller's order passes the order's.
    `level_id`, when the caller has just read it, saves looking the level up again.
    """
    seller_id = seller_id or actor.seller_id
    level_id = level_id or _level_id(session, seller_id, product_id, warehouse_id)
    result = session.execute(
        sa.update(StockLevel)
        .where(StockLevel.id == level_id,
               StockLevel.reserved + change.reserved >= 0,
               StockLevel.on_hand + change.on_hand <= MAX_UNITS,
               StockLevel.on_hand + change.on_hand >= StockLevel.reserved + change.reserved)
        .values(on_hand=StockLevel.on_hand + change.on_hand, reserved=StockLevel.reserved + change.reserved)
        .returning(StockLevel.on_hand - StockLevel.reserved)
        .execution_options(synchronize_session=False)
    )
    available = result.scalar_one_or_none()
    if available is None:
        return False
    session.execute(sa.insert(StockMovement).values(
        seller_id=seller_id, product_id=product_id, warehouse_id=warehouse_id, kind=change.kind,
        on_hand_delta=change.on_hand, reserved_delta=change.reserved, reason=change.reason[:255],
        user_id=actor.user_id, order_id=change.order_id, created_at=utcnow(),
    ))
    _announce_low(session, seller_id, product_id, warehouse_id, available + change.reserved - change.on_hand,
                  available)
    # The UPDATE bypassed the identity map; make a loaded level re-read its row.
    loaded = session.identity_map.get(identity_key(StockLevel, level_id))
    if loaded is not None:
        session.expire(loaded)
    return True


def _announce_low(session: Session, seller_id: int, product_id: int, warehouse_id: int, before: int,
                  after: int) -> None:
    """stock.low when available stock crosses down to the overview's low-stock line (hub.reports), in the change's
    transaction; changes that stay below it say nothing more, and climbing back above re-arms it."""
    if not (before > LOW_STOCK_THRESHOLD >= after):
        return
    sku = session.scalar(sa.select(Product.sku).where(Product.id == product_id, Product.deleted_at.is_(None),
                                                      Product.is_active.is_(True)))
    if sku is None:  # the overview lists active products only: nobody is selling the others
        return
    code = session.scalar(sa.select(Warehouse.code).where(Warehouse.id == warehouse_id))
    emit_stock_low(session, seller_id, product_id=product_id, sku=sku, warehouse_id=warehouse_id, warehouse=code,
                   available=after, threshold=LOW_STOCK_THRESHOLD)


def _product_and_warehouse(session: Session, actor: Actor, sku: str, code: str) -> tuple[Product, Warehouse]:
    product = find_by_sku(session, actor.acting_seller("change stock"), sku)
    if product is None:
        raise ValidationError(f"no product with SKU {sku!r}", fields={"sku": "unknown SKU"})
    return product, warehouse_by_code(session, actor.seller_id, code)


def receive(session: Session, actor: Actor, data: StockReceipt) -> StockLevel:
    actor.require(Role.STAFF, "receive stock")
    product, warehouse = _product_and_warehouse(session, actor, data.sku, data.warehouse)
    if not apply_change(session, actor, product.id, warehouse.id,
                        Change(MovementKind.RECEIPT, on_hand=data.quantity, reason=data.reason or "receipt")):
        raise ValidationError(f"{data.sku} in {data.warehouse} would hold more than {MAX_UNITS:,} units",
                              fields={"quantity": f"on hand may not exceed {MAX_UNITS:,}"})
    return _level(session, product.id, warehouse.id)


def adjust(session: Session, actor: Actor, data: StockAdjustment) -> StockLevel:
    actor.require(Role.STAFF, "adjust stock")
    product, warehouse = _product_and_warehouse(session, actor, data.sku, data.warehouse)
    if not apply_change(session, actor, product.id, warehouse.id,
                        Change(MovementKind.ADJUSTMENT, on_hand=data.delta, reason=data.reason)):
        level = _level(session, product.id, warehouse.id)
        raise InsufficientStock(
            f"cannot lower {data.sku} in {data.warehouse} by {-data.delta}: on hand {level.on_hand}, "
            f"reserved {level.reserved}, so at most {level.available} can be removed",
            fields={"delta": f"at least {-level.available}"})
    return _level(session, product.id, warehouse.id)


def _level(session: Session, product_id: int, warehouse_id: int) -> StockLevel:
    return session.scalars(sa.select(StockLevel).where(
        StockLevel.product_id == product_id, StockLevel.warehouse_id == warehouse_id
    ).execution_options(populate_existing=True)).one()


def movements(session: Session, actor: Actor, product_id: int, limit: int = 200) -> list[StockMovement]:
    product = get_product(session, actor, product_id, include_deleted=True)
    return list(session.scalars(sa.select(StockMovement).where(StockMovement.product_id == product.id)
                                .order_by(StockMovement.id.desc()).limit(limit)))


# --- reservations (used by the order services) -----------------------------------------------

def reserve_line(session: Session, actor: Actor, line: OrderLine) -> None:
    """Hold `line.quantity` units, from the highest-priority warehouses first, or raise."""
    short = reserve_available(session, actor, line)
    if short:
        raise InsufficientStock(
            f"not enough stock for {line.sku}: {line.quantity} ordered, {line.quantity - short} available",
            fields={f"lines[{line.line_no - 1}].quantity": f"only {line.quantity - short} available"})


def reserve_available(session: Session, actor: Actor, line: OrderLine, quantity: int | None = None) -> int:
    """Hold up to `quantity` (default: the line's) units, highest-priority warehouses first; returns how many
    could not be held. A marketplace order has already been sold, so its import keeps what it can and the
    shortfall is flagged (oversold) instead of refused; `reserve_line` refuses instead (orders made here)."""
    remaining = line.quantity if quantity is None else quantity
    candidates = session.execute(
        sa.select(StockLevel.id, StockLevel.warehouse_id, StockLevel.on_hand - StockLevel.reserved)
        .join(Warehouse).where(StockLevel.product_id == line.product_id, Warehouse.is_active.is_(True),
                               StockLevel.on_hand > StockLevel.reserved)
        .order_by(Warehouse.priority, Warehouse.id)
    ).all()
    for level_id, warehouse_id, available in candidates:
        if remaining == 0:
            break
        # `available` may be stale by now: the conditional update is the real check, so step down.
        take = min(available, remaining)
        while take > 0 and not apply_change(session, actor, line.product_id, warehouse_id, Change(
                MovementKind.RESERVATION, reserved=take, reason=f"order line {line.line_no}", order_id=line.order_id),
                seller_id=line.seller_id, level_id=level_id):
            take = min(take - 1, _available(session, line.product_id, warehouse_id))
        if take > 0:
            session.add(StockReservation(seller_id=line.seller_id, order_line_id=line.id,
                                         product_id=line.product_id, warehouse_id=warehouse_id, quantity=take))
            remaining -= take
    session.flush()
    return remaining


def _available(session: Session, product_id: int, warehouse_id: int) -> int:
    value = session.scalar(sa.select(StockLevel.on_hand - StockLevel.reserved).where(
        StockLevel.product_id == product_id, StockLevel.warehouse_id == warehouse_id))
    return max(value or 0, 0)


def _reservations(session: Session, line: OrderLine) -> list[StockReservation]:
    return list(session.scalars(sa.select(StockReservation).where(
        StockReservation.order_line_id == line.id, StockReservation.quantity > 0).order_by(StockReservation.id)))


def release_line(session: Session, actor: Actor, line: OrderLine, reason: str) -> int:
    """Give back every unit still held for the line; returns how many."""
    released = 0
    for held in _reservations(session, line):
        ok = apply_change(session, actor, held.product_id, held.warehouse_id, Change(
            MovementKind.RELEASE, reserved=-held.quantity, reason=reason, order_id=line.order_id),
            seller_id=line.seller_id)
        if not ok:  # cannot happen while the CHECKs hold; never hide it
            raise RuntimeError(f"reservation {held.id} exceeds its level")
        released += held.quantity
        held.quantity = 0
    return released


def ship_from_line(session: Session, actor: Actor, line: OrderLine, quantity: int, reason: str) -> None:
    """Consume `quantity` held units of the line: they leave on-hand and reserved together."""
    remaining = quantity
    for held in _reservations(session, line):
        take = min(held.quantity, remaining)
        ok = apply_change(session, actor, held.product_id, held.warehouse_id, Change(
            MovementKind.SHIPMENT, on_hand=-take, reserved=-take, reason=reason, order_id=line.order_id),
            seller_id=line.seller_id)
        if not ok:
            raise RuntimeError(f"reservation {held.id} exceeds its level")
        held.quantity -= take
        remaining -= take
        if remaining == 0:
            return
    if remaining:
        raise InsufficientStock(f"{line.sku}: {remaining} of {quantity} units to ship are not reserved")
