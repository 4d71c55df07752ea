"""Inventory and price push against a hand-written marketplace (FakeMarket), through run_job."""


from __future__ import annotations

import math
from decimal import Decimal

import pytest
import sqlalchemy as sa

from hub.catalog import stock
from hub.catalog.models import Product, StockLevel, Warehouse
from hub.catalog.schemas import StockAdjustment, StockReceipt, WarehouseIn
from hub.channels.models import ChannelWarehouse, Listing
from hub.sync.jobs import run_job
from hub.sync.models import Job, Outcome, SyncRun
from tests.integration.helpers import place_order, stocked_product
from tests.sync.push_support import link, listings


def catalogue(sessions, account, count: int, start: int = 1, quantity: int = 10) -> list[str]:
    skus = [f"TEA-{n:03d}" for n in range(start, start + count)]
    for sku in skus:
        stocked_product(sessions, account.actor, sku, {"BER": quantity})
    return skus


def receive(sessions, account, sku: str, quantity: int, warehouse: str = "BER") -> None:
    with sessions.begin() as session:
        session.info["seller_id"] = account.seller_id
        stock.receive(session, account.actor, StockReceipt(sku=sku, warehouse=warehouse, quantity=quantity))


def test_first_push_sends_everything_the_second_nothing(env, sessions, alice, fake_channel, market):
    skus = catalogue(sessions, alice, 12)
    channel = fake_channel(alice.seller_id)
    assert link(sessions, channel) == 12

    first = run_job(env, channel.id, Job.PUSH_INVENTORY)
    assert first.outcome is Outcome.OK
    assert first.counts["pushed"] == 12
    assert len(market.stock_calls) == math.ceil(12 / market.cap)
    assert market.stock == dict.fromkeys(skus, 10)
    rows = listings(sessions, channel)
    assert {r.last_pushed_quantity for r in rows.values()} == {10}
    assert all(r.quantity_pushed_at is not None and r.push_error == "" for r in rows.values())

    second = run_job(env, channel.id, Job.PUSH_INVENTORY)
    assert second.outcome is Outcome.OK
    assert second.counts["pushed"] == 0 and second.counts["unchanged"] == 12
    assert len(market.stock_calls) == math.ceil(12 / market.cap)  # not one call more


@pytest.mark.parametrize("changed", [1, 5, 6, 11])
def test_k_changed_skus_cost_ceil_k_over_cap_calls_across_engine_chunks(env, sessions, alice, fake_channel, market,
                                                                        changed):
    skus = catalogue(sessions, alice, 14)
    channel = fake_channel(alice.seller_id)
    link(sessions, channel)
    run_job(env, channel.id, Job.PUSH_INVENTORY, chunk=10)
    market.stock_calls.clear()
    # The last SKUs: spread over both listing pages when more than 4 change (chunk 10).
    for sku in list(reversed(skus))[:changed]:
        receive(sessions, alice, sku, 3)
    result = run_job(env, channel.id, Job.PUSH_INVENTORY, chunk=10)
    assert result.counts["pushed"] == changed
    assert len(market.stock_calls) == math.ceil(changed / market.cap)
    assert sorted(u.sku for u in market.stock_updates) == sorted(list(reversed(skus))[:changed])
    assert {u.available for u in market.stock_updates} == {13}


def test_receipts_adjustments_and_orders_on_another_channel_reach_the_channel(env, sessions, alice, fake_channel,
                                                                            market):
    catalogue(sessions, alice, 3)
    channel = fake_channel(alice.seller_id)
    link(sessions, channel)
    run_job(env, channel.id, Job.PUSH_INVENTORY)
    receive(sessions, alice, "TEA-001", 5)
    with sessions.begin() as session:
        session.info["seller_id"] = alice.seller_id
        stock.adjust(session, alice.actor, StockAdjustment(sku="TEA-002", warehouse="BER", delta=-4, reason="broken"))
        place_order(session, alice.actor, [("TEA-003", 7)])  # the direct channel reserves 7
    market.stock_calls.clear()

    result = run_job(env, channel.id, Job.PUSH_INVENTORY)
    assert result.counts["pushed"] == 3
    assert market.stock == {"TEA-001": 15, "TEA-002": 6, "TEA-003": 3}
    assert len(market.stock_calls) == 1


