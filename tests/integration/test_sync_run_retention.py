"""Old sync runs go with their calls' audit rows; the newest run of each job of each channel stays for its health."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from hub.channels.models import Channel
from hub.sync.models import Job, Outcome, SyncRun
from hub.timeutil import utcnow


def test_pruning_removes_runs_older_than_the_retention_but_keeps_each_channels_newest_run_of_each_job(
        app, sessions, alice, bob):
    now = utcnow()
    ages = {  # (seller id, channel name) -> {job: days ago of each run}
        (alice.seller_id, "busy"): {Job.PULL: [90, 40, 31, 1], Job.PUSH_INVENTORY: [60, 45]},
        (alice.seller_id, "idle"): {Job.PULL: [200, 120]},
        (bob.seller_id, "bob's"): {Job.PULL: [35, 2]},
    }
    with sessions.begin() as session:
        for (seller_id, name), jobs in ages.items():
            channel = Channel(seller_id=seller_id, kind="woocommerce", name=name, currency="EUR",
                              base_url="http://unused", options={}, schedule={})
            session.add(channel)
            session.flush()
            for job, days in jobs.items():
                for age in days:  # oldest first, so the newest run of a job has the highest id
                    session.add(SyncRun(seller_id=seller_id, channel_id=channel.id, job=job, trigger="schedule",
                                        started_at=now - timedelta(days=age), outcome=Outcome.OK))
                    session.flush()

    result = app.test_cli_runner().invoke(args=["audit", "prune"])

    assert result.exit_code == 0 and "and 6 sync runs older than 30 days" in result.output
    with sessions() as session:
        left = session.execute(sa.select(Channel.name, SyncRun.job, SyncRun.started_at)
                               .join(Channel, Channel.id == SyncRun.channel_id)).all()
    assert sorted((name, job, (now - at).days) for name, job, at in left) == [
        ("bob's", Job.PULL, 2),
        ("busy", Job.PULL, 1),
        ("busy", Job.PUSH_INVENTORY, 45),  # older than the retention, but its job's newest
        ("idle", Job.PULL, 120),
    ]
