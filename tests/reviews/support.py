"""Orders of a buyer (a Customer) built through the real order services, moved to the status a test needs."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from hub.accounts.actor import Actor
from hub.customers.models import Customer
from hub.orders import services as orders
from hub.orders.schemas import StatusMove
from hub.orders.status import OrderStatus
from tests.integration.helpers import place_order, stocked_product

PATH = {
    OrderStatus.PENDING: [],
    OrderStatus.PAID: [OrderStatus.PAID],
    OrderStatus.FULFILLED: [OrderStatus.PAID, OrderStatus.FULFILLED],
    OrderStatus.DELIVERED: [OrderStatus.PAID, OrderStatus.FULFILLED, OrderStatus.DELIVERED],
}


@dataclass(frozen=True)
class Bought:
    order_id: int
    line_ids: list[int]
    customer_id: int
    channel_id: int


def customer(sessions: sessionmaker[Session], seller_id: int, name: str = "Anna Schmidt") -> int:
    with sessions.begin() as session:
        row = Customer(seller_id=seller_id, name=name, email_key=f"{name.split()[0].lower()}@example.com")
        session.add(row)
        session.flush()
        return row.id


def products(sessions: sessionmaker[Session], actor: Actor, *skus: str) -> dict[str, int]:
    return {sku: stocked_product(sessions, actor, sku, warehouses={"BER": 50}) for sku in skus}


def buy(sessions: sessionmaker[Session], actor: Actor, customer_id: int, skus: list[str],
        status: OrderStatus = OrderStatus.DELIVERED) -> Bought:
    with sessions.begin() as session:
        session.info["seller_id"] = actor.seller_id
        order = place_order(session, actor, [(sku, 1) for sku in skus])
        order.customer_id = customer_id
        for step in PATH[status]:
            orders.move(session, actor, order.id, StatusMove(status=step))
        return Bought(order.id, [line.id for line in sorted(order.lines, key=lambda ln: ln.line_no)], customer_id,
                      order.channel_id)
