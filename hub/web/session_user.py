"""The logged-in user as Flask-Login sees it (kept out of the ORM model, which knows no Flask)."""

from __future__ import annotations

from flask_login import UserMixin

from hub.accounts.actor import Actor
from hub.accounts.models import Role, User
from hub.accounts.services import actor_for


class WebUser(UserMixin):
    def __init__(self, user: User):
        # The session version in the id makes a password change log out every other session.
        self.id = f"{user.id}:{user.session_version}"
        self.user_id = user.id
        self.name = user.name
        self.email = user.email
        self.role = user.role
        self.seller_name = user.seller.name if user.seller else "Platform"
        self.locale = user.locale or (user.seller.default_locale if user.seller else "en_GB")
        self.timezone = user.timezone or (user.seller.timezone if user.seller else "UTC")
        self.actor: Actor = actor_for(user)

    def can(self, role: Role) -> bool:
        return self.role.at_least(role)


def load_user(user_key: str) -> WebUser | None:
    from hub.extensions import hub

    try:
        user_id, version = (int(part) for part in user_key.split(":"))
    except ValueError:
        return None
    with hub().sessions() as session:
        user = session.get(User, user_id)
        if user is None or not user.is_active or user.session_version != version:
            return None
        return WebUser(user)
