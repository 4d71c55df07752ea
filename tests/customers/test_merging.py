"""Merging two profiles of one person and undoing it: the un-merge restores exactly what the merge moved, plus
the orders linked to the merged profile since; staff only; another seller's profiles are not found."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from hub.accounts.actor import Actor
from hub.accounts.models import Role
from hub.customers import services as customers
from hub.customers.models import Customer, CustomerMerge
from hub.errors import Conflict, NotFound, PermissionDenied, ValidationError
from hub.orders.models import Order
from tests.customers.support import customer_of, import_order, make_channels
from tests.web.support import scoped


def _state(sessions, seller_id: int) -> dict[int, tuple[int | None, str]]:
    with sessions() as session:
        return {o.id: (o.customer_id, o.customer_match)
                for o in session.scalars(sa.select(Order).where(Order.seller_id == seller_id))}


def _two_profiles(sessions, alice) -> tuple[dict[str, int], list[int], list[int]]:
    ch = make_channels(sessions, alice.seller_id, "shopify", "woocommerce")
    annas = [import_order(sessions, ch["shopify"], f"S-{i}", email="anna@example.com") for i in range(2)]
    work = [import_order(sessions, ch["woocommerce"], "W-1", email="a.schmidt@work.example")]
    return ch, annas, work


def test_a_merge_moves_the_orders_and_an_unmerge_restores_exactly_what_was_before(sessions, alice):
    ch, annas, work = _two_profiles(sessions, alice)
    into, other = customer_of(sessions, annas[0])[0], customer_of(sessions, work[0])[0]
    before = _state(sessions, alice.seller_id)
    with scoped(sessions, alice.actor) as session, session.begin():
        record = customers.merge(session, alice.actor, into, other)
        assert record.order_ids == work
    merged = _state(sessions, alice.seller_id)
    assert {customer for customer, _ in merged.values()} == {into}
    assert [match for _, match in merged.values()] == [match for _, match in before.values()]  # reasons kept
    later = import_order(sessions, ch["woocommerce"], "W-2", email="a.schmidt@work.example")  # joins the merge
    assert customer_of(sessions, later) == (into, "email")

    with scoped(sessions, alice.actor) as session, session.begin():
        undone = customers.unmerge(session, alice.actor, other)
        assert undone.restored_order_ids == [*work, later] and undone.unmerged_at is not None
    after = _state(sessions, alice.seller_id)
    assert after == {**before, later: (other, "email")}
    with sessions() as session:
        assert session.get(Customer, other).merged_into_id is None
        assert session.scalar(sa.select(sa.func.count()).select_from(CustomerMerge)) == 1


def test_a_merge_of_a_profile_that_holds_a_merged_one_unmerges_step_by_step(sessions, alice):
    ch, annas, work = _two_profiles(sessions, alice)
    third = import_order(sessions, ch["shopify"], "S-9", email="anna.s@home.example")
    a, b, c = (customer_of(sessions, o)[0] for o in (annas[0], work[0], third))
    before = _state(sessions, alice.seller_id)
    with scoped(sessions, alice.actor) as session, session.begin():
        customers.merge(session, alice.actor, b, c)  # c into b
        customers.merge(session, alice.actor, a, b)  # then b (holding c's order) into a
    assert {customer for customer, _ in _state(sessions, alice.seller_id).values()} == {a}
    with scoped(sessions, alice.actor) as session, session.begin():
        customers.unmerge(session, alice.actor, b)  # b comes back with c's order: c is still merged into b
    assert customer_of(sessions, third)[0] == b and customer_of(sessions, work[0])[0] == b
    with scoped(sessions, alice.actor) as session, session.begin():
        customers.unmerge(session, alice.actor, c)
    assert _state(sessions, alice.seller_id) == before


def test_merges_that_make_no_sense_are_refused(sessions, alice):
    _, annas, work = _two_profiles(sessions, alice)
    into, other = customer_of(sessions, annas[0])[0], customer_of(sessions, work[0])[0]
    with scoped(sessions, alice.actor) as session, session.begin():
        with pytest.raises(ValidationError):
            customers.merge(session, alice.actor, into, into)
        with pytest.raises(Conflict):
            customers.unmerge(session, alice.actor, other)  # not merged
        customers.merge(session, alice.actor, into, other)
        with pytest.raises(Conflict):
            customers.merge(session, alice.actor, other, into)  # other is merged away already
        with pytest.raises(Conflict):
            customers.merge(session, alice.actor, into, other)


def test_a_viewer_may_not_merge_and_another_seller_finds_nothing(sessions, alice, bob):
    _, annas, work = _two_profiles(sessions, alice)
    into, other = customer_of(sessions, annas[0])[0], customer_of(sessions, work[0])[0]
    viewer = Actor(user_id=None, seller_id=alice.seller_id, role=Role.VIEWER, label="viewer")
    with scoped(sessions, viewer) as session, session.begin():
        with pytest.raises(PermissionDenied):
            customers.merge(session, viewer, into, other)
        assert customers.customer_detail(session, viewer, into).customer.id == into
    with scoped(sessions, bob.actor) as session, session.begin():
        with pytest.raises(NotFound):
            customers.merge(session, bob.actor, into, other)
        with pytest.raises(NotFound):
            customers.customer_detail(session, bob.actor, into)
        assert customers.list_customers(session, bob.actor) == []
    assert customer_of(sessions, work[0])[0] == other


def test_the_list_searches_names_and_emails_and_hides_merged_profiles(sessions, alice):
    _, annas, work = _two_profiles(sessions, alice)
    into, other = customer_of(sessions, annas[0])[0], customer_of(sessions, work[0])[0]
    with scoped(sessions, alice.actor) as session, session.begin():
        assert [r.id for r in customers.list_customers(session, alice.actor, q="WORK.example")] == [other]
        assert [r.id for r in customers.list_customers(session, alice.actor, q="anna@EXAMPLE.com")] == [into]
        assert {r.id for r in customers.list_customers(session, alice.actor, q="schmidt")} == {into, other}
        assert [r.id for r in customers.list_customers(session, alice.actor, limit=1)] == [other]
        assert [r.id for r in customers.list_customers(session, alice.actor, after_id=other)] == [into]
        assert customers.list_customers(session, alice.actor, q="100%_") == []
        row = customers.list_customers(session, alice.actor, q="anna@example.com")[0]
        assert row.orders == 2 and row.last_order_at is not None
        customers.merge(session, alice.actor, into, other)
        assert [r.id for r in customers.list_customers(session, alice.actor)] == [into]
