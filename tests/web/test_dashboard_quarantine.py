"""Quarantine on the dashboard: see why an order was held and its payload, replay it after a fix, or discard it;
one at a time or a ticked batch."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from hub.accounts.models import Role
from hub.orders.models import Order
from hub.sync.models import QuarantinedOrder, QuarantineStatus
from hub.web.channels import runs
from tests.web.channels_support import ALIASES, FAKE, install_fakeshop, make_sync_records, order_payload
from tests.web.support import add_user, browser, make_shop, text

Q = QuarantineStatus


@pytest.fixture
def held(app, sessions, alice, monkeypatch) -> dict[str, int]:
    """A fakeshop channel whose pull quarantined three orders: two in currency "EURO" (which the connector does
    not know yet) and one without an id. Returns their ids by external id ("" for the one without)."""
    monkeypatch.setattr(runs, "start_in_background", lambda work, name: work())
    make_shop(sessions, alice.actor, sku="TEA-1")
    install_fakeshop(app)
    orders = [order_payload("F-1", "TEA-1", currency="EURO"), order_payload("F-2", "TEA-1", currency="EURO"),
              {"currency": "EUR", "lines": [["TEA-1", 1, "9.50"]], "note": "no id"}]
    owner = browser(app, alice)
    created = owner.post("/channels/new", {"kind": FAKE, "name": "Fake", "currency": "EUR",
                                           "options": json.dumps({"orders": orders})})
    assert created.status_code == 302, text(created)
    assert owner.post(created.location + "/sync", {"job": "pull"}).status_code == 302
    with sessions() as session:
        return dict(session.execute(sa.select(QuarantinedOrder.external_id, QuarantinedOrder.id)).all())


def _status(sessions, item_id: int) -> Q:
    with sessions() as session:
        return session.get(QuarantinedOrder, item_id).status


def test_the_list_and_the_detail_show_reason_and_payload(app, alice, held):
    owner = browser(app, alice)
    page = text(owner.get("/quarantine"))
    assert page.count("<tr data-item=") == 3
    row = re.search(rf'<tr data-item="{held["F-1"]}">.*?</tr>', page, re.S).group(0)
    assert "Fake" in row and "F-1" in row and "unknown currency 'EURO'" in row and '<td class="num">1</td>' in row
    detail = text(owner.get(f"/quarantine/{held['F-1']}"))
    assert "unknown currency 'EURO'" in detail
    payload = detail.partition('<pre id="payload">')[2].partition("</pre>")[0]
    assert '\n  "currency": "EURO"' in payload and '"id": "F-1"' in payload
    assert "Replay" in detail and "Discard" in detail


def test_a_replay_fails_until_the_connector_is_fixed_then_imports_the_order(app, sessions, alice, held,
                                                                             monkeypatch):
    owner = browser(app, alice)
    again = owner.post(f"/quarantine/{held['F-1']}/replay")
    assert again.status_code == 302 and again.location.endswith(f"/quarantine/{held['F-1']}")
    assert "Still failing: replay failed: unknown currency 'EURO'" in text(owner.get(again.location))
    assert _status(sessions, held["F-1"]) is Q.OPEN

    monkeypatch.setitem(ALIASES, "EURO", "EUR")  # the connector learns the spelling
    replayed = owner.post(f"/quarantine/{held['F-1']}/replay")
    assert replayed.status_code == 302
    assert "Replayed: order F-1 created." in text(owner.get(replayed.location))
    with sessions() as session:
        item = session.get(QuarantinedOrder, held["F-1"])
        order = session.scalars(sa.select(Order).where(Order.external_id == "F-1")).one()
        assert (item.status, item.order_id, item.resolved_by) == (Q.REPLAYED, order.id, "alice@teas.example.com")
        assert order.currency == "EUR"
    resolved = owner.post(f"/quarantine/{held['F-1']}/replay")
    assert resolved.status_code == 422 and "is replayed, not open" in text(resolved)
    assert "Replay" not in text(owner.get(f"/quarantine/{held['F-1']}")).partition("<h2>Payload")[0].partition(
        "</dl>")[2]


def test_a_single_discard_resolves_the_item(app, sessions, alice, held):
    owner = browser(app, alice)
    discarded = owner.post(f"/quarantine/{held['']}/discard")
    assert discarded.status_code == 302
    assert f"Quarantined order {held['']} discarded." in text(owner.get(discarded.location))
    assert _status(sessions, held[""]) is Q.DISCARDED
    assert text(owner.get("/quarantine")).count("<tr data-item=") == 2


def test_bulk_replay_and_bulk_discard(app, sessions, security, alice, held, monkeypatch):
    add_user(sessions, security, alice, Role.STAFF, "staff@teas.example.com")
    staff = browser(app, "staff@teas.example.com")
    monkeypatch.setitem(ALIASES, "EURO", "EUR")
    replayed = staff.post("/quarantine/bulk", {"action": "replay", "ids": [str(held["F-1"]), str(held["F-2"]),
                                                                            str(held[""])]})
    assert replayed.status_code == 302
    assert f"2 replayed; 1 still failing ({held['']})." in text(staff.get(replayed.location))
    assert [_status(sessions, held[k]) for k in ("F-1", "F-2", "")] == [Q.REPLAYED, Q.REPLAYED, Q.OPEN]

    discarded = staff.post("/quarantine/bulk", {"action": "discard", "ids": [str(held[""]), str(held["F-1"])]})
    assert discarded.status_code == 302
    assert "1 discarded; 1 already resolved." in text(staff.get(discarded.location))
    assert _status(sessions, held[""]) is Q.DISCARDED
    assert "Nothing in quarantine." in text(staff.get("/quarantine"))


@pytest.mark.parametrize(("form", "message"), [
    ({"action": "replay"}, "tick at least one order first"),
    ({"action": "replay", "ids": "x1"}, "not an id"),
    ({"action": "explode", "ids": "1"}, "choose replay or discard"),
])
def test_a_bad_bulk_form_is_refused_with_a_message(app, sessions, alice, held, form, message):
    refused = browser(app, alice).post("/quarantine/bulk", form)
    assert refused.status_code == 422 and message in text(refused)
    assert {_status(sessions, i) for i in held.values()} == {Q.OPEN}


def test_another_sellers_items_are_not_found_alone_or_in_a_batch(app, sessions, alice, bob, held):
    bobs = make_sync_records(app, bob.actor, name="Bob's Woo")
    as_bob = browser(app, bob)
    assert as_bob.get(f"/quarantine/{held['F-1']}").status_code == 404
    assert as_bob.post(f"/quarantine/{held['F-1']}/replay").status_code == 404
    assert as_bob.post(f"/quarantine/{held['F-1']}/discard").status_code == 404
    mixed = as_bob.post("/quarantine/bulk", {"action": "discard", "ids": [str(bobs["item_id"]), str(held["F-1"])]})
    assert mixed.status_code == 404
    assert _status(sessions, bobs["item_id"]) is Q.OPEN  # all or nothing
    assert {_status(sessions, i) for i in held.values()} == {Q.OPEN}


def test_a_viewer_may_not_replay_or_discard(app, sessions, security, alice, held):
    add_user(sessions, security, alice, Role.VIEWER, "viewer@teas.example.com")
    viewer = browser(app, "viewer@teas.example.com")
    assert viewer.post(f"/quarantine/{held['F-1']}/replay").status_code == 403
    assert viewer.post(f"/quarantine/{held['F-1']}/discard").status_code == 403
    assert viewer.post("/quarantine/bulk", {"action": "discard", "ids": str(held["F-1"])}).status_code == 403
    assert 'type="checkbox"' not in text(viewer.get("/quarantine"))
    assert {_status(sessions, i) for i in held.values()} == {Q.OPEN}
