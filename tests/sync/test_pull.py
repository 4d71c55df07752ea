"""The order pull as a service: a hand-written fake marketplace at the OrderSource port, the real database."""

from __future__ import annotations

import uuid
from datetime import timedelta

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.catalog.models import StockLevel
from hub.orders.models import Order, OrderLine
from hub.orders.status import OrderStatus
from hub.sync.apply import Applied, apply_order
from hub.sync.jobs import run_job
from hub.sync.models import ChannelCircuit, CircuitState, Outcome, QuarantinedOrder, SyncCursor, SyncRun
from tests.integration.helpers import stocked_product
from tests.sync.fakes import T0, FakeOrderSource, channel_order

S = OrderStatus


def orders_of(env, channel_id: int) -> dict[str, Order]:
    with env.sessions() as session:
        rows = session.scalars(sa.select(Order).where(Order.channel_id == channel_id)).all()
        for row in rows:
            _ = row.lines
        return {row.external_id: row for row in rows}


def pull(env, channel, source, **kw):
    return run_job(env, channel.id, "pull", trigger="cli", connector=source, **kw)


def level(env, product_id: int) -> tuple[int, int]:
    with env.sessions() as session:
        row = session.scalars(sa.select(StockLevel).where(StockLevel.product_id == product_id)).one()
        return row.on_hand, row.reserved


def test_pulling_the_same_orders_twice_creates_each_once(env, make_channel, alice):
    channel = make_channel(alice.seller_id, "woocommerce", "http://unused")
    source = FakeOrderSource(page_size=2)
    source.put(*(channel_order(f"W{i}", updated=i) for i in range(5)))

    first = pull(env, channel, source, since=T0)
    second = pull(env, channel, source, since=T0)

    assert first.counts["created"] == 5 and first.counts["pages"] == 3
    assert second.counts["created"] == 0 and second.counts["unchanged"] == 5
    assert sorted(orders_of(env, channel.id)) == ["W0", "W1", "W2", "W3", "W4"]


def test_an_older_version_never_overwrites_a_newer_one(env, make_channel, alice):
    channel = make_channel(alice.seller_id, "woocommerce", "http://unused")
    newer = channel_order("W1", updated=10, status=S.CANCELLED, city="Hamburg")
    older = channel_order("W1", updated=5, status=S.PAID, city="Berlin")
    with env.sessions.begin() as session:
        assert apply_order(session, channel, newer)[0] is Applied.CREATED
        assert apply_order(session, channel, older)[0] is Applied.UNCHANGED
        assert apply_order(session, channel, newer)[0] is Applied.UNCHANGED

    order = orders_of(env, channel.id)["W1"]
    assert order.status is S.CANCELLED and order.shipping_address["city"] == "Hamburg"
    assert order.updated_at == newer.updated_at


def test_a_cancellation_on_the_channel_releases_the_reserved_stock(env, make_channel, alice):
    product = stocked_product(env.sessions, alice.actor, sku="TEA-1", warehouses={"BER": 10})
    channel = make_channel(alice.seller_id, "woocommerce", "http://unused")
    source = FakeOrderSource()
    source.put(channel_order("W1", lines=(("TEA-1", 3),)))
    pull(env, channel, source, since=T0)
    assert level(env, product) == (10, 3)

    source.bump("W1", 5, status=S.CANCELLED)
    result = pull(env, channel, source, since=T0)

    assert result.counts["updated"] == 1
    assert orders_of(env, channel.id)["W1"].status is S.CANCELLED
    assert level(env, product) == (10, 0)


def test_fulfilment_on_the_channel_consumes_the_reserved_stock(env, make_channel, alice):
    product = stocked_product(env.sessions, alice.actor, sku="TEA-1", warehouses={"BER": 10})
    channel = make_channel(alice.seller_id, "woocommerce", "http://unused")
    source = FakeOrderSource()
    source.put(channel_order("W1", lines=(("TEA-1", 4),)))
    pull(env, channel, source, since=T0)

    source.bump("W1", 5, status=S.FULFILLED)
    pull(env, channel, source, since=T0)

    assert level(env, product) == (6, 0)
    assert all(line.quantity_open == 0 for line in orders_of(env, channel.id)["W1"].lines)


