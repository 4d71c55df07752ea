"""Sign-up, login lockout, password changes and API tokens at the service level."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from hub.accounts import services
from hub.accounts.models import ApiToken, Role, User
from hub.accounts.schemas import NewToken, NewUser, PasswordChange, SignUp
from hub.channels.models import Channel
from hub.errors import AuthenticationFailed, Conflict, PermissionDenied, ValidationError
from hub.timeutil import utcnow
from tests.conftest import PASSWORD


def test_sign_up_creates_a_seller_its_owner_and_its_direct_channel(sessions, security):
    with sessions.begin() as session:
        user = services.sign_up(session, security, SignUp(
            seller_name="Tea GmbH", name="Tina", email="Tina@Tea.example.com", password=PASSWORD,
            base_currency="eur", default_locale="de-DE", timezone="Europe/Berlin"))
    with sessions() as session:
        user = session.get(User, user.id)
        assert (user.email, user.role, user.seller.base_currency, user.seller.default_locale) == (
            "tina@tea.example.com", Role.OWNER, "EUR", "de_DE")
        assert user.password_hash.startswith("$argon2id$")
        assert session.scalars(sa.select(Channel.kind).where(Channel.seller_id == user.seller_id)).all() == ["direct"]


def test_the_same_email_cannot_sign_up_twice(sessions, security, alice):
    with sessions() as session, pytest.raises(Conflict, match="already exists"):
        services.sign_up(session, security, SignUp(seller_name="x", name="x", email=alice.email.upper(),
                                                   password=PASSWORD))


def test_repeated_failed_logins_lock_the_account_for_a_growing_while(sessions, security, alice):
    for _ in range(security.login.max_failures):
        with sessions() as session:
            with pytest.raises(AuthenticationFailed, match="wrong email or password"):
                services.authenticate(session, security, alice.email, "not-the-password")
            session.commit()
    with sessions() as session:
        with pytest.raises(AuthenticationFailed, match="too many failed logins"):
            services.authenticate(session, security, alice.email, PASSWORD)  # even the right password waits
        user = session.scalars(sa.select(User).where(User.email == alice.email)).one()
        first_lock = user.locked_until - utcnow()
        assert timedelta(seconds=security.login.lock_seconds - 5) < first_lock <= timedelta(
            seconds=security.login.lock_seconds)
        user.locked_until = utcnow() - timedelta(seconds=1)  # the lock has run out
        session.commit()
    with sessions.begin() as session:
        assert services.authenticate(session, security, alice.email, PASSWORD).failed_logins == 0


def test_unknown_emails_fail_like_wrong_passwords(sessions, security):
    with sessions() as session, pytest.raises(AuthenticationFailed, match="wrong email or password"):
        services.authenticate(session, security, "nobody@example.com", PASSWORD)


def test_changing_the_password_needs_the_current_one_and_ends_other_sessions(sessions, security, alice):
    with sessions() as session, pytest.raises(ValidationError, match="current password is wrong"):
        services.change_password(session, security, alice.actor, PasswordChange(
            current_password="wrong-one-entirely", new_password="amber-signal-forest-88"))
    with sessions.begin() as session:
        before = session.get(User, alice.user_id).session_version
        user = services.change_password(session, security, alice.actor, PasswordChange(
            current_password=PASSWORD, new_password="amber-signal-forest-88"))
        assert user.session_version == before + 1
    with sessions.begin() as session:
        services.authenticate(session, security, alice.email, "amber-signal-forest-88")


def test_api_tokens_are_stored_hashed_and_stop_working_when_revoked(sessions, alice):
    with sessions.begin() as session:
        token, secret = services.create_token(session, alice.actor, NewToken(name="erp"))
        token_id = token.id
    with sessions() as session:
        stored = session.get(ApiToken, token_id)
        assert secret not in (stored.token_hash, stored.prefix) and secret.startswith(stored.prefix)
        assert services.user_for_token(session, secret).id == alice.user_id
    with sessions.begin() as session:
        services.revoke_token(session, alice.actor, token_id)
    with sessions() as session, pytest.raises(AuthenticationFailed, match="revoked"):
        services.user_for_token(session, secret)


def test_only_owners_add_users_and_nobody_can_make_a_platform_admin(sessions, security, alice):
    with sessions.begin() as session:
        staff = services.add_user(session, security, alice.actor, NewUser(
            name="Sam", email="sam@teas.example.com", role=Role.STAFF, password="amber-signal-forest-88"))
        staff_actor = services.actor_for(staff)
    with sessions() as session, pytest.raises(PermissionDenied, match="needs owner"):
        services.add_user(session, security, staff_actor, NewUser(
            name="Eve", email="eve@teas.example.com", role=Role.OWNER, password="amber-signal-forest-88"))
    with pytest.raises(Exception, match="platform admins"):
        NewUser(name="Eve", email="eve@teas.example.com", role=Role.ADMIN, password="amber-signal-forest-88")
