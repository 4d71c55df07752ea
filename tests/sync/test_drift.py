"""Drift check against a hand-written marketplace (FakeMarket), through run_job."""


from __future__ import annotations

import math

from hub.sync.jobs import run_job
from hub.sync.models import Job, Outcome, SyncRun
from tests.integration.helpers import stocked_product
from tests.sync.push_support import link, listings


def setup(env, sessions, alice, fake_channel, count=7):
    for n in range(1, count + 1):
        stocked_product(sessions, alice.actor, f"TEA-{n}", {"BER": 10})
    channel = fake_channel(alice.seller_id)
    link(sessions, channel)
    run_job(env, channel.id, Job.PUSH_INVENTORY)
    return channel


def details(sessions, run_id):
    with sessions() as session:
        return session.get(SyncRun, run_id).details


def test_no_drift_after_a_push(env, sessions, alice, fake_channel, market):
    channel = setup(env, sessions, alice, fake_channel)
    result = run_job(env, channel.id, Job.CHECK_DRIFT)
    assert result.outcome is Outcome.OK
    assert (result.counts["fetched"], result.counts["unchanged"], result.counts["push_failed"]) == (7, 7, 0)
    assert len(market.read_calls) == math.ceil(7 / market.cap)
    assert details(sessions, result.run_id)["drift"] == []


def test_drift_is_recorded_and_leaves_the_run_partial(env, sessions, alice, fake_channel, market):
    channel = setup(env, sessions, alice, fake_channel)
    market.stock["TEA-2"] = 4  # someone changed it in the marketplace's back office
    market.unknown = {"TEA-5"}  # deleted there
    result = run_job(env, channel.id, Job.CHECK_DRIFT)
    assert result.outcome is Outcome.PARTIAL
    assert (result.counts["fetched"], result.counts["push_failed"], result.counts["pushed"]) == (6, 1, 0)
    found = details(sessions, result.run_id)
    assert found["drift"] == [{"sku": "TEA-2", "expected": 10, "listed": 4, "last_pushed": 10}]
    assert found["missing"] == ["TEA-5"] and found["checked"] == 6 and found["differing"] == 1
    assert market.stock["TEA-2"] == 4  # not repaired unless asked


def test_repair_pushes_the_expected_quantities_of_the_differing_skus(env, sessions, alice, fake_channel, market):
    channel = setup(env, sessions, alice, fake_channel)
    market.stock.update({"TEA-1": 0, "TEA-6": 99})
    market.stock_calls.clear()
    result = run_job(env, channel.id, Job.CHECK_DRIFT, repair=True)
    assert result.outcome is Outcome.OK
    assert result.counts["pushed"] == 2
    assert [(u.sku, u.available) for u in market.stock_updates] == [("TEA-1", 10), ("TEA-6", 10)]
    assert listings(sessions, channel)["TEA-1"].last_pushed_quantity == 10
    assert run_job(env, channel.id, Job.CHECK_DRIFT).counts["push_failed"] == 0


def test_a_refused_repair_leaves_the_run_partial(env, sessions, alice, fake_channel, market):
    channel = setup(env, sessions, alice, fake_channel, count=2)
    market.stock["TEA-1"] = 3
    market.refuse = {"TEA-1"}
    result = run_job(env, channel.id, Job.CHECK_DRIFT, repair=True)
    assert result.outcome is Outcome.PARTIAL
    assert (result.counts["pushed"], result.counts["push_failed"]) == (0, 1)
    assert listings(sessions, channel)["TEA-1"].push_error == "stock: fake refuses TEA-1"
