"""Channels on the dashboard: connect, settings, credentials kept secret, health, sync now, runs, SKU mapping."""

from __future__ import annotations

import json
import re
import threading

import pytest
import sqlalchemy as sa

from hub.accounts.models import Role
from hub.catalog.models import StockLevel
from hub.channels.models import Channel, ChannelWarehouse, Listing
from hub.channels.secrets import CredentialBox
from hub.orders.models import Order, OrderLine
from hub.sync.models import ChannelCircuit, CircuitState, QuarantinedOrder, SyncRun
from hub.web.channels import runs
from tests.web.channels_support import (
    FAKE,
    SECRET,
    install_fakeshop,
    make_sync_records,
    order_payload,
)
from tests.web.support import add_user, browser, make_shop, text

CONNECT = {"kind": "woocommerce", "name": "Woo EU", "currency": "eur", "base_url": "https://shop.example.com/",
           "timezone": "Europe/Berlin", "credentials": f"consumer_key=ck_abcdefghijklmnop\nconsumer_secret={SECRET}",
           "options": '{"api_version": "wc/v3"}'}


@pytest.fixture
def inline_sync(monkeypatch: pytest.MonkeyPatch) -> None:
    """"Sync now" runs the job before the request returns, so that a test can look at its run at once."""
    monkeypatch.setattr(runs, "start_in_background", lambda work, name: work())


def _channel(sessions, name: str) -> Channel:
    with sessions() as session:
        return session.scalars(sa.select(Channel).where(Channel.name == name)).one()


def _fakeshop(app, alice, orders: list[dict], name: str = "Fake") -> int:
    install_fakeshop(app)
    owner = browser(app, alice)
    created = owner.post("/channels/new", {"kind": FAKE, "name": name, "currency": "EUR",
                                           "base_url": "https://fake.example.com",
                                           "options": json.dumps({"orders": orders})})
    assert created.status_code == 302, text(created)
    return int(created.location.rsplit("/", 1)[1])


def test_an_owner_connects_a_channel_and_no_page_ever_shows_the_secret(app, sessions, alice):
    owner = browser(app, alice)
    form = text(owner.get("/channels/new"))
    assert '<option value="woocommerce"' in form and '<option value="shopify"' in form
    created = owner.post("/channels/new", CONNECT)
    assert created.status_code == 302
    page = text(owner.get(created.location))
    assert "Channel Woo EU connected" in page
    assert "consumer_secret" in page and "sk_…99" in page and SECRET not in page
    assert "ck_…op" in page and "ck_abcdefghijklmnop" not in page
    assert SECRET not in text(owner.get("/channels"))
    channel = _channel(sessions, "Woo EU")
    assert (channel.currency, channel.base_url, channel.timezone) == ("EUR", "https://shop.example.com",
                                                                      "Europe/Berlin")
    assert channel.options == {"api_version": "wc/v3"}
    assert SECRET not in channel.credentials_encrypted  # sealed at rest
    assert CredentialBox.from_settings(app.config).open(channel.credentials_encrypted)["consumer_secret"] == SECRET

    # A refused form does not send the credentials back either, and says they must be entered again.
    again = owner.post("/channels/new", CONNECT)
    assert again.status_code == 409 and "already exists" in text(again)
    assert SECRET not in text(again) and "never shown back" in text(again)


def test_replacing_credentials_replaces_them_all_and_shows_them_masked(app, sessions, alice):
    ids = make_sync_records(app, alice.actor)
    owner = browser(app, alice)
    replaced = owner.post(f"/channels/{ids['channel_id']}/credentials",
                          {"credentials": "consumer_key=ck_new_key_000001\nconsumer_secret=cs_new_secret_00002"})
    assert replaced.status_code == 302
    page = text(owner.get(replaced.location))
    assert "Credentials replaced." in page and "cs_…02" in page and "cs_new_secret_00002" not in page
    box = CredentialBox.from_settings(app.config)
    assert box.open(_channel(sessions, "Woo EU").credentials_encrypted) == {
        "consumer_key": "ck_new_key_000001", "consumer_secret": "cs_new_secret_00002"}
    bad = owner.post(f"/channels/{ids['channel_id']}/credentials", {"credentials": "no equals sign here"})
    assert bad.status_code == 422 and "line 1 is not key=value" in text(bad)
    assert "no equals sign here" not in text(bad)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("kind", "magento", "no connector 'magento' is installed"),
    ("base_url", "ftp://shop.example.com", "must be an http:// or https:// URL"),
    ("base_url", "https://user:pw@shop.example.com", "not in the URL"),
    ("currency", "EURO", "unknown currency"),
    ("options", "{not json", "not valid JSON"),
    ("options", "[1, 2]", "must be a JSON object"),
    ("timezone", "Mars/Olympus", "unknown timezone"),
    ("credentials", "consumer_key=", "consumer_key has no value"),
    ("name", "", "name"),
])
def test_bad_connect_input_is_refused_with_a_message_and_nothing_is_stored(app, sessions, alice, field, value,
                                                                           message):
    refused = browser(app, alice).post("/channels/new", {**CONNECT, field: value})
    assert refused.status_code == 422, text(refused)
    assert message in text(refused)
    with sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Channel)) == 1  # the direct channel only


