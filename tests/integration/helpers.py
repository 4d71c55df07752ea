"""Service-level helpers for integration tests: build a catalog and orders through the real services."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from hub.accounts.actor import Actor
from hub.catalog import products, stock
from hub.catalog.schemas import ProductIn, StockReceipt, WarehouseIn
from hub.orders import services as orders
from hub.orders.models import Order
from hub.orders.schemas import OrderIn

ADDRESS = {"name": "Anna Schmidt", "line1": "Torstraße 1", "city": "Berlin", "postal_code": "10119", "country": "DE"}


def stocked_product(sessions: sessionmaker[Session], actor: Actor, sku: str = "TEA-1",
                    warehouses: dict[str, int] | None = None, price: str = "10.00") -> int:
    warehouses = {"BER": 10} if warehouses is None else warehouses
    with sessions.begin() as session:
        session.info["seller_id"] = actor.seller_id
        existing = {w.code for w in stock.list_warehouses(session, actor)}
        for priority, code in enumerate(warehouses):
            if code not in existing:
                stock.create_warehouse(session, actor, WarehouseIn(code=code, name=code, country="DE",
                                                                   priority=priority))
        product = products.create_product(session, actor, ProductIn(sku=sku, title=sku, base_price=Decimal(price)))
        for code, qty in warehouses.items():
            if qty:
                stock.receive(session, actor, StockReceipt(sku=sku, warehouse=code, quantity=qty))
        return product.id


def place_order(session: Session, actor: Actor, lines: list[tuple[str, int]], **extra: object) -> Order:
    return orders.create_order(session, actor, OrderIn.model_validate({
        "buyer": {"name": "Anna Schmidt", "email": "anna@example.com"},
        "shipping_address": ADDRESS,
        "lines": [{"sku": sku, "quantity": qty, "unit_price": "10.00"} for sku, qty in lines],
        **extra,
    }))
