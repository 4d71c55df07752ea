"""The order pull against the WooCommerce sandbox over real HTTP: repeated and overlapping pulls, page sizes,
redeliveries and injected faults never lose or double an order."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.orders.models import Order
from hub.sandbox.faults import Faults
from hub.sandbox.server import Mount, running_mount
from hub.sandbox.woocommerce import CONSUMER_KEY, CONSUMER_SECRET, WEBHOOK_SECRET, create_app
from hub.sync.jobs import run_job
from hub.sync.models import Outcome, QuarantinedOrder, SyncRun

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)
CREDENTIALS = {"consumer_key": CONSUMER_KEY, "consumer_secret": CONSUMER_SECRET, "webhook_secret": WEBHOOK_SECRET}


@pytest.fixture(scope="module")
def front() -> Iterator[tuple[Mount, str]]:
    with running_mount("woocommerce-sync") as mounted:
        yield mounted


def sandbox_orders(app) -> dict[str, dict]:
    """What the connector lists: every order but the trashed ones."""
    return {str(i): o for i, o in app.extensions["sandbox"].orders.items() if o["status"] != "trash"}


def hub_orders(env, channel_id: int) -> list[Order]:
    with env.sessions() as session:
        return list(session.scalars(sa.select(Order).where(Order.channel_id == channel_id)))


def modified(raw: dict) -> datetime:
    return datetime.fromisoformat(raw["date_modified_gmt"]).replace(tzinfo=UTC)


def held_in_quarantine(env, channel_id: int) -> set[str]:
    with env.sessions() as session:
        return set(session.scalars(sa.select(QuarantinedOrder.external_id)
                                   .where(QuarantinedOrder.channel_id == channel_id)))


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(per_page=st.sampled_from([7, 25, 100]), redeliver=st.booleans(),
       ticks=st.lists(st.integers(1, 12), min_size=1, max_size=3), replay_from_start=st.booleans())
def test_repeated_and_overlapping_pulls_over_http_hold_each_order_once_in_its_latest_version(
        env, make_channel, alice, front, per_page, redeliver, ticks, replay_from_start):
    mount, base_url = front
    app = create_app(seed=per_page + len(ticks), orders=120, faults=Faults(repeat_across_pages=redeliver))
    mount.app = app
    channel = make_channel(alice.seller_id, "woocommerce", base_url, CREDENTIALS,
                           name=f"woo {uuid.uuid4().hex[:8]}",
                           options={"per_page": per_page})

    assert run_job(env, channel.id, "pull", trigger="cli", since=LONG_AGO).outcome is Outcome.OK
    for count in ticks:
        app.extensions["sandbox"].tick(count)
        assert run_job(env, channel.id, "pull").outcome is Outcome.OK
        if replay_from_start:  # an operator's backfill overlapping everything already pulled
            assert run_job(env, channel.id, "pull", trigger="cli", since=LONG_AGO).outcome is Outcome.OK

    held = hub_orders(env, channel.id)
    expected = sandbox_orders(app)
    assert len(held) == len({o.external_id for o in held}) == len(expected)
    assert {o.external_id: o.updated_at for o in held} == {k: modified(o) for k, o in expected.items()}


def test_with_a_fifth_of_calls_and_orders_faulty_every_good_order_arrives_and_every_bad_one_is_quarantined(
        env, make_channel, alice, front):
    mount, base_url = front
    faults = Faults(seed=5, error_rate=0.08, timeout_rate=0.04, hang_seconds=0.6, malformed_rate=0.04,
                    throttle_burst=3)
    app = create_app(seed=11, orders=400, faults=faults, malformed_order_rate=0.05)
    mount.app = app
    env.timeout = (2.0, 0.3)  # the sandbox's hangs outlast this: they are timeouts to the client
    channel = make_channel(alice.seller_id, "woocommerce", base_url, CREDENTIALS, options={"per_page": 25})

    outcomes = [run_job(env, channel.id, "pull", trigger="cli", since=LONG_AGO).outcome]
    # A run whose retries were all spent fails; the scheduler's next run resumes from the stored cursor.
    while outcomes[-1] is Outcome.FAILED and len(outcomes) < 6:
        outcomes.append(run_job(env, channel.id, "pull").outcome)

    expected = sandbox_orders(app)
    malformed = {str(i) for i in app.extensions["sandbox"].malformed} & set(expected)
    held = hub_orders(env, channel.id)
    assert malformed, "the sandbox served malformed orders"
    assert sorted(o.external_id for o in held) == sorted(set(expected) - malformed)
    assert held_in_quarantine(env, channel.id) == malformed
    with env.sessions() as session:
        runs = session.scalars(sa.select(SyncRun).where(SyncRun.channel_id == channel.id)).all()
    assert sum(r.retries for r in runs) > 0 and sum(r.throttled for r in runs) >= 3
    assert outcomes[-1] is Outcome.PARTIAL
