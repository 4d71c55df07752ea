"""A platform admin acting for one seller: scoped to it like its owner, still named as the admin in events."""

from __future__ import annotations

import re

import sqlalchemy as sa

from hub.orders.models import OrderEvent
from hub.web.session_user import ACTING_SELLER
from tests.web.support import browser, make_shop, text
from tests.web.test_dashboard_fx import ADMIN, make_admin


def acting(b) -> object:
    with b.client.session_transaction() as session:
        return session.get(ACTING_SELLER)


def test_an_admin_acting_for_alice_sees_only_her_goods_and_orders_until_switching_back(
        app, sessions, security, alice, bob):
    make_shop(sessions, alice.actor, sku="ALICE-1")
    make_shop(sessions, bob.actor, sku="BOB-1")
    make_admin(sessions, security)
    admin = browser(app, ADMIN)
    for path in ("/products", "/stock"):
        page = text(admin.get(path))
        assert "ALICE-1" in page and "BOB-1" in page, path

    switched = admin.post("/admin/acting", {"seller_id": str(alice.seller_id)})
    assert switched.status_code == 302 and acting(admin) == alice.seller_id
    assert "You are acting for Alice's Teas" in text(admin.get(switched.location))
    for path in ("/products", "/stock", "/orders?q=ALICE-1"):
        page = text(admin.get(path))
        assert "ALICE-1" in page and "BOB-1" not in page, path
    assert "BOB-1" not in text(admin.get("/orders?q=BOB-1")).partition("</form>\n<table")[2]
    top = text(admin.get("/overview"))
    assert "Alice's Teas" in top.partition('<div class="who">')[2].partition("<form")[0]
    assert re.search(rf'<option value="{alice.seller_id}" selected>', top)

    back = admin.post("/admin/acting", {"seller_id": ""})
    assert back.status_code == 302 and acting(admin) is None
    page = text(admin.get("/products"))
    assert "ALICE-1" in page and "BOB-1" in page


def test_what_an_acting_admin_changes_is_recorded_under_the_admins_own_name(app, sessions, security, alice):
    shop = make_shop(sessions, alice.actor)
    admin_id = make_admin(sessions, security)
    admin = browser(app, ADMIN)
    admin.post("/admin/acting", {"seller_id": str(alice.seller_id)})
    assert admin.post(f"/orders/{shop.order_id}/cancel", {"note": "buyer asked"}).status_code == 302
    with sessions() as session:
        event = session.scalars(sa.select(OrderEvent).where(OrderEvent.order_id == shop.order_id)
                                .order_by(OrderEvent.id.desc())).first()
        assert event.user_id == admin_id
        assert event.actor == f"{ADMIN} (admin, for seller {alice.seller_id})"


def test_the_sellers_page_lists_every_seller_for_an_admin_and_is_refused_to_anyone_else(
        app, sessions, security, alice, bob):
    make_admin(sessions, security)
    page = browser(app, ADMIN).get("/admin/sellers")
    assert page.status_code == 200
    assert "Alice's Teas" in text(page) and "Bob's Kettles" in text(page)
    as_alice = browser(app, alice)
    assert as_alice.get("/admin/sellers").status_code == 403
    assert "Acting for" not in text(as_alice.get("/overview"))


def test_a_seller_user_cannot_switch_and_a_forged_session_key_is_ignored(app, sessions, alice, bob):
    alices = make_shop(sessions, alice.actor, sku="ALICE-1")
    make_shop(sessions, bob.actor, sku="BOB-1")
    as_bob = browser(app, bob)
    assert as_bob.post("/admin/acting", {"seller_id": str(alice.seller_id)}).status_code == 403
    assert acting(as_bob) is None
    with as_bob.client.session_transaction() as session:
        session[ACTING_SELLER] = alice.seller_id
    for path in ("/products", "/stock"):
        page = text(as_bob.get(path))
        assert "BOB-1" in page and "ALICE-1" not in page, path
    assert as_bob.get(f"/products/{alices.product_id}").status_code == 404


def test_switching_needs_the_forms_csrf_token(app, sessions, security, alice):
    make_admin(sessions, security)
    admin = browser(app, ADMIN)
    admin.token  # noqa: B018 - fetch the token while still logged in
    refused = admin.client.post("/admin/acting", data={"seller_id": str(alice.seller_id)})
    assert refused.status_code == 400 and acting(admin) is None


def test_junk_or_unknown_sellers_are_refused_without_switching(app, sessions, security, alice):
    make_admin(sessions, security)
    admin = browser(app, ADMIN)
    for junk in ("abc", "0", "-1", "99999999999", "2147483647", str(alice.seller_id + 1000), " 1 2", "1.0"):
        response = admin.post("/admin/acting", {"seller_id": junk})
        assert response.status_code == 422, junk
        assert acting(admin) is None, junk


def test_a_seller_deleted_while_an_admin_acts_for_it_leaves_the_admin_seeing_all_sellers(
        app, sessions, security, make_account):
    from hub.accounts.models import Seller

    gone = make_account("Gone GmbH", email="owner@gone.example.com")
    make_admin(sessions, security)
    admin = browser(app, ADMIN)
    admin.post("/admin/acting", {"seller_id": str(gone.seller_id)})
    with sessions.begin() as session:
        session.execute(sa.delete(Seller).where(Seller.id == gone.seller_id))
    page = admin.get("/products")
    assert page.status_code == 200 and "Platform" in text(page)
