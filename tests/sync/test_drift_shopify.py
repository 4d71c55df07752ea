"""Drift check through the Shopify connector against its sandbox, over real HTTP."""


from __future__ import annotations

from hub.sync.jobs import run_job
from hub.sync.models import Job, Outcome, SyncRun
from tests.integration.helpers import stocked_product
from tests.sync.push_support import link, listings

LOCATION = 68_000_000_001


def test_a_quantity_changed_in_the_shop_is_found_and_repaired(env, sessions, alice, shopify, shopify_channel):
    _, app, _ = shopify
    shop = app.extensions["sandbox"]
    for sku in ("SKU-0001", "SKU-0002", "SKU-0003"):
        stocked_product(sessions, alice.actor, sku, {"BER": 8})
    channel = shopify_channel(alice.seller_id)
    link(sessions, channel)
    run_job(env, channel.id, Job.PUSH_INVENTORY)
    assert run_job(env, channel.id, Job.CHECK_DRIFT).outcome is Outcome.OK

    key = (shop.variants["SKU-0002"].item_number, LOCATION)
    shop.levels[key] = 2  # changed in Shopify's admin
    found = run_job(env, channel.id, Job.CHECK_DRIFT)
    assert found.outcome is Outcome.PARTIAL and found.counts["push_failed"] == 1
    with sessions() as session:
        assert session.get(SyncRun, found.run_id).details["drift"] == [
            {"sku": "SKU-0002", "expected": 8, "listed": 2, "last_pushed": 8}]

    repaired = run_job(env, channel.id, Job.CHECK_DRIFT, repair=True)
    assert repaired.outcome is Outcome.OK and repaired.counts["pushed"] == 1
    assert shop.levels[key] == 8
    assert listings(sessions, channel)["SKU-0002"].last_pushed_quantity == 8
    assert run_job(env, channel.id, Job.CHECK_DRIFT).counts["push_failed"] == 0
