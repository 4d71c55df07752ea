"""Drift check through the Shopify connector against its sandbox, over real HTTP."""


from __future__ import annotations

import sqlalchemy as sa

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


def drifted(env, sessions, alice, shopify, shopify_channel):
    """SKU-0001 pushed as 5, then changed to 40 in the shop: (the sandbox's shop, the channel, its level key)."""
    _, sandbox, _ = shopify
    shop = sandbox.extensions["sandbox"]
    stocked_product(sessions, alice.actor, "SKU-0001", {"BER": 5})
    channel = shopify_channel(alice.seller_id)
    link(sessions, channel)
    run_job(env, channel.id, Job.PUSH_INVENTORY)
    key = (shop.variants["SKU-0001"].item_number, LOCATION)
    shop.levels[key] = 40
    return shop, channel, key


def test_hub_sync_check_drift_repair_fixes_the_shop_from_the_command_line(app, env, sessions, alice, shopify,
                                                                        shopify_channel):
    from hub.sync.cli import sync_command

    shop, channel, key = drifted(env, sessions, alice, shopify, shopify_channel)
    runner = app.test_cli_runner()

    refused = runner.invoke(sync_command, [str(channel.id), "--job", "pull", "--repair"])
    repaired = runner.invoke(sync_command, [str(channel.id), "--job", "check-drift", "--repair"])

    assert refused.exit_code == 2 and "only a drift check repairs" in refused.output
    assert repaired.exit_code == 0, repaired.output
    assert "1 of 1 SKUs differ from the expected quantity, 1 repaired" in repaired.output
    assert shop.levels[key] == 5


def test_check_and_repair_on_the_dashboard_fixes_the_shop(app, env, sessions, alice, shopify, shopify_channel,
                                                           monkeypatch):
    from hub.web.channels import runs
    from tests.conftest import csrf_token, login

    monkeypatch.setattr(runs, "start_in_background", lambda work, name: work())  # the job before the answer
    shop, channel, key = drifted(env, sessions, alice, shopify, shopify_channel)
    client = app.test_client()
    login(client, alice.email)
    token = csrf_token(client, f"/channels/{channel.id}")

    answer = client.post(f"/channels/{channel.id}/sync", data={"job": "check-drift", "repair": "1",
                                                               "csrf_token": token})

    assert answer.status_code == 302
    assert f"Check drift and repair of {channel.name} started" in client.get(answer.location).get_data(as_text=True)
    assert shop.levels[key] == 5
    with sessions() as session:
        run = session.scalars(sa.select(SyncRun).where(SyncRun.job == Job.CHECK_DRIFT)).one()
    assert (run.trigger, run.pushed, run.details["repaired"]) == ("manual", 1, 1)