def test_settings_assign_warehouses_rules_and_schedule(app, sessions, alice):
    make_shop(sessions, alice.actor)  # warehouse MAIN
    ids = make_sync_records(app, alice.actor)
    owner = browser(app, alice)
    page = text(owner.get(f"/channels/{ids['channel_id']}"))
    main_id = re.search(r'name="warehouse_ids\[0\]" value="(\d+)"', page).group(1)
    saved = owner.post(f"/channels/{ids['channel_id']}/settings", {
        "base_url": "https://shop2.example.com", "timezone": "UTC", "options": '{"page_size": 50}',
        "warehouse_ids[0]": main_id, "stock_buffer": "2", "stock_percent": "80", "stock_max": "",
        "stock_zero_below": "3", "schedule.pull": "600", "schedule.push_inventory": "0"})
    assert saved.status_code == 302, text(saved)
    assert 'name="stock_percent" value="80"' in text(owner.get(saved.location))
    with sessions() as session:
        channel = session.get(Channel, ids["channel_id"])
        assert (channel.base_url, channel.stock_buffer, channel.stock_percent, channel.stock_max,
                channel.stock_zero_below) == ("https://shop2.example.com", 2, 80, None, 3)
        assert channel.schedule == {"pull": 600, "push-inventory": 0}
        assert channel.options == {"page_size": 50}
        assert session.scalars(sa.select(ChannelWarehouse.warehouse_id)).all() == [int(main_id)]
    # Unticking every warehouse clears the assignment (the channel then sells from all of them).
    assert owner.post(f"/channels/{ids['channel_id']}/settings", {"stock_percent": "80"}).status_code == 302
    with sessions() as session:
        assert session.scalars(sa.select(ChannelWarehouse)).all() == []


@pytest.mark.parametrize(("field", "value", "message"), [
    ("stock_buffer", "two", "valid integer"),
    ("stock_percent", "101", "less than or equal to 100"),
    ("stock_max", "-1", "greater than or equal to 0"),
    ("schedule.pull", "5", "at least 30 seconds"),
    ("schedule.pull", "99999999", "less than or equal to 604800"),
    ("options", '{"a": ', "not valid JSON"),
    ("warehouse_ids[0]", "999999", "unknown warehouse"),
])
def test_bad_settings_are_refused_next_to_their_input_and_nothing_changes(app, sessions, alice, field, value,
                                                                          message):
    ids = make_sync_records(app, alice.actor)
    refused = browser(app, alice).post(f"/channels/{ids['channel_id']}/settings",
                                       {"stock_percent": "50", field: value})
    assert refused.status_code == 422, text(refused)
    assert message in text(refused)
    if field != "warehouse_ids[0]":  # the input is kept, to be fixed
        assert f'value="{value}"' in text(refused) or f">{value}</textarea>" in text(refused)
    assert _channel(sessions, "Woo EU").stock_percent == 100


def test_an_owner_disables_and_enables_a_channel_but_not_the_direct_one(app, sessions, alice):
    ids = make_sync_records(app, alice.actor)
    owner = browser(app, alice)
    assert owner.post(f"/channels/{ids['channel_id']}/disable").status_code == 302
    assert not _channel(sessions, "Woo EU").is_active
    page = text(owner.get(f"/channels/{ids['channel_id']}"))
    assert "disabled" in page and "Sync now" not in page
    assert owner.post(f"/channels/{ids['channel_id']}/sync", {"job": "pull"}).status_code == 409
    assert owner.post(f"/channels/{ids['channel_id']}/enable").status_code == 302
    assert _channel(sessions, "Woo EU").is_active
    direct = _channel(sessions, "direct")
    refused = owner.post(f"/channels/{direct.id}/disable")
    assert refused.status_code == 422 and "cannot be disabled" in text(refused)


