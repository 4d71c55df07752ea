"""Buyer accounts through the services: sign-up linked to the seller's customer profile (a fake directory at the
port), the users' password policy, login tokens stored as digests, lockout, logout, expiry, password change."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.buyers import services
from hub.buyers.models import BuyerAccount, BuyerToken
from hub.buyers.schemas import BuyerSignUp, PasswordChange
from hub.customers.models import Customer
from hub.errors import AuthenticationFailed, Conflict, NotFound, ValidationError
from hub.timeutil import utcnow
from tests.buyers.conftest import BUYER_PASSWORD


class FakeCustomers:
    """The customer directory's port: one profile per (seller, email), every call recorded."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, str, str]] = []

    def __call__(self, session: Session, seller_id: int, email: str, name: str) -> Customer:
        self.calls.append((seller_id, email, name))
        found = session.scalar(sa.select(Customer).where(Customer.seller_id == seller_id, Customer.email_key == email))
        if found is None:
            found = Customer(seller_id=seller_id, name=name, email_key=email)
            session.add(found)
            session.flush()
        return found


@pytest.fixture
def session(sessions):
    with sessions() as s:
        yield s


@pytest.fixture
def customers() -> FakeCustomers:
    return FakeCustomers()


def sign_up(session, security, seller_id, customers, email="jo@example.com", password=BUYER_PASSWORD):
    buyer = services.sign_up(session, security, seller_id, BuyerSignUp(email=email, name="Jo", password=password),
                             customer_for_email=customers)
    session.commit()
    return buyer


def test_sign_up_links_the_buyer_to_the_sellers_customer_profile_of_that_email(session, security, alice, customers):
    buyer = sign_up(session, security, alice.seller_id, customers, email="Jo@Example.com")

    assert customers.calls == [(alice.seller_id, "jo@example.com", "Jo")]
    assert buyer.email == "jo@example.com"
    assert session.get(Customer, buyer.customer_id).seller_id == alice.seller_id
    assert security.hasher.verify(buyer.password_hash, BUYER_PASSWORD)  # argon2id, like users'


def test_one_email_makes_one_account_per_store_and_a_second_sign_up_at_a_store_is_a_conflict(
        session, security, alice, bob, customers):
    at_alice = sign_up(session, security, alice.seller_id, customers)
    at_bob = sign_up(session, security, bob.seller_id, customers)
    assert at_alice.id != at_bob.id and at_alice.customer_id != at_bob.customer_id

    with pytest.raises(Conflict) as refused:
        sign_up(session, security, alice.seller_id, customers, password="another-" + BUYER_PASSWORD)
    assert refused.value.code == "email_taken"
    session.rollback()
    assert session.scalar(sa.select(sa.func.count(BuyerAccount.id))) == 2


@pytest.mark.parametrize("password", ["short1", "password123", "aaaaaaaaaaaaaaaaaaaa", "jo@example.com!"])
def test_a_password_the_users_policy_refuses_is_refused_for_buyers_too(session, security, alice, customers, password):
    with pytest.raises(ValidationError) as refused:
        sign_up(session, security, alice.seller_id, customers, password=password)
    assert refused.value.code == "weak_password" and "password" in refused.value.fields


def test_signing_up_at_a_seller_that_does_not_exist_is_not_found(session, security, customers):
    with pytest.raises(NotFound):
        sign_up(session, security, 999_999, customers)


def test_login_gives_a_token_kept_only_as_its_sha256_that_works_at_its_own_store_only(
        session, security, alice, bob, customers):
    buyer = sign_up(session, security, alice.seller_id, customers)
    token, secret = services.login(session, security, alice.seller_id, "JO@example.com ", BUYER_PASSWORD)
    session.commit()

    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest() and secret not in token.token_hash
    assert len(secret) > 40 and token.expires_at > utcnow() + timedelta(days=29)
    assert services.buyer_for_token(session, alice.seller_id, secret)[0].id == buyer.id
    with pytest.raises(AuthenticationFailed):
        services.buyer_for_token(session, bob.seller_id, secret)


def test_the_same_credentials_do_not_open_the_account_at_another_store(session, security, alice, bob, customers):
    sign_up(session, security, alice.seller_id, customers)
    with pytest.raises(AuthenticationFailed) as refused:
        services.login(session, security, bob.seller_id, "jo@example.com", BUYER_PASSWORD)
    assert refused.value.code == "bad_credentials"


def test_repeated_wrong_passwords_lock_the_account_even_against_the_right_one(session, security, alice, customers):
    buyer = sign_up(session, security, alice.seller_id, customers)
    for _ in range(security.login.max_failures):
        with pytest.raises(AuthenticationFailed):
            services.login(session, security, alice.seller_id, "jo@example.com", "wrong-" + BUYER_PASSWORD)
        session.commit()

    with pytest.raises(AuthenticationFailed) as refused:
        services.login(session, security, alice.seller_id, "jo@example.com", BUYER_PASSWORD)
    assert refused.value.code == "locked" and "try again in" in refused.value.message
    session.refresh(buyer)
    assert buyer.lock_count == 1 and buyer.locked_until > utcnow()

    buyer.locked_until = utcnow() - timedelta(seconds=1)  # the lock ran out
    session.commit()
    services.login(session, security, alice.seller_id, "jo@example.com", BUYER_PASSWORD)
    assert (buyer.failed_logins, buyer.lock_count, buyer.locked_until) == (0, 0, None)


def test_a_revoked_or_expired_token_is_refused(session, security, alice, customers):
    sign_up(session, security, alice.seller_id, customers)
    token, secret = services.login(session, security, alice.seller_id, "jo@example.com", BUYER_PASSWORD)
    services.logout(token)
    session.commit()
    with pytest.raises(AuthenticationFailed):
        services.buyer_for_token(session, alice.seller_id, secret)

    token, secret = services.login(session, security, alice.seller_id, "jo@example.com", BUYER_PASSWORD)
    token.expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    with pytest.raises(AuthenticationFailed):
        services.buyer_for_token(session, alice.seller_id, secret)


def test_changing_the_password_keeps_the_token_in_use_and_revokes_the_others(session, security, alice, customers):
    buyer = sign_up(session, security, alice.seller_id, customers)
    current, current_secret = services.login(session, security, alice.seller_id, "jo@example.com", BUYER_PASSWORD)
    _, other_secret = services.login(session, security, alice.seller_id, "jo@example.com", BUYER_PASSWORD)
    new_password = "copper-meadow-violin-93"

    with pytest.raises(ValidationError) as wrong:
        services.change_password(session, security, buyer, PasswordChange(
            current_password="not-it", new_password=new_password), keep=current)
    assert "current_password" in wrong.value.fields
    services.change_password(session, security, buyer, PasswordChange(
        current_password=BUYER_PASSWORD, new_password=new_password), keep=current)
    session.commit()

    assert services.buyer_for_token(session, alice.seller_id, current_secret)[0].id == buyer.id
    with pytest.raises(AuthenticationFailed):
        services.buyer_for_token(session, alice.seller_id, other_secret)
    assert session.scalar(sa.select(sa.func.count(BuyerToken.id)).where(BuyerToken.revoked_at.is_(None))) == 1
    services.login(session, security, alice.seller_id, "jo@example.com", new_password)
