"""Who is acting: carried from the web layer (or a job) into every service call."""

from __future__ import annotations

from dataclasses import dataclass

from hub.accounts.models import Role
from hub.errors import PermissionDenied


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: int | None
    seller_id: int | None  # None only for a platform admin acting across sellers
    role: Role
    label: str

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def require(self, role: Role, action: str) -> None:
        if not self.role.at_least(role):
            raise PermissionDenied(f"your role ({self.role}) may not {action}; it needs {role} or above")

    @classmethod
    def system(cls, seller_id: int, label: str = "system") -> Actor:
        return cls(user_id=None, seller_id=seller_id, role=Role.OWNER, label=label)