def test_the_channel_rules_and_its_warehouses_decide_the_quantity(env, sessions, alice, fake_channel, market):
    stocked_product(sessions, alice.actor, "TEA-1", {"BER": 30, "HAM": 50, "OLD": 7})
    with sessions.begin() as session:
        session.info["seller_id"] = alice.seller_id
        session.scalars(sa.select(Warehouse).where(Warehouse.code == "OLD")).one().is_active = False
    everywhere = fake_channel(alice.seller_id, name="all warehouses")
    berlin = fake_channel(alice.seller_id, name="berlin only", stock_buffer=5, stock_percent=50, stock_max=10)
    with sessions.begin() as session:
        ber = session.scalars(sa.select(Warehouse).where(Warehouse.code == "BER")).one()
        session.add(ChannelWarehouse(seller_id=alice.seller_id, channel_id=berlin.id, warehouse_id=ber.id))
    for channel in (everywhere, berlin):
        link(sessions, channel)
        run_job(env, channel.id, Job.PUSH_INVENTORY)
    pushed = [u.available for u in market.stock_updates]
    assert pushed == [80, 10]  # 30 + 50 (OLD is inactive); min((30 - 5) * 50 // 100, 10) = 10


def test_an_inactive_product_lists_nothing_and_unlinked_or_inactive_listings_are_not_pushed(
        env, sessions, alice, fake_channel, market):
    catalogue(sessions, alice, 3)
    channel = fake_channel(alice.seller_id)
    link(sessions, channel)
    with sessions.begin() as session:
        session.info["seller_id"] = alice.seller_id
        session.scalars(sa.select(Product).where(Product.sku == "TEA-001")).one().is_active = False
        session.scalars(sa.select(Listing).where(Listing.channel_sku == "TEA-002")).one().is_active = False
        session.add(Listing(seller_id=alice.seller_id, channel_id=channel.id, channel_sku="NOT-OURS"))
    run_job(env, channel.id, Job.PUSH_INVENTORY)
    assert market.stock == {"TEA-001": 0, "TEA-003": 10}


def test_refused_skus_are_recorded_and_sent_again_next_time(env, sessions, alice, fake_channel, market):
    catalogue(sessions, alice, 4)
    channel = fake_channel(alice.seller_id)
    link(sessions, channel)
    market.refuse = {"TEA-002"}
    result = run_job(env, channel.id, Job.PUSH_INVENTORY)
    assert result.outcome is Outcome.PARTIAL
    assert (result.counts["pushed"], result.counts["push_failed"]) == (3, 1)
    rows = listings(sessions, channel)
    assert rows["TEA-002"].push_error == "stock: fake refuses TEA-002"
    assert rows["TEA-002"].last_pushed_quantity is None
    with sessions() as session:
        run = session.get(SyncRun, result.run_id)
        assert (run.outcome, run.pushed, run.push_failed) == (Outcome.PARTIAL, 3, 1)

    market.refuse = set()
    market.stock_calls.clear()
    again = run_job(env, channel.id, Job.PUSH_INVENTORY)
    assert again.outcome is Outcome.OK
    assert [u.sku for u in market.stock_updates] == ["TEA-002"]
    assert listings(sessions, channel)["TEA-002"].push_error == ""


