"""An index for the newest sync run of a channel (sync health on the overview and the channel pages)

Revision ID: b7e1a0c40011
Revises: b7e1a0c40010
Create Date: 2026-11-30 20:20:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = 'b7e1a0c40011'
down_revision: str | None = 'b7e1a0c40010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.create_index('ix_sync_runs_channel_id', ['channel_id', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_sync_runs_channel_id')