def test_staff_may_operate_but_not_manage_and_a_viewer_only_reads(app, sessions, security, alice):
    ids = make_sync_records(app, alice.actor)
    add_user(sessions, security, alice, Role.STAFF, "staff@teas.example.com")
    add_user(sessions, security, alice, Role.VIEWER, "viewer@teas.example.com")
    staff, viewer = browser(app, "staff@teas.example.com"), browser(app, "viewer@teas.example.com")
    assert staff.get("/channels/new").status_code == 403
    assert staff.post("/channels/new", CONNECT).status_code == 403
    assert staff.post(f"/channels/{ids['channel_id']}/settings", {"stock_percent": "1"}).status_code == 403
    assert staff.post(f"/channels/{ids['channel_id']}/disable").status_code == 403
    staff_page = text(staff.get(f"/channels/{ids['channel_id']}"))
    assert "Sync now" in staff_page and "Save settings" not in staff_page and "Replace credentials" not in staff_page
    assert "Connect channel" not in text(staff.get("/channels"))
    assert viewer.post(f"/channels/{ids['channel_id']}/sync", {"job": "pull"}).status_code == 403
    for path in ("/channels", f"/channels/{ids['channel_id']}", f"/runs/{ids['run_id']}", "/listings/unmatched",
                 "/quarantine", f"/quarantine/{ids['item_id']}"):
        page = viewer.get(path)
        assert page.status_code == 200, path
        forms = re.findall(r'<form method="post"[^>]*>', text(page))
        assert forms == ['<form method="post" action="/logout" class="inline">'], f"{path} has forms {forms}"
        assert SECRET not in text(page)
    with sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(SyncRun)) == 1


def test_another_sellers_channel_run_listing_and_quarantine_are_not_found(app, sessions, alice, bob):
    alices = make_sync_records(app, alice.actor)
    make_sync_records(app, bob.actor, name="Bob's Woo")
    as_bob = browser(app, bob)
    for path in (f"/channels/{alices['channel_id']}", f"/runs/{alices['run_id']}",
                 f"/quarantine/{alices['item_id']}"):
        assert as_bob.get(path).status_code == 404, path
    assert as_bob.post(f"/channels/{alices['channel_id']}/sync", {"job": "pull"}).status_code == 404
    assert as_bob.post(f"/listings/{alices['listing_id']}/map", {"product_id": "1"}).status_code == 404
    for path in ("/channels", "/listings/unmatched", "/quarantine"):
        page = text(as_bob.get(path))
        assert "Woo EU" not in page and "Bob's Woo" in page, path
    assert text(as_bob.get("/listings/unmatched")).count('<tr data-sku="WOO-TEA">') == 1  # his own only
    assert text(as_bob.get("/quarantine")).count("<tr data-item=") == 1


def test_the_list_shows_each_channels_health(app, sessions, alice):
    ids = make_sync_records(app, alice.actor)
    with sessions.begin() as session:
        session.add(ChannelCircuit(channel_id=ids["channel_id"], seller_id=alice.seller_id, state=CircuitState.OPEN,
                                   failures=5, last_error="TransientError: 503"))
    page = text(browser(app, alice).get("/channels"))
    row = re.search(r'<tr data-channel="Woo EU">.*?</tr>', page, re.S).group(0)
    assert "Pull orders" in row and "partial" in row and ">open" in row
    assert f'href="/quarantine?channel={ids["channel_id"]}">1</a>' in row


def test_the_overview_shows_each_channels_health_and_the_quarantine_total(app, sessions, alice, bob):
    ids = make_sync_records(app, alice.actor)
    make_sync_records(app, bob.actor, name="Bob's Woo")  # his quarantined order is not alice's
    with sessions.begin() as session:
        session.add(ChannelCircuit(channel_id=ids["channel_id"], seller_id=alice.seller_id,
                                   state=CircuitState.HALF_OPEN, failures=3, last_error="TransientError: 503"))
    page = text(browser(app, alice).get("/overview"))
    row = re.search(r'<tr data-channel="Woo EU">.*?</tr>', page, re.S).group(0)
    assert "partial" in row and ">half_open<" in row
    assert f'href="/quarantine?channel={ids["channel_id"]}">1</a>' in row
    assert "Quarantined orders: 1<" in page and "Bob's Woo" not in page


