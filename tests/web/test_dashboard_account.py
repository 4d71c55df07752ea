"""The account area: profile, password, seller settings, team and API tokens."""

from __future__ import annotations

import hashlib
import re

import sqlalchemy as sa

from hub.accounts.models import ApiToken, Role, User
from tests.conftest import PASSWORD, login
from tests.web.support import add_user, browser, field_error, make_shop, text

NEW_PASSWORD = "lantern-pebble-orchard-93"


def test_a_user_updates_their_profile_and_pages_follow_their_locale(app, sessions, alice):
    make_shop(sessions, alice.actor)
    b = browser(app, alice)
    saved = b.post("/account", {"name": "Alice Tea", "locale": "de-DE", "timezone": "Europe/Vienna"})
    assert saved.status_code == 302
    page = text(b.get(saved.location))
    assert "Profile saved." in page and 'name="locale" value="de_DE"' in page and "Alice Tea" in page
    assert "12,90\xa0€" in text(b.get("/products"))
    bad = b.post("/account", {"name": "", "locale": "xx", "timezone": "Mars/Olympus"})
    assert bad.status_code == 422
    page = text(bad)
    assert field_error(page, "name") and "unknown locale" in field_error(page, "locale")
    assert "unknown timezone" in field_error(page, "timezone")


