"""The logged-in user as Flask-Login sees it (kept out of the ORM model, which knows no Flask).

A platform admin may act for one seller (hub.web.admin): the login session then holds ACTING_SELLER, and the
user's `actor` is that seller's, with the rights of its owner: Actor(user_id=<the admin>, seller_id=<the seller>,
role=OWNER, label="<admin email> (admin, for seller <id>)"). So every service and the request's database session
are scoped to that one seller exactly as for its owner (Actor.sees() is a seller filter, not true()), while the
events it writes (order timeline, stock ledger, quarantine) still name the admin. `platform_actor` keeps the
admin's own unscoped Actor for platform work (manual exchange rates). The key is honoured for admins only: in
anyone else's session it is ignored, so it cannot widen what a seller's user sees even if it were set.
"""

from __future__ import annotations

from flask import session as login_session
from flask_login import UserMixin

from hub.accounts.actor import Actor
from hub.accounts.models import Role, Seller, User
from hub.accounts.services import actor_for

ACTING_SELLER = "acting_seller_id"
_LABEL_LENGTH = 120  # the event tables' actor columns (OrderEvent.actor, QuarantinedOrder.resolved_by)


def acting_label(email: str, seller_id: int) -> str:
    suffix = f" (admin, for seller {seller_id})"
    return email[:_LABEL_LENGTH - len(suffix)] + suffix


class WebUser(UserMixin):
    def __init__(self, user: User, acting_for: Seller | None = None):
        # The session version in the id makes a password change log out every other session.
        self.id = f"{user.id}:{user.session_version}"
        self.user_id = user.id
        self.name = user.name
        self.email = user.email
        self.role = user.role
        self.is_admin = user.role is Role.ADMIN
        self.platform_actor: Actor | None = actor_for(user) if self.is_admin else None
        acting_for = acting_for if self.is_admin else None
        self.acting_seller_id: int | None = acting_for.id if acting_for else None
        shown = acting_for or user.seller
        self.seller_name = shown.name if shown else "Platform"
        self.locale = user.locale or (shown.default_locale if shown else "en_GB")
        self.timezone = user.timezone or (shown.timezone if shown else "UTC")
        if acting_for is not None:
            self.actor: Actor = Actor(user_id=user.id, seller_id=acting_for.id, role=Role.OWNER,
                                      label=acting_label(user.email, acting_for.id))
        else:
            self.actor = actor_for(user)

    def can(self, role: Role) -> bool:
        return self.role.at_least(role)


def _acting_seller_id() -> int | None:
    value = login_session.get(ACTING_SELLER)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def load_user(user_key: str) -> WebUser | None:
    # Read through the request's own session: a page checks out one database connection (and pings it once),
    # not one for the login and another for the page.
    from hub.extensions import db

    try:
        user_id, version = (int(part) for part in user_key.split(":"))
    except ValueError:
        return None
    session = db()  # users and sellers belong to no seller's scope: the same rows whether scoped yet or not
    user = session.get(User, user_id)
    if user is None or not user.is_active or user.session_version != version:
        return None
    acting_for = None
    if user.role is Role.ADMIN and (seller_id := _acting_seller_id()) is not None:
        acting_for = session.get(Seller, seller_id)  # a seller deleted meanwhile: back to all sellers
    return WebUser(user, acting_for)
