"""Who may reach what on the dashboard. The routes are read from the app's URL map, so a new route is
covered by these tests the moment it is registered (and fails them until it behaves)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import url_for

from hub.accounts.models import ApiToken, Invitation, Role, User
from hub.catalog.models import Product
from hub.channels.models import Channel
from hub.orders.models import Order
from hub.sync.models import QuarantinedOrder, QuarantineStatus
from tests.conftest import PASSWORD
from tests.customers.support import customer_ids
from tests.web.channels_support import make_sync_records
from tests.web.support import (
    Browser,
    add_user,
    browser,
    dashboard_rules,
    make_invitation,
    make_money_records,
    make_shop,
    methods,
    text,
    token_ids,
)

# A valid form for each write, so that a refusal cannot come from bad input instead of the rule tested.
VALID_FORMS: dict[str, dict[str, str]] = {
    "catalog.new_product": {"sku": "NEW-1", "title": "New", "base_price": "1.00", "is_active": "1"},
    "catalog.edit_product": {"sku": "TEA-1", "title": "Renamed", "base_price": "2.00", "is_active": "1"},
    "stock.receive": {"sku": "TEA-1", "warehouse": "MAIN", "quantity": "5"},
    "stock.adjust": {"sku": "TEA-1", "warehouse": "MAIN", "delta": "-1", "reason": "count"},
    "stock.warehouses": {"code": "W2", "name": "Second", "country": "DE"},
    "orders.new_order": {"buyer.name": "Ben", "shipping_address.name": "Ben", "shipping_address.line1": "Street 1",
                         "shipping_address.city": "Berlin", "shipping_address.country": "DE",
                         "lines[0].sku": "TEA-1", "lines[0].quantity": "1", "lines[0].unit_price": "12.90"},
    "orders.move": {"status": "paid"},
    "orders.ship": {"mode": "all"},
    "orders.cancel": {"note": "buyer asked"},
    "account.profile": {"name": "New Name"},
    "account.password": {"current_password": PASSWORD, "new_password": "lantern-pebble-orchard-93"},
    "account.seller": {"name": "Renamed", "base_currency": "EUR", "default_locale": "en_GB", "timezone": "UTC"},
    "account.team": {"name": "Newbie", "email": "newbie@example.com", "role": "staff", "password": PASSWORD},
    "account.tokens": {"name": "scanner"},
    "account.invite": {"email": "newbie@example.com", "role": "staff"},
    "channels.new_channel": {"kind": "woocommerce", "name": "Woo 2", "currency": "EUR",
                             "base_url": "https://two.example.com",
                             "credentials": "consumer_key=ck_1\nconsumer_secret=cs_1"},
    "channels.settings": {"base_url": "https://shop.example.com", "stock_percent": "90", "timezone": "UTC",
                          "price_markup": "0.15", "price_rounding": "99"},
    "channels.credentials": {"credentials": "consumer_key=ck_2\nconsumer_secret=cs_2"},
    "channels.sync_now": {"job": "pull"},
    "channels.map_sku": {"product_id": "1"},
    "quarantine.bulk": {"action": "discard", "ids": "1"},
    "fx.manual": {"base": "EUR", "quote": "USD", "rate": "1.0850", "day": "2024-05-02"},
    "admin.act": {"seller_id": "1"},
    "customers.merge": {"other_id": "1"},
    "orders.pay": {"account_id": "1", "payment_method": "pm_card_visa", "capture": "1"},
    "orders.capture_payment": {"amount": "1.00"},
    "orders.refund_payment": {"amount": "1.00"},
    "orders.quote_label": {"account_id": "1"},
    "orders.buy_label": {"account_id": "1", "service": "Priority", "key": "web-" + "0" * 32},
    "settings.payment_accounts": {"provider": "stripe", "credentials.secret_key": "sk_test_1",
                                  "credentials.webhook_secret": "whsec_1"},
    "settings.carrier_accounts": {"kind": "easypost", "name": "EP", "base_url": "https://ep.example.com",
                                  "credentials.api_key": "key", "origin.country": "DE"},
    "settings.webhooks": {"url": "https://hooks.example.com/new"},
    "reviews.followed_up": {"review_id": "1"},
    "reviews.pull": {"channel_id": "1"},
    "reviews.export_ratings": {"channel_id": "1"},
}
# Routes whose arguments name platform data, not a seller's object (an exchange-rate pair): nothing to hide.
PLATFORM_ROUTES = {"fx.history"}
# Writes to one's own login that any role may make.
PERSONAL = {"account.profile", "account.password", "account.tokens", "account.revoke_token"}
# Pages that exist only to make something: a viewer is refused the form itself.
CREATE_PAGES = {"catalog.new_product", "stock.receive", "stock.adjust", "orders.new_order", "channels.new_channel"}


def _path(app, rule, **ids: int) -> str:
    missing = set(rule.arguments) - set(ids)
    assert not missing, f"{rule.endpoint}: no test object for {missing}; add one to this test"
    return _url(app, rule.endpoint, **{name: ids[name] for name in rule.arguments})


def _url(app, endpoint: str, **values: int) -> str:
    with app.test_request_context():
        return url_for(endpoint, **values)


def _sync_records_untouched(session, ids: dict[str, int]) -> None:
    channel = session.get(Channel, ids["channel_id"])
    assert channel.is_active and channel.base_url == "https://shop.example.com" and channel.stock_percent == 100
    assert session.get(QuarantinedOrder, ids["item_id"]).status is QuarantineStatus.OPEN
    assert session.scalar(sa.select(sa.func.count()).select_from(Channel)) >= 2  # the direct one and Woo EU


def test_the_dashboard_has_the_routes_these_tests_expect(app):
    endpoints = {rule.endpoint for rule in dashboard_rules(app)}
    assert {"catalog.products", "catalog.edit_product", "stock.levels", "orders.list_orders", "orders.detail",
            "orders.ship", "account.profile", "account.revoke_token", "account.deactivate_user",
            "channels.prices", "fx.rates", "fx.history", "fx.manual", "admin.sellers", "admin.act"} <= endpoints


def test_every_route_that_takes_an_id_answers_404_for_another_sellers_object(app, sessions, alice, bob):
    shop = make_shop(sessions, alice.actor)
    ids = {**customer_ids(sessions, shop.order_id),
           "product_id": shop.product_id, "order_id": shop.order_id, "user_id": alice.user_id,
           "token_id": token_ids(sessions, alice.user_id)[0], "invitation_id": make_invitation(sessions, alice),
           **make_sync_records(app, alice.actor), **make_money_records(app, alice.actor, shop.order_id)}
    bobs = make_shop(sessions, bob.actor)  # bob has objects of his own, so nothing is 404 for lack of any
    make_sync_records(app, bob.actor)
    make_money_records(app, bob.actor, bobs.order_id)
    as_bob = browser(app, bob)
    id_routes = {(rule.endpoint, method): rule for rule in dashboard_rules(app)
                 if rule.arguments and rule.endpoint not in PLATFORM_ROUTES for method in methods(rule)}
    assert len(id_routes) >= 10
    exercised, wrong = set(), []
    for (endpoint, method), rule in sorted(id_routes.items()):
        path = _path(app, rule, **ids)
        response = as_bob.get(path) if method == "GET" else as_bob.post(path, VALID_FORMS.get(endpoint, {}))
        exercised.add((endpoint, method))
        if response.status_code != 404:
            wrong.append(f"{method} {path} ({endpoint}): {response.status_code}")
    assert not wrong, "alice's objects reached by bob:\n" + "\n".join(wrong)
    assert exercised == set(id_routes)

    with sessions() as session:
        product = session.get(Product, shop.product_id)
        assert product.deleted_at is None and product.title == "Title of TEA-1"
        assert session.get(Order, shop.order_id).status == "pending"
        assert session.get(User, alice.user_id).is_active
        assert session.scalar(sa.select(ApiToken.revoked_at).where(ApiToken.user_id == alice.user_id)) is None
        assert session.get(Invitation, ids["invitation_id"]).revoked_at is None
        _sync_records_untouched(session, ids)


def test_a_post_without_or_with_a_wrong_csrf_token_is_rejected_with_400(app, sessions, alice):
    shop = make_shop(sessions, alice.actor)
    ids = {**customer_ids(sessions, shop.order_id),
           "product_id": shop.product_id, "order_id": shop.order_id, "user_id": alice.user_id,
           "token_id": token_ids(sessions, alice.user_id)[0], "invitation_id": make_invitation(sessions, alice),
           "token": "an-invitation-link-token", **make_sync_records(app, alice.actor),
           **make_money_records(app, alice.actor, shop.order_id)}
    b = browser(app, alice)
    posts = [rule for rule in app.url_map.iter_rules() if "POST" in (rule.methods or ())
             and not rule.rule.startswith(("/api/", "/webhooks/"))]
    assert len(posts) >= 15
    for rule in posts:
        path = _path(app, rule, **ids)
        form = VALID_FORMS.get(rule.endpoint, {})
        missing = b.client.post(path, data=form)
        assert missing.status_code == 400, f"{path} without a token: {missing.status_code}"
        assert "The form expired or was tampered with" in text(missing)
        forged = b.client.post(path, data={**form, "csrf_token": "forged-" + b.token[7:]})
        assert forged.status_code == 400, f"{path} with a wrong token: {forged.status_code}"
    with sessions() as session:
        assert session.get(Order, shop.order_id).status == "pending"
        assert session.scalar(sa.select(sa.func.count()).select_from(Product)) == 1
        _sync_records_untouched(session, ids)
    assert b.get("/overview").status_code == 200  # still logged in: logout refused too


def test_a_viewer_is_refused_every_write_with_403_and_nothing_changes(app, sessions, security, alice):
    shop = make_shop(sessions, alice.actor)
    viewer_id = add_user(sessions, security, alice, Role.VIEWER, "viewer@teas.example.com")
    staff_id = add_user(sessions, security, alice, Role.STAFF, "staff@teas.example.com")
    ids = {**customer_ids(sessions, shop.order_id),
           "product_id": shop.product_id, "order_id": shop.order_id, "user_id": staff_id,
           "invitation_id": make_invitation(sessions, alice), **make_sync_records(app, alice.actor),
           **make_money_records(app, alice.actor, shop.order_id)}
    viewer = browser(app, "viewer@teas.example.com")
    writes = {(rule.endpoint, "POST"): rule for rule in dashboard_rules(app)
              if "POST" in methods(rule) and rule.endpoint not in PERSONAL}
    assert len(writes) >= 12
    wrong = [f"POST {rule.endpoint}: {response.status_code}"
             for (endpoint, _), rule in sorted(writes.items())
             if (response := viewer.post(_path(app, rule, **ids), VALID_FORMS.get(endpoint, {}))).status_code != 403]
    wrong += [f"GET {endpoint}: {response.status_code}" for endpoint in sorted(CREATE_PAGES)
              if (response := viewer.get(_url(app, endpoint))).status_code != 403]
    assert not wrong, "a viewer was not refused:\n" + "\n".join(wrong)

    with sessions() as session:
        assert session.get(Order, shop.order_id).status == "pending"
        assert session.get(Product, shop.product_id).title == "Title of TEA-1"
        assert session.scalar(sa.select(sa.func.count()).select_from(Product)) == 1
        assert session.scalar(sa.select(sa.func.count()).select_from(User)) == 3
        assert session.get(User, staff_id).is_active
        assert session.get(User, viewer_id).role is Role.VIEWER
        _sync_records_untouched(session, ids)


def test_a_viewer_sees_the_pages_without_any_write_buttons(app, sessions, security, alice):
    shop = make_shop(sessions, alice.actor)
    add_user(sessions, security, alice, Role.VIEWER, "viewer@teas.example.com")
    viewer = browser(app, "viewer@teas.example.com")
    pages = {"/products": "New product", f"/products/{shop.product_id}": "Delete product",
             "/stock": "Receive stock", "/stock/warehouses": "Create warehouse",
             "/orders": "New order", f"/orders/{shop.order_id}": "Change status",
             "/account/seller": "Save settings", "/account/team": "Add user"}
    for path, button in pages.items():
        page = viewer.get(path)
        assert page.status_code == 200, path
        assert button not in text(page), f"{path} offers {button!r} to a viewer"
        forms = re.findall(r'<form method="post"[^>]*>', text(page))
        assert forms == ['<form method="post" action="/logout" class="inline">'], f"{path} has forms {forms}"
    assert "TEA-1" in text(viewer.get("/stock"))
    assert "€12.90" in text(viewer.get(f"/products/{shop.product_id}"))


def test_staff_may_run_the_shop_but_not_the_sellers_settings_or_team(app, sessions, security, alice):
    add_user(sessions, security, alice, Role.STAFF, "staff@teas.example.com")
    staff = browser(app, "staff@teas.example.com")
    assert staff.post("/products/new", VALID_FORMS["catalog.new_product"]).status_code == 302
    assert staff.post("/account/seller", VALID_FORMS["account.seller"]).status_code == 403
    assert staff.post("/account/team", VALID_FORMS["account.team"]).status_code == 403
    assert staff.post(f"/account/team/{alice.user_id}/deactivate").status_code == 403
    assert "Add user" not in text(staff.get("/account/team"))


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_anonymous_visitors_are_sent_to_the_login_page_from_every_dashboard_route(app, method):
    anonymous = Browser(app.test_client())
    rules = [rule for rule in dashboard_rules(app) if method in methods(rule)]
    assert len(rules) >= 10
    for rule in rules:
        path = _path(app, rule, **dict.fromkeys(rule.arguments, 1))
        response = anonymous.get(path) if method == "GET" else anonymous.post(path, {"name": "x"})
        assert response.status_code == 302, f"{method} {path}: {response.status_code}"
        assert response.location.startswith("/login?next="), f"{method} {path} -> {response.location}"
    assert "Please log in" in text(anonymous.get("/login"))


def test_ids_beyond_any_row_are_simply_not_found(app, alice):
    b = browser(app, alice)
    for path in ("/products/99999999999999999999", "/orders/2147483648", "/products/2147483648/stock"):
        assert b.get(path).status_code == 404, path
    assert b.post("/account/tokens/99999999999999999999/revoke").status_code == 404
    assert b.get("/orders?after=99999999999999999999").status_code == 422
    assert b.get("/products?after=99999999999999999999").status_code == 422


def test_lists_and_forms_only_ever_see_the_own_sellers_objects(app, sessions, alice, bob):
    alices = make_shop(sessions, alice.actor, sku="ALICE-1")
    make_shop(sessions, bob.actor, sku="BOB-1")
    as_bob = browser(app, bob)
    for path in ("/products", "/stock", "/orders", "/overview", "/stock/warehouses", "/account/team",
                 "/products?q=ALICE", "/orders?q=ALICE-1"):
        page = text(as_bob.get(path)).partition("</form>\n<table")[2] or text(as_bob.get(path))  # not the search box
        assert "ALICE-1" not in page and "alice@teas.example.com" not in page, path
    receipt = as_bob.post("/stock/receive", {"sku": "ALICE-1", "warehouse": "MAIN", "quantity": "5"})
    assert receipt.status_code == 422 and "unknown SKU" in text(receipt)
    order = as_bob.post("/orders/new", {**VALID_FORMS["orders.new_order"], "lines[0].sku": "ALICE-1"})
    assert order.status_code == 422 and "no product with SKU ALICE-1" in text(order)
    with sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Order).where(
            Order.seller_id == alice.seller_id)) == 1
        assert session.get(Product, alices.product_id).title == "Title of ALICE-1"
