"""Account use cases: sign-up, login with lockout, profile, password, staff and invitations, API tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.accounts.actor import Actor
from hub.accounts.models import ApiToken, Invitation, Role, Seller, User
from hub.accounts.passwords import Hasher, PasswordPolicy
from hub.accounts.schemas import (
    AcceptInvitation,
    NewInvitation,
    NewToken,
    NewUser,
    PasswordChange,
    ProfileUpdate,
    SellerSettings,
    SignUp,
    TaxIds,
)
from hub.channels.models import DIRECT, Channel
from hub.db import unique_or_raise
from hub.errors import AuthenticationFailed, Conflict, NotFound, ValidationError
from hub.timeutil import utcnow

TOKEN_PREFIX = "hub_"  # noqa: S105  (a public marker, not a secret)
INVITATION_DAYS = 7
TOKEN_USE_RESOLUTION = timedelta(minutes=1)  # how fresh an API token's last_used_at is kept
BAD_INVITATION = "this invitation link is not valid: it was used, revoked or has expired. Ask for a new one."


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int = 5
    lock_seconds: int = 60
    lock_max_seconds: int = 3600


@dataclass(frozen=True)
class Security:
    hasher: Hasher
    policy: PasswordPolicy
    login: LoginPolicy


def sign_up(session: Session, security: Security, data: SignUp) -> User:
    """A new seller with its owner and its built-in direct channel."""
    email = data.email.lower()
    security.policy.check(data.password, user_inputs=(email, data.name, data.seller_name))
    seller = Seller(name=data.seller_name, base_currency=data.base_currency,
                    default_locale=data.default_locale, timezone=data.timezone)
    session.add(seller)
    session.flush()
    session.add(Channel(seller_id=seller.id, kind=DIRECT, name=DIRECT, currency=seller.base_currency,
                        timezone=seller.timezone))
    owner = User(seller_id=seller.id, email=email, name=data.name, role=Role.OWNER,
                 password_hash=security.hasher.hash(data.password))
    return _add_user(session, owner)


def _add_user(session: Session, user: User) -> User:
    def taken() -> Conflict:
        return Conflict("an account with this email already exists", fields={"email": "already registered"},
                        code="email_taken")

    with unique_or_raise(session, taken):
        session.add(user)
    return user


def authenticate(session: Session, security: Security, email: str, password: str) -> User:
    """Check credentials; repeated failures lock the account for a growing while.

    The caller must commit even when this raises, so that the failure count is kept.
    """
    user = session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    now = utcnow()
    if user is not None and user.locked_until is not None and user.locked_until > now:
        security.hasher.verify(None, password)  # same cost as a real attempt
        wait = int((user.locked_until - now).total_seconds()) + 1
        raise AuthenticationFailed(f"too many failed logins: try again in {wait} seconds", code="locked")
    ok = security.hasher.verify(user.password_hash if user else None, password)
    if user is None or not ok or not user.is_active:
        if user is not None:
            _record_failure(user, security.login)
        raise AuthenticationFailed("wrong email or password", code="bad_credentials")
    user.failed_logins = 0
    user.lock_count = 0
    user.locked_until = None
    user.last_login_at = now
    if security.hasher.needs_rehash(user.password_hash):
        user.password_hash = security.hasher.hash(password)
    return user


def _record_failure(user: User, policy: LoginPolicy) -> None:
    user.failed_logins += 1
    if user.failed_logins >= policy.max_failures:
        seconds = min(policy.lock_seconds * 2 ** user.lock_count, policy.lock_max_seconds)
        user.locked_until = utcnow() + timedelta(seconds=seconds)
        user.lock_count += 1
        user.failed_logins = 0


def update_profile(session: Session, actor: Actor, data: ProfileUpdate) -> User:
    user = _own_user(session, actor)
    user.name, user.locale, user.timezone = data.name, data.locale, data.timezone
    return user


def change_password(session: Session, security: Security, actor: Actor, data: PasswordChange) -> User:
    user = _own_user(session, actor)
    if not security.hasher.verify(user.password_hash, data.current_password):
        raise ValidationError("current password is wrong", fields={"current_password": "wrong password"})
    if data.new_password == data.current_password:
        raise ValidationError("the new password must differ from the current one",
                              fields={"new_password": "same as the current password"})
    try:
        security.policy.check(data.new_password, user_inputs=(user.email, user.name))
    except ValidationError as exc:
        raise ValidationError(exc.message, fields={"new_password": exc.message}, code=exc.code) from None
    user.password_hash = security.hasher.hash(data.new_password)
    user.session_version += 1
    return user


def update_seller(session: Session, actor: Actor, data: SellerSettings) -> Seller:
    actor.require(Role.OWNER, "change the seller's settings")
    seller = session.get(Seller, actor.seller_id)
    if seller is None:
        raise NotFound("no such seller")
    for field, value in data.model_dump().items():
        setattr(seller, field, value)
    return seller


def set_tax_ids(session: Session, actor: Actor, data: TaxIds) -> Seller:
    """Owners set the seller's customs identifiers (all three at once; None clears one)."""
    actor.require(Role.OWNER, "change the seller's tax identifiers")
    seller = session.get(Seller, actor.acting_seller("change tax identifiers"))
    if seller is None:
        raise NotFound("no such seller")
    seller.ioss_number, seller.eori_number, seller.vat_number = data.ioss_number, data.eori_number, data.vat_number
    return seller


def add_user(session: Session, security: Security, actor: Actor, data: NewUser) -> User:
    actor.require(Role.OWNER, "add users")
    security.policy.check(data.password, user_inputs=(data.email, data.name))
    return _add_user(session, User(seller_id=actor.seller_id, email=data.email.lower(), name=data.name,
                                   role=data.role, password_hash=security.hasher.hash(data.password)))


