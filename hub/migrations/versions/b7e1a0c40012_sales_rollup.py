"""The sales summary's refresh keeps the overview's 30 days already summed

Revision ID: b7e1a0c40012
Revises: b7e1a0c40011
Create Date: 2026-12-01 00:20:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'b7e1a0c40012'
down_revision: str | None = 'b7e1a0c40011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # NULL until each seller's next refresh: the overview sums the summary rows itself meanwhile.
    with op.batch_alter_table('sales_refreshes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rollup_day', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('rollup', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sales_refreshes', schema=None) as batch_op:
        batch_op.drop_column('rollup')
        batch_op.drop_column('rollup_day')
