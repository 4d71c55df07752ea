"""Orders of one buyer arriving from several channels, through the real import path (hub.sync.apply)."""

from __future__ import annotations

import itertools
from dataclasses import replace
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from hub.channels.models import Channel
from hub.channels.port import ChannelAddress
from hub.customers.models import Customer, CustomerLink
from hub.orders.models import Order
from hub.sync.apply import apply_order
from tests.sync.fakes import channel_order

BERLIN = {"line1": "Torstraße 1", "city": "Berlin", "postal_code": "10115", "country": "DE"}
MUNICH = {"line1": "Marienplatz 8", "city": "München", "postal_code": "80331", "country": "DE"}
_numbers = itertools.count(1)


def make_channels(sessions: sessionmaker[Session], seller_id: int, *kinds: str) -> dict[str, int]:
    """One channel per kind (no credentials: nothing here calls the marketplace); kind -> channel id."""
    with sessions.begin() as session:
        rows = [Channel(seller_id=seller_id, kind=kind, name=f"{kind.title()} {next(_numbers)}", currency="EUR",
                        options={}, schedule={}) for kind in kinds]
        session.add_all(rows)
        session.flush()
        return {row.kind: row.id for row in rows}


def import_order(sessions: sessionmaker[Session], channel_id: int, external_id: str, *, name: str = "Anna Schmidt",
                 email: str | None = None, phone: str | None = None, address: dict[str, str] | None = None,
                 raw: dict[str, Any] | None = None, currency: str = "EUR", total: str = "10.00") -> int:
    """Import an order as its connector maps it; returns the order's id."""
    place = address or BERLIN
    order = replace(channel_order(external_id, currency=currency), buyer_name=name, buyer_email=email,
                    buyer_phone=phone, ship_to_country=place["country"],
                    shipping_address=ChannelAddress(name=name, **place), raw={"id": external_id, **(raw or {})},
                    total=Decimal(total), subtotal=Decimal(total))
    with sessions.begin() as session:
        channel = session.get(Channel, channel_id)
        session.info["seller_id"] = channel.seller_id
        _, order_id = apply_order(session, channel, order)
        return order_id


def customer_of(sessions: sessionmaker[Session], order_id: int) -> tuple[int | None, str]:
    with sessions() as session:
        order = session.get(Order, order_id)
        return order.customer_id, order.customer_match


def link_of(sessions: sessionmaker[Session], order_id: int) -> CustomerLink:
    with sessions() as session:
        return session.scalars(sa.select(CustomerLink).where(CustomerLink.order_id == order_id)).one()


def count_customers(sessions: sessionmaker[Session], seller_id: int) -> int:
    with sessions() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(Customer).where(Customer.seller_id == seller_id))


def customer_ids(sessions: sessionmaker[Session], order_id: int) -> dict[str, int]:
    """{"customer_id": the profile of the order}: the id the dashboard's customer routes take (access tests)."""
    customer_id = customer_of(sessions, order_id)[0]
    assert customer_id is not None, f"order {order_id} is linked to no customer"
    return {"customer_id": customer_id}
