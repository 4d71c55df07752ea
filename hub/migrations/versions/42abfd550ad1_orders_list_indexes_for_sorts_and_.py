"""Orders list indexes for sorts and filters

Keyset sorts of the Orders page by total, and its country and channel filters in placed order
(hub.orders.models.Order.__table_args__).

Revision ID: 42abfd550ad1
Revises: 263d2400c9c3
Create Date: 2026-11-30 14:02:33.651035
"""
from collections.abc import Sequence

from alembic import op

revision: str = '42abfd550ad1'
down_revision: str | None = '263d2400c9c3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('ix_orders_channel_placed', ['channel_id', 'placed_at', 'id'], unique=False)
        batch_op.create_index('ix_orders_seller_country_placed', ['seller_id', 'ship_country', 'placed_at', 'id'],
                                unique=False)
        batch_op.create_index('ix_orders_seller_total', ['seller_id', 'grand_total', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_seller_total')
        batch_op.drop_index('ix_orders_seller_country_placed')
        batch_op.drop_index('ix_orders_channel_placed')
