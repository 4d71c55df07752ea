"""Who is acting: carried from the web layer (or a job) into every service call."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

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

    def sees(self, seller_column: ColumnElement[int]) -> ColumnElement[bool]:
        """The WHERE clause limiting a query to what this actor may see: its seller, or all for an admin."""
        return sa.true() if self.is_admin else seller_column == self.seller_id

    def acting_seller(self, action: str) -> int:
        """The seller a write is for. A platform admin has none: creating goods or orders is the seller's job."""
        if self.seller_id is None:
            raise PermissionDenied(f"a platform admin cannot {action}: log in as one of the seller's users")
        return self.seller_id

    def require(self, role: Role, action: str) -> None:
        if not self.role.at_least(role):
            raise PermissionDenied(f"your role ({self.role}) may not {action}; it needs {role} or above")

    @classmethod
    def system(cls, seller_id: int, label: str = "system") -> Actor:
        return cls(user_id=None, seller_id=seller_id, role=Role.OWNER, label=label)

    @classmethod
    def buyer(cls, seller_id: int, buyer_id: int, email: str) -> Actor:
        """A buyer of the seller's own site (hub.buyers), named on the order's timeline. No user: STAFF only so that
        the order and payment services it goes through accept it; hub.buyers.services is the only caller and
        limits it to the buyer's own orders before any of them is called."""
        return cls(user_id=None, seller_id=seller_id, role=Role.STAFF, label=f"buyer {buyer_id} {email}"[:120])
