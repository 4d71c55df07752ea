"""The overview's sales summary equals a direct aggregation of the orders, and refreshing it is idempotent."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from hub import reports
from hub.reports_models import SalesDaily
from hub.timeutil import utcnow
from tests.web.support import browser, make_shop, scoped, text


def summary(sessions, account):
    with scoped(sessions, account.actor) as session:
        return sorted(session.execute(sa.select(SalesDaily.day, SalesDaily.channel_id, SalesDaily.ship_country,
                                                SalesDaily.base_currency, SalesDaily.orders,
                                                SalesDaily.revenue_e4)).all())


def test_refreshing_twice_gives_the_same_rows_and_the_30_day_total_equals_revenue_in_base(sessions, alice):
    make_shop(sessions, alice.actor)
    for _ in range(2):
        with scoped(sessions, alice.actor) as session, session.begin():
            reports.refresh_sales(session, alice.seller_id)
    first = summary(sessions, alice)
    with scoped(sessions, alice.actor) as session, session.begin():
        reports.refresh_sales(session, alice.seller_id, full=True)
    assert summary(sessions, alice) == first and first
    end = utcnow()
    with scoped(sessions, alice.actor) as session:
        direct = reports.revenue_in_base(session, alice.actor, end - timedelta(days=30), end, by="channel")
        got = reports.insights(session, alice.actor)
    month = got.periods[2]
    assert month.orders == sum(r.orders for r in direct.rows) + direct.unconverted
    assert month.revenue.amount == sum(r.revenue.amount for r in direct.rows)


def test_todays_orders_show_without_a_refresh_and_bob_never_sees_alices(app, sessions, alice, bob):
    with sessions.begin() as session:  # every seller: a platform session
        reports.refresh_sales(session)
    make_shop(sessions, alice.actor)
    with scoped(sessions, alice.actor) as session:
        assert reports.insights(session, alice.actor).periods[0].orders == 1
    with scoped(sessions, bob.actor) as session:
        assert all(p.orders == 0 for p in reports.insights(session, bob.actor).periods)
    page = text(browser(app, alice).get("/overview"))
    for heading in ("Sync health", "Needs attention", "Oversell risk", "FX rates in use, last 30 days"):
        assert heading in page
    assert 'data-chart="daily"' in page and "<svg" in page


def test_the_worker_schedules_the_sales_summary_refresh_and_it_covers_every_seller(app, sessions, alice, bob):
    from apscheduler.schedulers.background import BackgroundScheduler

    from hub.reports_models import SalesRefresh
    from hub.sync import worker
    from hub.sync.env import SyncEnv
    from hub.sync.schedule import SALES_ID, reconcile

    hub = app.extensions["hub"]
    env = SyncEnv.build(hub.engine, hub.sessions, app.config)
    scheduler = BackgroundScheduler()
    scheduler.start(paused=True)
    try:
        assert SALES_ID in reconcile(env, scheduler, 0, 300).added
        assert SALES_ID in reconcile(env, scheduler, 0, 0).changed
        assert scheduler.get_job(SALES_ID) is None
    finally:
        scheduler.shutdown(wait=False)

    worker._runtime = worker._Runtime(env, worker.WorkerSettings.from_settings(app.config))
    try:
        worker.refresh_sales_job()
    finally:
        worker._runtime = None
    with sessions() as session:
        refreshed = set(session.scalars(sa.select(SalesRefresh.seller_id)))
    assert {alice.seller_id, bob.seller_id} <= refreshed
