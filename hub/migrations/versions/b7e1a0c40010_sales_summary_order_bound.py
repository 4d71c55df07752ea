"""The sales summary records the newest order it covers: the overview reads only newer orders live

Revision ID: b7e1a0c40010
Revises: b7e1a0c40009
Create Date: 2026-11-30 19:55:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'b7e1a0c40010'
down_revision: str | None = 'b7e1a0c40009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # NULL on the stamps already there: those sellers are read live until their next refresh.
    with op.batch_alter_table('sales_refreshes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('max_order_id', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sales_refreshes', schema=None) as batch_op:
        batch_op.drop_column('max_order_id')
