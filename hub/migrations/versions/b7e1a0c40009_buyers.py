"""Buyers: accounts, tokens and addresses for the seller's own site (the buyer API)

Revision ID: b7e1a0c40009
Revises: b7e1a0c40008
Create Date: 2026-11-30 16:05:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.db

revision: str = 'b7e1a0c40009'
down_revision: str | None = 'b7e1a0c40008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('buyer_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('lock_count', sa.Integer(), nullable=False),
    sa.Column('locked_until', hub.db.UTCDateTime(), nullable=True),
    sa.Column('last_login_at', hub.db.UTCDateTime(), nullable=True),
    sa.Column('created_at', hub.db.UTCDateTime(), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_buyer_accounts_customer_id_customers'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['seller_id'], ['sellers.id'], name=op.f('fk_buyer_accounts_seller_id_sellers'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_buyer_accounts')),
    sa.UniqueConstraint('seller_id', 'email', name='uq_buyer_accounts_seller_email')
    )
    op.create_index(op.f('ix_buyer_accounts_customer_id'), 'buyer_accounts', ['customer_id'], unique=False)
    op.create_index(op.f('ix_buyer_accounts_seller_id'), 'buyer_accounts', ['seller_id'], unique=False)
    op.create_table('buyer_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('buyer_id', sa.Integer(), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', hub.db.UTCDateTime(), nullable=False),
    sa.Column('last_used_at', hub.db.UTCDateTime(), nullable=True),
    sa.Column('expires_at', hub.db.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', hub.db.UTCDateTime(), nullable=True),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['buyer_id'], ['buyer_accounts.id'], name=op.f('fk_buyer_tokens_buyer_id_buyer_accounts'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['seller_id'], ['sellers.id'], name=op.f('fk_buyer_tokens_seller_id_sellers'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_buyer_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_buyer_tokens_token_hash'))
    )
    op.create_index(op.f('ix_buyer_tokens_buyer_id'), 'buyer_tokens', ['buyer_id'], unique=False)
    op.create_index(op.f('ix_buyer_tokens_seller_id'), 'buyer_tokens', ['seller_id'], unique=False)
    op.create_table('buyer_addresses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('buyer_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=60), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('line1', sa.String(length=200), nullable=False),
    sa.Column('line2', sa.String(length=200), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.Column('postal_code', sa.String(length=20), nullable=False),
    sa.Column('region', sa.String(length=100), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('created_at', hub.db.UTCDateTime(), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['buyer_id'], ['buyer_accounts.id'],
                            name=op.f('fk_buyer_addresses_buyer_id_buyer_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['seller_id'], ['sellers.id'], name=op.f('fk_buyer_addresses_seller_id_sellers'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_buyer_addresses'))
    )
    op.create_index(op.f('ix_buyer_addresses_buyer_id'), 'buyer_addresses', ['buyer_id'], unique=False)
    op.create_index(op.f('ix_buyer_addresses_seller_id'), 'buyer_addresses', ['seller_id'], unique=False)
    op.create_table('buyer_orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('buyer_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('created_at', hub.db.UTCDateTime(), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['buyer_id'], ['buyer_accounts.id'], name=op.f('fk_buyer_orders_buyer_id_buyer_accounts'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_buyer_orders_order_id_orders'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['seller_id'], ['sellers.id'], name=op.f('fk_buyer_orders_seller_id_sellers'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_buyer_orders')),
    sa.UniqueConstraint('order_id', name=op.f('uq_buyer_orders_order_id'))
    )
    op.create_index(op.f('ix_buyer_orders_buyer_id'), 'buyer_orders', ['buyer_id'], unique=False)
    op.create_index(op.f('ix_buyer_orders_seller_id'), 'buyer_orders', ['seller_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_buyer_orders_seller_id'), table_name='buyer_orders')
    op.drop_index(op.f('ix_buyer_orders_buyer_id'), table_name='buyer_orders')
    op.drop_table('buyer_orders')
    op.drop_index(op.f('ix_buyer_addresses_seller_id'), table_name='buyer_addresses')
    op.drop_index(op.f('ix_buyer_addresses_buyer_id'), table_name='buyer_addresses')
    op.drop_table('buyer_addresses')
    op.drop_index(op.f('ix_buyer_tokens_seller_id'), table_name='buyer_tokens')
    op.drop_index(op.f('ix_buyer_tokens_buyer_id'), table_name='buyer_tokens')
    op.drop_table('buyer_tokens')
    op.drop_index(op.f('ix_buyer_accounts_seller_id'), table_name='buyer_accounts')
    op.drop_index(op.f('ix_buyer_accounts_customer_id'), table_name='buyer_accounts')
    op.drop_table('buyer_accounts')