def test_an_oversold_marketplace_order_is_imported_with_the_shortfall_flagged(env, make_channel, alice):
    product = stocked_product(env.sessions, alice.actor, sku="TEA-1", warehouses={"BER": 2})
    channel = make_channel(alice.seller_id, "woocommerce", "http://unused")
    source = FakeOrderSource()
    source.put(channel_order("W1", lines=(("TEA-1", 5),)))

    pull(env, channel, source, since=T0)

    order = orders_of(env, channel.id)["W1"]
    assert "oversold" in order.flags and order.lines[0].quantity_short == 3
    assert level(env, product) == (2, 2)


def test_lines_whose_sku_matches_no_listing_are_kept_and_flagged(env, make_channel, alice):
    stocked_product(env.sessions, alice.actor, sku="TEA-1")
    channel = make_channel(alice.seller_id, "woocommerce", "http://unused")
    source = FakeOrderSource()
    source.put(channel_order("W1", lines=(("TEA-1", 1), ("MYSTERY-9", 2))))

    pull(env, channel, source, since=T0)

    lines = {line.sku: line for line in orders_of(env, channel.id)["W1"].lines}
    assert lines["TEA-1"].is_matched and not lines["MYSTERY-9"].is_matched
    with env.sessions() as session:
        events = session.scalars(sa.select(Order).where(Order.external_id == "W1")).one().events
        assert "unmatched SKU MYSTERY-9" in events[0].message


def test_a_crash_mid_pass_resumes_from_the_stored_cursor_and_loses_nothing(env, make_channel, alice):
    channel = make_channel(alice.seller_id, "woocommerce", "http://unused")
    source = FakeOrderSource(page_size=2)
    source.put(*(channel_order(f"W{i}", updated=i) for i in range(7)))
    source.fail_after = 2

    crashed = pull(env, channel, source, since=T0)
    assert crashed.outcome is Outcome.FAILED
    assert sorted(orders_of(env, channel.id)) == ["W0", "W1", "W2", "W3"]
    with env.sessions() as session:
        cursor = session.get(SyncCursor, channel.id)
        assert (cursor.page_cursor, cursor.pass_since) == ("4", T0)

    source.fail_after = None
    resumed = pull(env, channel, source)

    assert source.calls[3] == (T0, "4"), "the resumed run starts at the page the crash interrupted"
    assert resumed.counts["created"] == 3
    assert len(orders_of(env, channel.id)) == 7


def test_the_next_pass_asks_from_the_newest_version_seen_minus_the_overlap(env, make_channel, alice):
    channel = make_channel(alice.seller_id, "woocommerce", "http://unused")
    source = FakeOrderSource(page_size=10)
    source.put(*(channel_order(f"W{i}", updated=i * 60) for i in range(3)))
    pull(env, channel, source, since=T0)

    pull(env, channel, source)

    newest = T0 + timedelta(minutes=120)
    assert source.calls[-1] == (newest - env.settings.overlap, None)


