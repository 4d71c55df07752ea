"""A seller's small shop for the recommendation tests: products, channels and orders written straight to the
tables (the order services are tested elsewhere; here only what the recommender reads matters)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from hub.catalog.models import Product
from hub.channels.models import Channel, Listing
from hub.customers.models import Customer
from hub.orders.models import Order, OrderLine
from hub.orders.status import OrderStatus
from hub.timeutil import utcnow
from tests.api.conftest import member_of  # noqa: F401 - the API tests' fixture, for the role checks

NOW = utcnow().replace(microsecond=0)


class Shop:
    """Builds one seller's rows; every method commits, so the code under test sees them."""

    def __init__(self, sessions: sessionmaker[Session], seller_id: int):
        self.sessions, self.seller_id = sessions, seller_id
        self._numbers = itertools.count(1)
        self.products: dict[str, int] = {}
        self.channels: dict[str, int] = {}

    def product(self, sku: str, *, consumable: bool = False, active: bool = True) -> int:
        with self.sessions.begin() as session:
            row = Product(seller_id=self.seller_id, sku=sku, title=f"Product {sku}", base_price=Decimal("10.00"),
                          currency="EUR", consumable=consumable, is_active=active)
            session.add(row)
            session.flush()
            self.products[sku] = row.id
            return row.id

    def channel(self, name: str, kind: str = "woocommerce") -> int:
        with self.sessions.begin() as session:
            row = Channel(seller_id=self.seller_id, kind=kind, name=name, currency="EUR")
            session.add(row)
            session.flush()
            self.channels[name] = row.id
            return row.id

    def listing(self, channel: str, sku: str, active: bool = True) -> None:
        with self.sessions.begin() as session:
            session.add(Listing(seller_id=self.seller_id, channel_id=self.channels[channel], channel_sku=sku,
                                product_id=self.products[sku], is_active=active, push_error=""))

    def customer(self, email: str) -> int:
        with self.sessions.begin() as session:
            row = Customer(seller_id=self.seller_id, name=email.split("@")[0], email_key=email)
            session.add(row)
            session.flush()
            return row.id

    def order(self, skus: list[str], *, channel: str, customer_id: int | None = None, email: str | None = None,
              country: str = "DE", days_ago: float = 10, status: OrderStatus = OrderStatus.DELIVERED,
              quantity: int = 1) -> int:
        placed = NOW - timedelta(days=days_ago)
        n = next(self._numbers)
        with self.sessions.begin() as session:
            lines = [OrderLine(seller_id=self.seller_id, line_no=i + 1, sku=sku, product_id=self.products[sku],
                               title=sku, quantity=quantity, unit_price=Decimal("10.00"),
                               line_total=Decimal("10.00") * quantity) for i, sku in enumerate(skus)]
            total = sum((line.line_total for line in lines), Decimal(0))
            row = Order(seller_id=self.seller_id, channel_id=self.channels[channel], external_id=f"T-{n}",
                        status=status, currency="EUR", subtotal=total, discount_total=Decimal(0),
                        shipping_total=Decimal(0), tax_total=Decimal(0), grand_total=total, buyer_name="Buyer",
                        buyer_email=email, ship_country=country, placed_at=placed, updated_at=placed,
                        customer_id=customer_id, lines=lines)
            session.add(row)
            session.flush()
            return row.id


@pytest.fixture
def shop_for(sessions: sessionmaker[Session]) -> Callable[[Any], Shop]:
    return lambda account: Shop(sessions, account.seller_id)


def rows(sessions: sessionmaker[Session], statement: Any) -> list[Any]:
    with sessions() as session:
        return list(session.execute(statement).all())


def count(sessions: sessionmaker[Session], model: Any, seller_id: int | None = None) -> int:
    query = sa.select(sa.func.count()).select_from(model)
    if seller_id is not None:
        query = query.where(model.seller_id == seller_id)
    with sessions() as session:
        return int(session.scalar(query) or 0)


def at(days_ago: float) -> datetime:
    return NOW - timedelta(days=days_ago)
