"""Buyers: accounts, tokens and addresses for the seller's own site (the buyer API)

Revision ID: b7e1a0c40009
Revises: b7e1a0c40008
Create Date: 2026-11-30 16:05:00
"""
from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import hub.db  # noqa: F401

revision: str = 'b7e1a0c40009'
down_revision: str | None = 'b7e1a0c40008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