def test_unmappable_orders_are_quarantined_while_the_rest_of_the_page_goes_on(env, make_channel, alice):
    channel = make_channel(alice.seller_id, "woocommerce", "http://unused")
    source = FakeOrderSource(page_size=10)
    source.put(channel_order("W1"), channel_order("W2", currency="ZZZ"), channel_order("W3", lines=(("A", 0),)))
    source.rejects = [("W9", "total: not an amount: 'n/a'", {"id": 9, "total": "n/a"})]

    result = pull(env, channel, source, since=T0)
    again = pull(env, channel, source, since=T0)

    assert result.outcome is Outcome.PARTIAL and result.counts["quarantined"] == 3
    assert again.counts["quarantined"] == 3
    assert sorted(orders_of(env, channel.id)) == ["W1"]
    with env.sessions() as session:
        held = {q.external_id: q for q in session.scalars(sa.select(QuarantinedOrder))}
    assert sorted(held) == ["W2", "W3", "W9"], "the same payload again is the same row"
    assert held["W2"].reason == "unknown currency 'ZZZ'" and held["W2"].seen == 2
    assert held["W9"].payload == {"id": 9, "total": "n/a"} and held["W9"].page_cursor is None


def test_sustained_failures_open_the_channel_circuit_and_a_manual_run_probes_it(env, make_channel, alice):
    channel = make_channel(alice.seller_id, "woocommerce", "http://unused")
    source = FakeOrderSource()
    source.fail_after = 0
    for _ in range(env.settings.circuit_failures):
        assert run_job(env, channel.id, "pull", connector=source).outcome is Outcome.FAILED

    skipped = run_job(env, channel.id, "pull", connector=source)
    assert skipped.outcome is Outcome.SKIPPED and "circuit open" in skipped.message
    with env.sessions() as session:
        assert session.get(ChannelCircuit, channel.id).state is CircuitState.OPEN

    source.fail_after = None
    probe = run_job(env, channel.id, "pull", trigger="manual", connector=source)
    assert probe.outcome is Outcome.OK
    with env.sessions() as session:
        assert session.get(ChannelCircuit, channel.id).state is CircuitState.CLOSED


def test_every_run_is_recorded_with_its_counts(env, make_channel, alice):
    channel = make_channel(alice.seller_id, "woocommerce", "http://unused")
    source = FakeOrderSource(page_size=2)
    source.put(*(channel_order(f"W{i}", updated=i) for i in range(3)))

    result = pull(env, channel, source, since=T0)

    with env.sessions() as session:
        run = session.get(SyncRun, result.run_id)
    assert (run.outcome, run.pages, run.fetched, run.created, run.trigger) == (Outcome.OK, 2, 3, 3, "cli")
    assert run.finished_at >= run.started_at


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(page_size=st.integers(1, 6), redeliver=st.booleans(),
       steps=st.lists(st.one_of(
           st.tuples(st.just("new"), st.integers(1, 4)),
           st.tuples(st.just("bump"), st.integers(0, 30)),
           st.tuples(st.just("pull"), st.integers(0, 120)),
       ), max_size=12))
def test_repeated_and_overlapping_pulls_hold_exactly_the_marketplaces_latest_orders(
        env, make_channel, alice, page_size, redeliver, steps):
    channel = make_channel(alice.seller_id, "woocommerce", "http://unused", name=f"shop {uuid.uuid4().hex[:8]}")
    source = FakeOrderSource(page_size=page_size, redeliver=redeliver)
    for minute, (kind, n) in enumerate(steps, start=1):
        if kind == "new":
            source.put(*(channel_order(f"N{minute}-{i}", updated=minute) for i in range(n)))
        elif kind == "bump" and source.orders:
            key = sorted(source.orders)[n % len(source.orders)]
            source.bump(key, minute, status=S.CANCELLED)
        elif kind == "pull":
            pull(env, channel, source, since=T0 + timedelta(minutes=max(minute - n, 0)) if n else None)
    pull(env, channel, source, since=T0)  # the reconciliation pass

    held = orders_of(env, channel.id)
    assert sorted(held) == sorted(source.orders)
    assert {k: (o.updated_at, o.status) for k, o in held.items()} == {
        k: (o.updated_at, o.status) for k, o in source.orders.items()}
    with env.sessions() as session:
        lines = session.scalar(sa.select(sa.func.count()).select_from(OrderLine).join(Order)
                               .where(Order.channel_id == channel.id))
    assert lines == len(source.orders)
