"""Listings: get-or-create without races, linking the catalogue, mapping a SKU and re-linking waiting order lines."""


from __future__ import annotations

import pytest
import sqlalchemy as sa

from hub.accounts.actor import Actor
from hub.accounts.models import Role
from hub.catalog.models import Product, StockLevel
from hub.channels.models import Listing
from hub.errors import NotFound, PermissionDenied
from hub.orders.models import OrderEvent, OrderLine
from hub.orders.status import OrderStatus
from hub.sync.listings import link_all_products, listing_for, map_sku, relink_order_lines
from tests.integration.helpers import stocked_product
from tests.sync.push_support import link, listings, marketplace_order


def test_listing_for_creates_once_and_then_finds(sessions, alice, fake_channel):
    channel = fake_channel(alice.seller_id)
    with sessions.begin() as session:
        session.info["seller_id"] = alice.seller_id
        first = listing_for(session, channel, "X-1")
        again = listing_for(session, channel, "X-1")
        assert first.id == again.id and first.product_id is None and first.is_active
    with sessions.begin() as session:  # another transaction, as a second import would be
        assert listing_for(session, channel, "X-1").id == first.id
        assert session.scalar(sa.select(sa.func.count()).select_from(Listing)) == 1


def test_link_all_products_lists_active_products_once(sessions, alice, bob, fake_channel):
    for sku in ("A", "B", "C", "D"):
        stocked_product(sessions, alice.actor, sku)
    stocked_product(sessions, bob.actor, "BOBS")
    channel = fake_channel(alice.seller_id)
    with sessions.begin() as session:
        session.info["seller_id"] = alice.seller_id
        session.scalars(sa.select(Product).where(Product.sku == "C")).one().is_active = False
        listing_for(session, channel, "D")  # a SKU already on the channel, unlinked: left for map_sku
    assert link(sessions, channel) == 2
    assert link(sessions, channel) == 0
    rows = listings(sessions, channel)
    assert sorted(rows) == ["A", "B", "D"]
    assert rows["A"].product_id is not None and rows["D"].product_id is None


def test_map_sku_links_waiting_lines_and_reserves_what_is_there(sessions, alice, fake_channel):
    product_id = stocked_product(sessions, alice.actor, "TEA-1", {"BER": 5})
    channel = fake_channel(alice.seller_id)
    older = marketplace_order(sessions, alice.actor, channel, "M-1", [("tea one", 3, "l1")], {})
    newer = marketplace_order(sessions, alice.actor, channel, "M-2", [("tea one", 4, "l1")], {})
    closed = marketplace_order(sessions, alice.actor, channel, "M-3", [("tea one", 2, "l1")], {},
                               status=OrderStatus.CANCELLED)
    with sessions.begin() as session:
        session.info["seller_id"] = alice.seller_id
        listing = map_sku(session, alice.actor, channel.id, "tea one", product_id)
        assert listing.product_id == product_id
    with sessions() as session:
        lines = {line.order_id: line for line in session.scalars(sa.select(OrderLine))}
        assert (lines[older].product_id, lines[older].quantity_short) == (product_id, 0)
        assert (lines[newer].product_id, lines[newer].quantity_short) == (product_id, 2)  # 5 - 3 left for it
        assert lines[closed].product_id is None
        assert session.scalars(sa.select(StockLevel)).one().reserved == 5
        events = session.scalars(sa.select(OrderEvent).where(OrderEvent.kind == "stock")).all()
        assert sorted(e.order_id for e in events) == [older, newer]
    with sessions.begin() as session:  # a second relink finds nothing left to claim
        assert relink_order_lines(session, channel, "tea one", product_id) == 0


def test_map_sku_refuses_other_sellers_and_viewers(sessions, alice, bob, fake_channel, make_account):
    bobs_product = stocked_product(sessions, bob.actor, "B-1")
    channel = fake_channel(alice.seller_id)
    with sessions.begin() as session, pytest.raises(NotFound):
        map_sku(session, alice.actor, channel.id, "x", bobs_product)
    with sessions.begin() as session, pytest.raises(NotFound):
        map_sku(session, bob.actor, channel.id, "x", bobs_product)
    viewer = Actor(user_id=None, seller_id=alice.seller_id, role=Role.VIEWER, label="viewer")
    with sessions.begin() as session, pytest.raises(PermissionDenied):
        map_sku(session, viewer, channel.id, "x", bobs_product)


def test_link_all_products_also_works_inside_a_scoped_session(sessions, alice, fake_channel):
    stocked_product(sessions, alice.actor, "A")
    channel = fake_channel(alice.seller_id)
    with sessions.begin() as session:
        session.info["seller_id"] = alice.seller_id
        assert link_all_products(session, channel) == 1
