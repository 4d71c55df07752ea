"""The order status state machine, the same for every channel.

    pending ──► paid ──► partially_fulfilled ──► fulfilled ──► delivered
       │         │  │            │                  │             │
       ▼         │  └───────────►│◄─────────────────┘             │
   cancelled ◄───┘               ▼                                ▼
                          partially_refunded ─────────────► refunded

Refunds may follow payment at any point; a cancelled or refunded order is final.
"""

from __future__ import annotations

import enum

from hub.errors import IllegalTransition


class OrderStatus(enum.StrEnum):
    PENDING = "pending"
    PAID = "paid"
    PARTIALLY_FULFILLED = "partially_fulfilled"
    FULFILLED = "fulfilled"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"


S = OrderStatus

TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PENDING: frozenset({S.PAID, S.CANCELLED}),
    S.PAID: frozenset({S.PARTIALLY_FULFILLED, S.FULFILLED, S.CANCELLED, S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.PARTIALLY_FULFILLED: frozenset({S.FULFILLED, S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.FULFILLED: frozenset({S.DELIVERED, S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.DELIVERED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.PARTIALLY_REFUNDED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.CANCELLED: frozenset(),
    S.REFUNDED: frozenset(),
}


def allowed_moves(current: OrderStatus) -> frozenset[OrderStatus]:
    return TRANSITIONS[current]


def check_move(current: OrderStatus, target: OrderStatus) -> None:
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none: the order is closed"
        raise IllegalTransition(
            f"an order cannot move from {current} to {target} (allowed from {current}: {allowed})",
            fields={"status": f"cannot move from {current} to {target}"},
        )