def test_a_crash_mid_run_keeps_the_chunks_already_pushed(env, sessions, alice, fake_channel, market):
    catalogue(sessions, alice, 25)
    channel = fake_channel(alice.seller_id)
    link(sessions, channel)
    market.fail_on_stock_call = 3  # chunk 10 = 2 calls of 5: the second chunk's first call fails
    result = run_job(env, channel.id, Job.PUSH_INVENTORY, chunk=10)
    assert result.outcome is Outcome.FAILED
    pushed = [r for r in listings(sessions, channel).values() if r.last_pushed_quantity is not None]
    assert len(pushed) == 10  # the first chunk's bookkeeping is committed

    market.fail_on_stock_call = None
    market.stock_calls.clear()
    retry = run_job(env, channel.id, Job.PUSH_INVENTORY, chunk=10)
    assert retry.counts["pushed"] == 15  # the rest only
    assert len(market.stock_calls) == 3


def test_full_push_sends_everything_again(env, sessions, alice, fake_channel, market):
    catalogue(sessions, alice, 3)
    channel = fake_channel(alice.seller_id)
    link(sessions, channel)
    run_job(env, channel.id, Job.PUSH_INVENTORY)
    result = run_job(env, channel.id, Job.PUSH_INVENTORY, full=True)
    assert result.counts["pushed"] == 3 and len(market.stock_updates) == 6


def test_progress_is_reported(env, sessions, alice, fake_channel, market):
    catalogue(sessions, alice, 3)
    channel = fake_channel(alice.seller_id)
    link(sessions, channel)
    seen: list[dict[str, int]] = []
    run_job(env, channel.id, Job.PUSH_INVENTORY, progress=lambda counts: seen.append(dict(counts)))
    assert seen and seen[-1]["pushed"] == 3


def test_prices_push_what_changed_in_the_channel_currency(env, sessions, alice, fake_channel, market):
    catalogue(sessions, alice, 4)
    channel = fake_channel(alice.seller_id, currency="JPY")
    link(sessions, channel)
    with sessions.begin() as session:
        rows = {r.channel_sku: r for r in session.scalars(sa.select(Listing))}
        rows["TEA-001"].price = Decimal(1500)
        rows["TEA-002"].price = Decimal("1980")
        rows["TEA-003"].price = Decimal("12.5")  # JPY has no minor units: the channel refuses it
        # TEA-004 has no fixed price: priced by the channel's rule, but there is no EUR/JPY rate: refused unsent
    market.refuse = set()
    first = run_job(env, channel.id, Job.PUSH_PRICES)
    assert [(u.sku, u.price, u.currency) for u in market.price_calls[0]] == [
        ("TEA-001", Decimal(1500), "JPY"), ("TEA-002", Decimal(1980), "JPY"), ("TEA-003", Decimal("12.5"), "JPY")]
    assert str(market.price_calls[0][0].price) == "1500"  # sent at the currency's minor units, not 1500.0000
    assert first.counts["pushed"] == 3 and first.counts["push_failed"] == 1
    assert listings(sessions, channel)["TEA-004"].push_error.startswith("price: no exchange rate EUR/JPY")

    market.price_calls.clear()
    assert run_job(env, channel.id, Job.PUSH_PRICES).counts["pushed"] == 0
    assert market.price_calls == []

    with sessions.begin() as session:
        session.scalars(sa.select(Listing).where(Listing.channel_sku == "TEA-002")).one().price = Decimal(2100)
    market.refuse = {"TEA-002"}
    refused = run_job(env, channel.id, Job.PUSH_PRICES)
    assert refused.counts["push_failed"] == 2  # TEA-002 by the channel, TEA-004 for want of a rate
    row = listings(sessions, channel)["TEA-002"]
    assert row.push_error == "price: fake refuses the price" and row.last_pushed_price == Decimal(1980)


def test_a_good_stock_push_keeps_a_price_refusal_visible(env, sessions, alice, fake_channel, market):
    catalogue(sessions, alice, 1)
    channel = fake_channel(alice.seller_id)
    link(sessions, channel)
    with sessions.begin() as session:
        session.scalars(sa.select(Listing)).one().price = Decimal("9.99")
    market.refuse = {"TEA-001"}
    run_job(env, channel.id, Job.PUSH_PRICES)
    market.refuse = set()
    run_job(env, channel.id, Job.PUSH_INVENTORY)
    assert listings(sessions, channel)["TEA-001"].push_error == "price: fake refuses the price"


