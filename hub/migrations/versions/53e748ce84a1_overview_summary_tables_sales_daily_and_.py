"""Overview summary tables sales_daily and fx_usage_daily

Per-day order counts and base-currency revenue by channel and country, and the FX conversions used, refreshed
by hub.reports.refresh_sales; a partial index of oversold order lines (hub.reports_models).

Revision ID: 53e748ce84a1
Revises: 42abfd550ad1
Create Date: 2026-11-30 14:28:09.046175
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.db

revision: str = '53e748ce84a1'
down_revision: str | None = '42abfd550ad1'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('fx_usage_daily',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('order_currency', sa.String(length=3), nullable=False),
    sa.Column('base_currency', sa.String(length=3), nullable=False),
    sa.Column('rate_source', sa.String(length=64), nullable=False),
    sa.Column('orders', sa.Integer(), nullable=False),
    sa.Column('first_as_of', sa.Date(), nullable=False),
    sa.Column('last_as_of', sa.Date(), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['seller_id'], ['sellers.id'], name=op.f('fk_fx_usage_daily_seller_id_sellers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fx_usage_daily')),
    sa.UniqueConstraint('seller_id', 'day', 'order_currency', 'base_currency', 'rate_source', name='uq_fx_usage_daily_key')
    )
    with op.batch_alter_table('fx_usage_daily', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fx_usage_daily_seller_id'), ['seller_id'], unique=False)

    op.create_table('sales_daily',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('ship_country', sa.String(length=2), nullable=False),
    sa.Column('base_currency', sa.String(length=3), nullable=False),
    sa.Column('orders', sa.Integer(), nullable=False),
    sa.Column('revenue_e4', sa.BigInteger(), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['channel_id'], ['channels.id'], name=op.f('fk_sales_daily_channel_id_channels'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['seller_id'], ['sellers.id'], name=op.f('fk_sales_daily_seller_id_sellers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_daily')),
    sa.UniqueConstraint('seller_id', 'day', 'channel_id', 'ship_country', 'base_currency', name='uq_sales_daily_key')
    )
    with op.batch_alter_table('sales_daily', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sales_daily_channel_id'), ['channel_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sales_daily_seller_id'), ['seller_id'], unique=False)

    op.create_table('sales_refreshes',
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.Column('refreshed_at', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['seller_id'], ['sellers.id'], name=op.f('fk_sales_refreshes_seller_id_sellers'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('seller_id', name=op.f('pk_sales_refreshes'))
    )
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.create_index('ix_order_lines_seller_short', ['seller_id', 'order_id'], unique=False,
                              postgresql_where=sa.text('quantity_short > 0'),
                              sqlite_where=sa.text('quantity_short > 0'))



def downgrade() -> None:
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.drop_index('ix_order_lines_seller_short')

    with op.batch_alter_table('sales_daily', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sales_daily_seller_id'))
        batch_op.drop_index(batch_op.f('ix_sales_daily_channel_id'))

    op.drop_table('sales_refreshes')
    op.drop_table('sales_daily')
    with op.batch_alter_table('fx_usage_daily', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fx_usage_daily_seller_id'))

    op.drop_table('fx_usage_daily')
