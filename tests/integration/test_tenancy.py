"""Tenant isolation below the services: a session scoped to a seller cannot see or write another's rows."""

import pytest
import sqlalchemy as sa

from hub.catalog.models import Product
from hub.db import TenantViolation
from tests.integration.helpers import stocked_product


def test_a_scoped_session_sees_only_its_sellers_rows_even_without_a_filter(sessions, alice, bob):
    stocked_product(sessions, alice.actor, "ALICE-1")
    stocked_product(sessions, bob.actor, "BOB-1")
    with sessions() as session:
        session.info["seller_id"] = bob.seller_id
        assert [p.sku for p in session.scalars(sa.select(Product))] == ["BOB-1"]
    with sessions() as session:  # unscoped (platform admin, jobs across sellers) sees all
        assert sorted(p.sku for p in session.scalars(sa.select(Product))) == ["ALICE-1", "BOB-1"]


def test_a_scoped_session_refuses_to_write_another_sellers_row(sessions, alice, bob):
    product_id = stocked_product(sessions, alice.actor, "ALICE-1")
    with sessions() as session:
        product = session.get(Product, product_id)  # loaded unscoped, then the scope is narrowed
        session.info["seller_id"] = bob.seller_id
        product.title = "hijacked"
        with pytest.raises(TenantViolation):
            session.flush()