def test_pushing_one_sellers_channel_never_reads_another_sellers_stock(env, sessions, alice, bob, fake_channel,
                                                                        market):
    product_id = stocked_product(sessions, alice.actor, "TEA-1", {"BER": 4})
    stocked_product(sessions, bob.actor, "TEA-1", {"BER": 500})
    channel = fake_channel(alice.seller_id)
    link(sessions, channel)
    # Rows that break tenancy (as a bug or a bad import could write them): Bob's warehouse assigned to Alice's
    # channel, and a level of Alice's product in Bob's warehouse.
    with sessions.begin() as session:
        bobs = session.scalars(sa.select(Warehouse).where(Warehouse.seller_id == bob.seller_id)).one()
        session.add(StockLevel(seller_id=bob.seller_id, product_id=product_id, warehouse_id=bobs.id, on_hand=900))
    run_job(env, channel.id, Job.PUSH_INVENTORY)
    assert market.stock == {"TEA-1": 4}
    with sessions.begin() as session:
        bobs = session.scalars(sa.select(Warehouse).where(Warehouse.seller_id == bob.seller_id)).one()
        session.add(ChannelWarehouse(seller_id=alice.seller_id, channel_id=channel.id, warehouse_id=bobs.id))
    run_job(env, channel.id, Job.PUSH_INVENTORY)
    assert market.stock == {"TEA-1": 0}  # its only assigned warehouse is not Alice's: nothing to sell


def test_thousands_of_listings_cost_a_bounded_number_of_queries(env, sessions, engine, alice, fake_channel, market):
    stocked_product(sessions, alice.actor, "SEED", {"BER": 1})
    n = 2_500
    with sessions.begin() as session:
        warehouse_id = session.scalars(sa.select(Warehouse.id)).one()
        session.execute(sa.insert(Product), [
            {"seller_id": alice.seller_id, "sku": f"BULK-{i:05d}", "title": "bulk", "base_price": Decimal(1),
             "currency": "EUR"} for i in range(n)])
        ids = session.scalars(sa.select(Product.id).where(Product.sku.like("BULK-%"))).all()
        session.execute(sa.insert(StockLevel), [
            {"seller_id": alice.seller_id, "product_id": pid, "warehouse_id": warehouse_id, "on_hand": pid % 7}
            for pid in ids])
    channel = fake_channel(alice.seller_id)
    link(sessions, channel)
    market.cap = 250
    statements: list[str] = []
    listen = lambda *args: statements.append(args[2])  # noqa: E731
    sa.event.listen(engine, "before_cursor_execute", listen)
    try:
        result = run_job(env, channel.id, Job.PUSH_INVENTORY)
    finally:
        sa.event.remove(engine, "before_cursor_execute", listen)
    assert result.counts["pushed"] == n + 1
    assert len(market.stock_calls) == math.ceil((n + 1) / 250)
    assert sum(1 for s in statements if "stock_levels" in s) <= 4  # one aggregated read per 1,000 listings
    assert len(statements) < 60


def test_a_second_warehouse_counts_for_channels_without_assignment(env, sessions, alice, fake_channel, market):
    stocked_product(sessions, alice.actor, "TEA-1", {"BER": 3})
    with sessions.begin() as session:
        session.info["seller_id"] = alice.seller_id
        stock.create_warehouse(session, alice.actor, WarehouseIn(code="MUC", name="MUC", country="DE"))
    receive(sessions, alice, "TEA-1", 4, warehouse="MUC")
    channel = fake_channel(alice.seller_id)
    link(sessions, channel)
    run_job(env, channel.id, Job.PUSH_INVENTORY)
    assert market.stock == {"TEA-1": 7}
