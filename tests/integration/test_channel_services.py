"""Channel services below the dashboard: roles, tenancy, validation, health, run calls, SKU mapping."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.accounts.actor import Actor
from hub.accounts.models import Role
from hub.catalog import stock
from hub.catalog.models import StockLevel
from hub.channels import registry as channel_registry
from hub.channels import services
from hub.channels.models import Channel, ChannelWarehouse, Listing
from hub.channels.schemas import ChannelIn, ChannelSettings, CredentialsIn, ScheduleIn, SkuMapping
from hub.channels.secrets import CredentialBox
from hub.errors import Conflict, NotFound, PermissionDenied, ValidationError
from hub.orders.models import OrderLine
from hub.outbound.models import ExternalCall
from hub.sync.apply import apply_order
from hub.sync.models import ChannelCircuit, CircuitState, Job, Outcome, SyncRun
from hub.validation import parse
from tests.integration.helpers import stocked_product
from tests.web.channels_support import make_sync_records, normalize, order_payload

REGISTRY = channel_registry.load()
SECRET = "cs_0123456789abcdefSECRET"
WOO = {"kind": "woocommerce", "name": "Woo", "currency": "EUR", "base_url": "https://shop.example.com",
       "credentials": {"consumer_key": "ck_1", "consumer_secret": SECRET}}


@pytest.fixture
def box(app) -> CredentialBox:
    return CredentialBox.from_settings(app.config)


@pytest.fixture
def session(sessions) -> Iterator[Session]:
    with sessions() as session:
        yield session


def _as(actor: Actor, role: Role) -> Actor:
    return Actor(actor.user_id, actor.seller_id, role, f"{role} user")


def test_connect_seals_the_credentials_and_keeps_names_unique_per_seller(session, box, alice, bob):
    channel = services.connect_channel(session, alice.actor, box, parse(ChannelIn, WOO), registry=REGISTRY)
    session.commit()
    assert SECRET not in channel.credentials_encrypted and box.open(channel.credentials_encrypted)["consumer_secret"]
    with pytest.raises(Conflict) as taken:
        services.connect_channel(session, alice.actor, box, parse(ChannelIn, WOO), registry=REGISTRY)
    assert taken.value.fields == {"name": "already used"}
    session.rollback()
    services.connect_channel(session, bob.actor, box, parse(ChannelIn, WOO), registry=REGISTRY)  # his own "Woo"
    session.commit()
    assert services.masked_credentials(box, channel) == [("consumer_key", "••••••••"), ("consumer_secret", "cs_…ET")]


def test_connect_needs_an_owner_of_a_seller_and_an_installed_connector(session, box, alice):
    data = parse(ChannelIn, WOO)
    with pytest.raises(PermissionDenied):
        services.connect_channel(session, _as(alice.actor, Role.STAFF), box, data, registry=REGISTRY)
    with pytest.raises(PermissionDenied):  # a platform admin acts for no seller
        services.connect_channel(session, Actor(None, None, Role.ADMIN, "admin"), box, data, registry=REGISTRY)
    with pytest.raises(ValidationError) as unknown:
        services.connect_channel(session, alice.actor, box, parse(ChannelIn, {**WOO, "kind": "magento"}),
                                 registry=REGISTRY)
    assert unknown.value.fields == {"kind": "not an installed connector"}


@pytest.mark.parametrize(("data", "field"), [
    ({"credentials": "a=1\nb"}, "credentials"),
    ({"credentials": "a=1\na=2"}, "credentials"),
    ({"credentials": {"bad key": "x"}}, "credentials"),
    ({"base_url": "javascript:alert(1)"}, "base_url"),
    ({"base_url": "https://shop.example.com:99999"}, "base_url"),
    ({"options": "null"}, "options"),
    ({"currency": "XYZ"}, "currency"),
    ({"kind": "Woo Commerce"}, "kind"),
    ({"surprise": "1"}, "surprise"),
])
def test_channel_input_is_checked_field_by_field(data, field):
    with pytest.raises(ValidationError) as refused:
        parse(ChannelIn, {**WOO, **data})
    assert field in refused.value.fields


def test_credential_messages_never_quote_a_value():
    with pytest.raises(ValidationError) as refused:
        parse(CredentialsIn, {"credentials": f"key={SECRET}\nkey={SECRET}"})
    assert SECRET not in refused.value.message and SECRET not in str(refused.value.fields)
    assert parse(CredentialsIn, {"credentials": "# comment\n\n a = b=c \n"}).credentials == {"a": "b=c"}


def test_schedule_bounds_and_stored_shape():
    assert ScheduleIn(pull=0, push_inventory=30, check_drift=7 * 86400).as_schedule() == {
        "pull": 0, "push-inventory": 30, "check-drift": 604800}
    for seconds in (1, 29, 7 * 86400 + 1, -1):
        with pytest.raises(ValidationError):
            parse(ChannelSettings, {"schedule": {"pull": seconds}})
    assert ScheduleIn.of({"push-prices": 90})["push_prices"] == 90


def test_settings_only_take_the_sellers_own_warehouses(app, sessions, session, alice, bob):
    ids = make_sync_records(app, alice.actor)
    stocked_product(sessions, alice.actor, "TEA-1", {"BER": 1, "HAM": 1})
    stocked_product(sessions, bob.actor, "KETTLE-1", {"NYC": 1})
    with sessions() as other:
        bobs = [w.id for w in stock.list_warehouses(other, bob.actor)]
    session.info["seller_id"] = alice.seller_id
    alices = [w.id for w in stock.list_warehouses(session, alice.actor)]
    with pytest.raises(ValidationError):
        services.update_settings(session, alice.actor, ids["channel_id"], ChannelSettings(warehouse_ids=bobs))
    session.rollback()
    services.update_settings(session, alice.actor, ids["channel_id"], ChannelSettings(warehouse_ids=alices))
    services.update_settings(session, alice.actor, ids["channel_id"], ChannelSettings(warehouse_ids=alices[1:]))
    session.commit()
    assert session.scalars(sa.select(ChannelWarehouse.warehouse_id)).all() == alices[1:]
    with pytest.raises(PermissionDenied):
        services.update_settings(session, _as(alice.actor, Role.STAFF), ids["channel_id"], ChannelSettings())
    with pytest.raises(NotFound):
        services.update_settings(session, bob.actor, ids["channel_id"], ChannelSettings())


def test_health_gives_the_newest_run_per_job_circuit_and_open_quarantine(app, sessions, session, alice, bob):
    ids = make_sync_records(app, alice.actor)
    make_sync_records(app, bob.actor)
    with sessions.begin() as s:
        newer = SyncRun(seller_id=alice.seller_id, channel_id=ids["channel_id"], job=Job.PULL, trigger="manual",
                        outcome=Outcome.FAILED)
        push = SyncRun(seller_id=alice.seller_id, channel_id=ids["channel_id"], job=Job.PUSH_INVENTORY,
                       trigger="schedule", outcome=Outcome.OK)
        s.add_all([newer, push, ChannelCircuit(channel_id=ids["channel_id"], seller_id=alice.seller_id,
                                               state=CircuitState.HALF_OPEN, failures=1, last_error="x")])
    channels = services.list_channels(session, alice.actor)
    assert [c.name for c in channels] == ["Woo EU", "direct"]
    health = services.health(session, alice.actor, channels)
    woo = health[ids["channel_id"]]
    assert {job: run.id for job, run in woo.last_runs.items()} == {Job.PULL: newer.id, Job.PUSH_INVENTORY: push.id}
    assert woo.last_run.id == push.id and woo.circuit.state is CircuitState.HALF_OPEN and woo.open_quarantine == 1
    newest_only = services.health(session, alice.actor, channels, per_job=False)[ids["channel_id"]]
    assert {job: run.id for job, run in newest_only.last_runs.items()} == {Job.PUSH_INVENTORY: push.id}
    direct = health[channels[1].id]
    assert (direct.last_run, direct.circuit, direct.open_quarantine) == (None, None, 0)


def test_health_asks_for_many_channels_in_several_statements_with_the_same_answer(app, sessions, session, alice,
                                                                                 monkeypatch):
    ids = make_sync_records(app, alice.actor)
    other = make_sync_records(app, alice.actor, name="Woo UK")
    channels = services.list_channels(session, alice.actor)
    whole = {c: {job: run.id for job, run in h.last_runs.items()}
             for c, h in services.health(session, alice.actor, channels).items()}
    monkeypatch.setattr(services, "HEALTH_CHANNELS_PER_STATEMENT", 1)
    statements = []
    sa.event.listen(session.get_bind(), "before_cursor_execute", lambda *a: statements.append(a[2]))
    piecewise = {c: {job: run.id for job, run in h.last_runs.items()}
                 for c, h in services.health(session, alice.actor, channels).items()}
    assert piecewise == whole and whole[ids["channel_id"]] and whole[other["channel_id"]]
    assert sum("sync_runs" in s for s in statements) == len(channels)


def test_a_runs_calls_are_its_own_and_its_sellers_only(app, sessions, session, alice, bob):
    ids = make_sync_records(app, alice.actor)
    with sessions.begin() as s:  # a row of another seller under the same run id must not leak into the page
        s.add(ExternalCall(at=datetime.now(UTC), seller_id=bob.seller_id, service="x", method="GET",
                           url="https://elsewhere.example.com", status=200, duration_ms=1, attempt=1,
                           run_id=ids["run_id"]))
    run = services.get_run(session, alice.actor, ids["run_id"])
    assert [c.url for c in services.run_calls(session, alice.actor, run)] == [
        "https://shop.example.com/wp-json/wc/v3/orders"]
    with pytest.raises(NotFound):
        services.get_run(session, bob.actor, ids["run_id"])
    with pytest.raises(NotFound):
        services.get_channel(session, bob.actor, ids["channel_id"])
    assert services.list_runs(session, alice.actor, services.get_channel(session, alice.actor, ids["channel_id"]))


def test_mapping_a_sku_links_waiting_lines_of_open_orders_and_reserves_stock(app, sessions, session, alice, bob):
    product_id = stocked_product(sessions, alice.actor, "TEA-1", {"BER": 5})
    bobs_product = stocked_product(sessions, bob.actor, "KETTLE-1")
    ids = make_sync_records(app, alice.actor)
    with sessions.begin() as s:
        channel = s.get(Channel, ids["channel_id"])
        apply_order(s, channel, normalize([order_payload("W-9", "WOO-TEA", 2)])[0])
    session.info["seller_id"] = alice.seller_id
    [waiting] = services.list_unmatched(session, alice.actor)
    assert (waiting.listing.id, waiting.channel_name, waiting.waiting_lines) == (ids["listing_id"], "Woo EU", 1)
    session.rollback()
    with pytest.raises(PermissionDenied):
        services.map_sku(session, _as(alice.actor, Role.VIEWER), ids["listing_id"], SkuMapping(product_id=product_id))
    with pytest.raises(ValidationError):
        services.map_sku(session, alice.actor, ids["listing_id"], SkuMapping(product_id=bobs_product))
    session.rollback()
    with pytest.raises(NotFound):
        services.map_sku(session, bob.actor, ids["listing_id"], SkuMapping(product_id=bobs_product))
    session.rollback()
    listing, relinked = services.map_sku(session, _as(alice.actor, Role.STAFF), ids["listing_id"],
                                         SkuMapping(product_id=product_id))
    session.commit()
    assert (listing.product_id, relinked) == (product_id, 1)
    assert session.scalars(sa.select(OrderLine.product_id).where(OrderLine.sku == "WOO-TEA")).one() == product_id
    assert session.scalars(sa.select(StockLevel.reserved).where(StockLevel.product_id == product_id)).one() == 2
    assert services.list_unmatched(session, alice.actor) == []
    assert session.get(Listing, ids["listing_id"]).last_pushed_quantity is None
