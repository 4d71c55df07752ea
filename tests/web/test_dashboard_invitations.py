"""Owners invite staff by a link that works once: the invitee picks their own name and password."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from hub.accounts import services
from hub.accounts.models import Invitation, Role, User
from hub.accounts.schemas import NewInvitation
from hub.timeutil import utcnow
from tests.conftest import PASSWORD
from tests.web.support import add_user, browser, field_error, text

NEW_PASSWORD = "lantern-pebble-orchard-93"


def _invite(b, email: str = "sam@teas.example.com", role: str = "staff") -> str:
    page = b.post("/account/team/invite", {"email": email, "role": role})
    assert page.status_code == 200, text(page)
    assert page.headers["Cache-Control"] == "no-store"
    link = re.search(r'<input[^>]+id="invitation-link"[^>]+value="([^"]+)"', text(page))
    assert link, "the page shows no invitation link"
    return link[1].removeprefix("http://localhost")


def test_an_invited_person_joins_with_the_role_they_were_invited_to_and_the_link_then_stops_working(
        app, sessions, alice):
    owner = browser(app, alice)
    link = _invite(owner, role="viewer")
    assert "sam@teas.example.com" in text(owner.get("/account/team"))

    invitee = browser(app)
    page = invitee.get(link)
    assert page.status_code == 200 and "You are invited as viewer" in text(page)
    assert page.headers["Referrer-Policy"] == "no-referrer"
    joined = invitee.post(link, {"name": "Sam", "password": NEW_PASSWORD})
    assert joined.status_code == 302
    assert invitee.get("/orders").status_code == 200
    with sessions() as session:
        sam = session.scalar(sa.select(User).where(User.email == "sam@teas.example.com"))
        assert (sam.seller_id, sam.role, sam.name) == (alice.seller_id, Role.VIEWER, "Sam")
        invitation = session.scalar(sa.select(Invitation))
        assert invitation.accepted_at is not None and invitation.user_id == sam.id
    assert browser(app).get(link).status_code == 404
    assert browser(app).post(link, {"name": "Eve", "password": NEW_PASSWORD}).status_code == 404
    assert "Pending invitations" not in text(owner.get("/account/team"))  # accepted: no longer pending


def test_only_a_hash_of_the_link_is_stored(app, sessions, alice):
    link = _invite(browser(app, alice))
    token = link.rsplit("/", 1)[-1]
    with sessions() as session:
        stored = session.scalar(sa.select(Invitation.token_hash))
    assert token not in stored and len(stored) == 64


def test_a_weak_password_is_refused_and_the_link_keeps_working(app, sessions, alice):
    link = _invite(browser(app, alice))
    invitee = browser(app)
    weak = invitee.post(link, {"name": "Sam", "password": "password1"})
    assert weak.status_code == 422 and field_error(text(weak), "password")
    assert invitee.post(link, {"name": "Sam", "password": NEW_PASSWORD}).status_code == 302


def test_revoked_expired_and_replaced_links_are_all_refused_alike(app, sessions, alice):
    owner = browser(app, alice)
    first = _invite(owner)
    second = _invite(owner)  # a new invitation to the same address replaces the open one
    assert browser(app).get(first).status_code == 404
    with sessions() as session:
        invitation_id = session.scalar(sa.select(Invitation.id).where(Invitation.revoked_at.is_(None)))
    assert owner.post(f"/account/team/invitations/{invitation_id}/revoke").status_code == 302
    assert browser(app).get(second).status_code == 404

    third = _invite(owner, email="kim@teas.example.com")
    with sessions.begin() as session:
        session.execute(sa.update(Invitation).where(Invitation.email == "kim@teas.example.com")
                        .values(expires_at=utcnow() - timedelta(seconds=1)))
    expired = browser(app).get(third)
    assert expired.status_code == 404 and "Ask for a new one" in text(expired)


def test_inviting_an_existing_account_or_a_platform_admin_is_refused(app, alice, bob):
    owner = browser(app, alice)
    taken = owner.post("/account/team/invite", {"email": bob.email, "role": "staff"})
    assert taken.status_code == 409 and field_error(text(taken), "email") == "already registered"
    admin = owner.post("/account/team/invite", {"email": "root@example.com", "role": "admin"})
    assert admin.status_code == 422 and "hub create-admin" in field_error(text(admin), "role")


def test_staff_may_not_invite_and_another_sellers_owner_may_not_revoke(app, sessions, security, alice, bob):
    add_user(sessions, security, alice, Role.STAFF, "staff@teas.example.com")
    staff = browser(app, "staff@teas.example.com")
    assert staff.post("/account/team/invite", {"email": "x@example.com", "role": "staff"}).status_code == 403
    link = _invite(browser(app, alice))
    with sessions() as session:
        invitation_id = session.scalar(sa.select(Invitation.id))
    assert browser(app, bob).post(f"/account/team/invitations/{invitation_id}/revoke").status_code == 404
    assert browser(app).get(link).status_code == 200


def test_a_link_accepted_twice_makes_one_account(sessions, security, alice):
    with sessions.begin() as session:
        _, secret = services.invite(session, alice.actor, NewInvitation(email="sam@example.com", role=Role.STAFF))
    with sessions.begin() as session:
        services.accept_invitation(session, security, secret,
                                   services.AcceptInvitation(name="Sam", password=NEW_PASSWORD))
    with sessions() as session:
        try:
            services.accept_invitation(session, security, secret,
                                       services.AcceptInvitation(name="Sam", password=PASSWORD))
        except services.NotFound as refused:
            assert refused.code == "bad_invitation"
        else:
            raise AssertionError("a used link was accepted again")
        assert session.scalar(sa.select(sa.func.count()).select_from(User)
                              .where(User.email == "sam@example.com")) == 1