def test_changing_the_password_keeps_this_session_and_ends_every_other(app, alice):
    this, other = browser(app, alice), browser(app, alice)
    changed = this.post("/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert changed.status_code == 302
    assert "Password changed." in text(this.get(changed.location))
    assert this.get("/orders").status_code == 200
    assert other.get("/orders").status_code == 302
    fresh = browser(app)
    fresh.post("/login", {"email": alice.email, "password": PASSWORD})
    assert fresh.get("/orders").status_code == 302
    fresh.post("/login", {"email": alice.email, "password": NEW_PASSWORD})
    assert fresh.get("/orders").status_code == 200


def test_a_wrong_current_password_or_a_weak_new_one_is_refused_and_never_echoed(app, alice):
    b = browser(app, alice)
    wrong = b.post("/account/password", {"current_password": "not-it-at-all-1", "new_password": NEW_PASSWORD})
    assert wrong.status_code == 422
    assert field_error(text(wrong), "current_password") == "wrong password"
    assert NEW_PASSWORD not in text(wrong)
    weak = b.post("/account/password", {"current_password": PASSWORD, "new_password": "password1"})
    assert weak.status_code == 422
    assert field_error(text(weak), "new_password")
    assert b.get("/orders").status_code == 200


def test_an_owner_changes_the_sellers_settings(app, alice):
    b = browser(app, alice)
    saved = b.post("/account/seller", {"name": "Alice's Fine Teas", "base_currency": "chf", "default_locale": "de_CH",
                                       "timezone": "Europe/Zurich", "prices_include_tax": "1"})
    assert saved.status_code == 302
    page = text(b.get(saved.location))
    assert "Alice's Fine Teas" in page and 'name="base_currency" value="CHF"' in page
    assert re.search(r'name="prices_include_tax" value="1" checked', page)
    bad = b.post("/account/seller", {"name": "X", "base_currency": "EURO", "default_locale": "en_GB",
                                     "timezone": "UTC"})
    assert bad.status_code == 422
    assert "unknown currency" in field_error(text(bad), "base_currency")


def test_an_owner_sets_the_customs_identifiers_and_the_stale_rate_choice(app, sessions, alice):
    from hub.accounts.models import Seller

    b = browser(app, alice)
    form = {"name": "Alice's Teas", "base_currency": "EUR", "default_locale": "en_GB", "timezone": "UTC",
            "allow_stale_rates": "1", "ioss_number": "im 301 000 0019", "eori_number": "de12345", "vat_number": ""}
    assert b.post("/account/seller", form).status_code == 302
    with sessions() as session:
        seller = session.get(Seller, alice.seller_id)
        assert (seller.ioss_number, seller.eori_number, seller.vat_number, seller.allow_stale_rates) == (
            "IM3010000019", "DE12345", None, True)
    bad = b.post("/account/seller", {**form, "ioss_number": "IM123"})
    assert bad.status_code == 422
    assert "IM followed by 10 digits" in field_error(text(bad), "ioss_number")


def test_an_owner_adds_a_staff_member_who_can_then_log_in(app, sessions, alice):
    b = browser(app, alice)
    form = {"name": "Sam", "email": "Sam@Teas.example.com", "role": "staff", "password": NEW_PASSWORD}
    added = b.post("/account/team", form)
    assert added.status_code == 302
    page = text(b.get(added.location))
    assert "Sam (sam@teas.example.com) can now log in as staff" in page
    assert "$argon2" not in page and NEW_PASSWORD not in page
    assert browser(app).login("sam@teas.example.com", NEW_PASSWORD).get("/orders").status_code == 200

    again = b.post("/account/team", form)
    assert again.status_code == 409
    assert field_error(text(again), "email") == "already registered"
    assert NEW_PASSWORD not in text(again)
    weak = b.post("/account/team", {**form, "email": "kim@teas.example.com", "password": "password"})
    assert weak.status_code == 422
    admin = b.post("/account/team", {**form, "email": "kim@teas.example.com", "role": "admin"})
    assert admin.status_code == 422
    assert "platform admins are created with" in field_error(text(admin), "role")


def test_a_deactivated_user_is_logged_out_and_cannot_log_in_until_activated_again(app, sessions, security, alice):
    staff_id = add_user(sessions, security, alice, Role.STAFF, "staff@teas.example.com")
    staff = browser(app, "staff@teas.example.com")
    owner = browser(app, alice)
    deactivated = owner.post(f"/account/team/{staff_id}/deactivate")
    assert deactivated.status_code == 302
    assert "staff user is deactivated" in text(owner.get(deactivated.location))
    assert staff.get("/orders").status_code == 302
    assert login(app.test_client(), "staff@teas.example.com").status_code == 401
    assert owner.post(f"/account/team/{staff_id}/activate").status_code == 302
    assert browser(app).login("staff@teas.example.com").get("/orders").status_code == 200
    myself = owner.post(f"/account/team/{alice.user_id}/deactivate")
    assert myself.status_code == 409
    assert "you cannot deactivate yourself" in text(myself)
    with sessions() as session:
        assert session.get(User, alice.user_id).is_active


def test_a_new_api_token_is_shown_once_works_and_stops_working_when_revoked(app, sessions, alice):
    b = browser(app, alice)
    created = b.post("/account/tokens", {"name": "scanner"})
    assert created.status_code == 200
    assert created.headers["Cache-Control"] == "no-store"
    secret = re.search(r'id="new-token">(hub_[\w-]+)<', text(created)).group(1)
    listing = text(b.get("/account/tokens"))
    assert secret not in listing and secret[:12] + "…" in listing
    with sessions() as session:
        token = session.scalars(sa.select(ApiToken).where(ApiToken.name == "scanner")).one()
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert token.token_hash not in listing and token.token_hash not in text(created)

    api = b.client.get("/api/v1/products", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 200
    revoked = b.post(f"/account/tokens/{token.id}/revoke")
    assert revoked.status_code == 302
    assert "Token scanner" in text(b.get(revoked.location))
    assert b.client.get("/api/v1/products", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert b.post("/account/tokens", {"name": ""}).status_code == 422


def test_users_never_see_each_others_tokens(app, sessions, security, alice):
    add_user(sessions, security, alice, Role.STAFF, "staff@teas.example.com")
    staff = browser(app, "staff@teas.example.com")
    assert "No tokens yet." in text(staff.get("/account/tokens"))
    with sessions() as session:
        alices = session.scalars(sa.select(ApiToken.id).where(ApiToken.user_id == alice.user_id)).one()
    assert staff.post(f"/account/tokens/{alices}/revoke").status_code == 404
