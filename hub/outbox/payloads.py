"""What an event says: small JSON-safe documents built from the row that changed.

Amounts travel as {"amount": "12.50", "currency": "EUR"} (strings, rounded to the currency's minor units: a
JSON number would become a float in most consumers), ids as integers, times as ISO 8601 UTC. A consumer that
needs more asks the API for the order by id; the event is a notice, not a copy.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from hub.money import Money
from hub.orders.models import Order
from hub.orders.status import OrderStatus
from hub.outbox.emit import emit
from hub.outbox.models import EventKind, OutboxEvent
from hub.timeutil import utcnow

S = OrderStatus
# The status an order reaches -> the event announcing it. Pending and cancelled announce nothing (no kind).
KIND_OF_STATUS: dict[OrderStatus, EventKind] = {
    S.PAID: EventKind.ORDER_PAID,
    S.PARTIALLY_FULFILLED: EventKind.ORDER_SHIPPED,
    S.FULFILLED: EventKind.ORDER_SHIPPED,
    S.DELIVERED: EventKind.ORDER_DELIVERED,
    S.PARTIALLY_REFUNDED: EventKind.ORDER_REFUNDED,
    S.REFUNDED: EventKind.ORDER_REFUNDED,
}


def money(amount: Decimal | None, currency: str) -> dict[str, str]:
    value = Money(amount or Decimal(0), currency).rounded()
    return {"amount": str(value.amount), "currency": value.currency}


def order_payload(order: Order, previous: OrderStatus | None) -> dict[str, Any]:
    return {
        "seller_id": order.seller_id, "order_id": order.id, "channel_id": order.channel_id,
        "external_id": order.external_id, "status": str(order.status),
        "previous_status": str(previous) if previous is not None else None,
        "grand_total": money(order.grand_total, order.currency),
        "refunded_total": money(order.refunded_total, order.currency),
        "occurred_at": utcnow().isoformat(),
    }


def emit_imported(session: Session, order: Order) -> OutboxEvent:
    """order.imported: the order entered the hub (pulled from a marketplace or created here), in any status."""
    return emit(session, order.seller_id, EventKind.ORDER_IMPORTED, f"order:{order.id}", order_payload(order, None))


def emit_status(session: Session, order: Order, previous: OrderStatus) -> OutboxEvent | None:
    """The event of the order's move from `previous` to its current status, if that status has one."""
    kind = KIND_OF_STATUS.get(OrderStatus(order.status))
    if kind is None:
        return None
    return emit(session, order.seller_id, kind, f"order:{order.id}", order_payload(order, previous))


def emit_stock_low(session: Session, seller_id: int, *, product_id: int, sku: str, warehouse_id: int,
                   warehouse: str, available: int, threshold: int) -> OutboxEvent:
    return emit(session, seller_id, EventKind.STOCK_LOW, f"product:{product_id}", {
        "seller_id": seller_id, "product_id": product_id, "sku": sku, "warehouse_id": warehouse_id,
        "warehouse": warehouse, "available": available, "threshold": threshold, "occurred_at": utcnow().isoformat(),
    })