def test_sync_now_pulls_and_the_run_page_shows_its_api_calls(app, sessions, security, alice, inline_sync):
    make_shop(sessions, alice.actor, sku="TEA-1")
    channel_id = _fakeshop(app, alice, [order_payload("F-1", "TEA-1", 2), order_payload("F-2", "UNKNOWN-9"),
                                        order_payload("F-3", "TEA-1", currency="EURO")])
    add_user(sessions, security, alice, Role.STAFF, "staff@teas.example.com")
    staff = browser(app, "staff@teas.example.com")
    started = staff.post(f"/channels/{channel_id}/sync", {"job": "pull"})
    assert started.status_code == 302
    page = text(staff.get(started.location))
    assert "Pull orders of Fake started" in page
    with sessions() as session:
        run = session.scalars(sa.select(SyncRun)).one()
        assert (run.trigger, run.outcome, run.created, run.quarantined, run.api_calls, run.retries, run.throttled) == (
            "manual", "partial", 2, 1, 2, 1, 1)
    assert f'href="/runs/{run.id}"' in page
    calls = text(staff.get(f"/runs/{run.id}"))
    assert "2 calls · 1 retries · 1 throttled" in calls
    table = calls.partition('id="calls"')[2]
    assert table.count("https://fake.example.com/orders?updated_min=REDACTED") == 2
    assert re.search(r'<td class="num">429</td><td class="num">5 ms</td>\s*<td class="num">1</td><td>yes</td>', table)
    assert re.search(r'<td class="num">200</td><td class="num">17 ms</td>\s*<td class="num">2</td><td></td>', table)
    for bad in ({"job": "teleport"}, {"job": "push-inventory"}, {}):  # unknown, or beyond the connector
        refused = staff.post(f"/channels/{channel_id}/sync", bad)
        assert refused.status_code == 422, bad
    with sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(SyncRun)) == 1


def test_sync_now_returns_at_once_and_the_job_runs_in_the_background(app, sessions, alice, monkeypatch):
    channel_id = _fakeshop(app, alice, [order_payload("F-1", "TEA-1")])
    threads: list[threading.Thread] = []
    release = threading.Event()
    real_start = runs.start_in_background

    def start(work, name):
        def held():
            release.wait(10)  # the job cannot have finished when the response is read
            work()

        threads.append(real_start(held, name))
        return threads[-1]

    monkeypatch.setattr(runs, "start_in_background", start)
    owner = browser(app, alice)
    assert owner.post(f"/channels/{channel_id}/sync", {"job": "pull"}).status_code == 302
    with sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(SyncRun)) == 0
    release.set()
    threads[0].join(30)
    assert not threads[0].is_alive()
    with sessions() as session:
        assert session.scalars(sa.select(SyncRun.outcome)).one() == "ok"
        assert session.scalar(sa.select(Order.external_id).where(Order.channel_id == channel_id)) == "F-1"


def test_an_unmatched_sku_is_mapped_in_two_clicks_and_its_waiting_lines_get_stock(app, sessions, alice,
                                                                                     inline_sync):
    shop = make_shop(sessions, alice.actor, sku="TEA-1", on_hand=10, ordered=1)
    channel_id = _fakeshop(app, alice, [order_payload("F-1", "tea-1 ", 3)])
    owner = browser(app, alice)
    assert owner.post(f"/channels/{channel_id}/sync", {"job": "pull"}).status_code == 302
    page = text(owner.get("/listings/unmatched"))
    row = re.search(r'<tr data-sku="tea-1 ">.*?</tr>', page, re.S).group(0)
    assert '<td class="num">1</td>' in row  # one order line waits
    assert f'<option value="{shop.product_id}" selected>' in row  # same SKU but for case: preselected
    listing_id = int(re.search(r'action="/listings/(\d+)/map"', row).group(1))

    bad = owner.post(f"/listings/{listing_id}/map", {"product_id": "abc"})
    assert bad.status_code == 422 and "valid integer" in text(bad)
    unknown = owner.post(f"/listings/{listing_id}/map", {"product_id": "99999"})
    assert unknown.status_code == 422 and "unknown product" in text(unknown)

    mapped = owner.post(f"/listings/{listing_id}/map", {"product_id": str(shop.product_id)})
    assert mapped.status_code == 302
    assert "tea-1  mapped; 1 waiting order line relinked." in text(owner.get(mapped.location))
    with sessions() as session:
        assert session.get(Listing, listing_id).product_id == shop.product_id
        line = session.scalars(sa.select(OrderLine).join(Order).where(Order.channel_id == channel_id)).one()
        assert (line.product_id, line.quantity_short) == (shop.product_id, 0)
        level = session.scalars(sa.select(StockLevel).where(StockLevel.product_id == shop.product_id)).one()
        assert (level.on_hand, level.reserved) == (10, 1 + 3)
    assert "Every SKU is matched." in text(owner.get("/listings/unmatched"))


def test_a_staff_user_maps_skus_but_a_viewer_cannot(app, sessions, security, alice):
    shop = make_shop(sessions, alice.actor)
    ids = make_sync_records(app, alice.actor)
    add_user(sessions, security, alice, Role.VIEWER, "viewer@teas.example.com")
    viewer = browser(app, "viewer@teas.example.com")
    assert viewer.post(f"/listings/{ids['listing_id']}/map", {"product_id": str(shop.product_id)}).status_code == 403
    with sessions() as session:
        assert session.get(Listing, ids["listing_id"]).product_id is None
        assert session.get(QuarantinedOrder, ids["item_id"]).status == "open"
