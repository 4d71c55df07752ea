"""Payments: payments, payment attempts, provider notifications

Revision ID: b7e1a0c40001
Revises: 53e748ce84a1
Create Date: 2026-11-30 15:35:00
"""
from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import hub.db  # noqa: F401

revision: str = 'b7e1a0c40001'
down_revision: str | None = '53e748ce84a1'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