def list_users(session: Session, actor: Actor) -> list[User]:
    return list(session.scalars(sa.select(User).where(User.seller_id == actor.seller_id).order_by(User.id)))


def set_user_active(session: Session, actor: Actor, user_id: int, active: bool) -> User:
    actor.require(Role.OWNER, "manage users")
    user = session.scalar(sa.select(User).where(User.id == user_id, User.seller_id == actor.seller_id))
    if user is None:
        raise NotFound("no such user")
    if user.id == actor.user_id:
        raise Conflict("you cannot deactivate yourself")
    user.is_active = active
    user.session_version += 1
    return user


def own_user(session: Session, actor: Actor) -> User:
    """The acting user's own row, with its seller (to show their settings)."""
    return _own_user(session, actor)


def _own_user(session: Session, actor: Actor) -> User:
    user = session.get(User, actor.user_id)
    if user is None:
        raise NotFound("no such user")
    return user


# --- invitations -------------------------------------------------------------------------------

def invite(session: Session, actor: Actor, data: NewInvitation,
           days: int = INVITATION_DAYS) -> tuple[Invitation, str]:
    """Returns the invitation and its link's token, which is shown once and never stored. A new invitation to
    the same address replaces the open one, so only the newest link works."""
    actor.require(Role.OWNER, "invite users")
    seller_id = actor.acting_seller("invite users")
    email = data.email.lower()
    if session.scalar(sa.select(User.id).where(sa.func.lower(User.email) == email)) is not None:
        raise Conflict("an account with this email already exists", fields={"email": "already registered"},
                       code="email_taken")
    now = utcnow()
    session.execute(sa.update(Invitation).where(
        Invitation.seller_id == seller_id, Invitation.email == email, Invitation.accepted_at.is_(None),
        Invitation.revoked_at.is_(None)).values(revoked_at=now))
    secret = secrets.token_urlsafe(32)
    invitation = Invitation(seller_id=seller_id, email=email, role=data.role, token_hash=_digest(secret),
                            invited_by=actor.user_id, created_at=now, expires_at=now + timedelta(days=days))
    session.add(invitation)
    session.flush()
    return invitation, secret


def list_invitations(session: Session, actor: Actor) -> list[Invitation]:
    """The seller's invitations not yet accepted or revoked, newest first (expired ones too: they show why)."""
    return list(session.scalars(sa.select(Invitation).where(
        Invitation.seller_id == actor.seller_id, Invitation.accepted_at.is_(None),
        Invitation.revoked_at.is_(None)).order_by(Invitation.id.desc())))


def revoke_invitation(session: Session, actor: Actor, invitation_id: int) -> Invitation:
    actor.require(Role.OWNER, "manage invitations")
    invitation = session.scalar(sa.select(Invitation).where(Invitation.id == invitation_id,
                                                            Invitation.seller_id == actor.seller_id))
    if invitation is None:
        raise NotFound("no such invitation")
    if invitation.revoked_at is None and invitation.accepted_at is None:
        invitation.revoked_at = utcnow()
    return invitation


def open_invitation(session: Session, secret: str, *, for_update: bool = False) -> Invitation:
    """The invitation a link's token opens; the same NotFound for unknown, used, revoked and expired links."""
    query = sa.select(Invitation).where(Invitation.token_hash == _digest(secret))
    invitation = session.scalar(query.with_for_update() if for_update else query)
    if invitation is None or not invitation.is_open(utcnow()):
        raise NotFound(BAD_INVITATION, code="bad_invitation")
    return invitation


def accept_invitation(session: Session, security: Security, secret: str, data: AcceptInvitation) -> User:
    """The invitee's account, with the invited role; the link then stops working. The row lock makes a link
    opened twice at once create one account."""
    invitation = open_invitation(session, secret, for_update=True)
    security.policy.check(data.password, user_inputs=(invitation.email, data.name))
    user = _add_user(session, User(seller_id=invitation.seller_id, email=invitation.email, name=data.name,
                                   role=invitation.role, password_hash=security.hasher.hash(data.password)))
    session.flush()
    invitation.accepted_at, invitation.user_id = utcnow(), user.id
    return user


# --- API tokens --------------------------------------------------------------------------------

def _digest(token: str) -> str:
    # Tokens are 256 random bits, so a fast hash is safe here (unlike passwords) and allows lookup.
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, actor: Actor, data: NewToken) -> tuple[ApiToken, str]:
    """Returns the row and the token itself, which is shown once and never stored."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=actor.user_id, name=data.name, prefix=secret[:12], token_hash=_digest(secret))
    session.add(token)
    session.flush()
    return token, secret


def list_tokens(session: Session, actor: Actor) -> list[ApiToken]:
    return list(session.scalars(
        sa.select(ApiToken).where(ApiToken.user_id == actor.user_id).order_by(ApiToken.id.desc())))


def revoke_token(session: Session, actor: Actor, token_id: int) -> ApiToken:
    token = session.scalar(sa.select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == actor.user_id))
    if token is None:
        raise NotFound("no such token")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    return token


def user_for_token(session: Session, secret: str) -> User:
    token = session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == _digest(secret)))
    if token is None or token.revoked_at is not None or not token.user.is_active:
        raise AuthenticationFailed("invalid or revoked API token", code="bad_token")
    now = utcnow()
    # To the minute is all anyone reads it for; a write on every request would make each read API call a commit.
    if token.last_used_at is None or now - token.last_used_at >= TOKEN_USE_RESOLUTION:
        token.last_used_at = now
    return token.user


def actor_for(user: User) -> Actor:
    return Actor(user_id=user.id, seller_id=user.seller_id, role=user.role, label=user.email)
