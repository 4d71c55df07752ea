"""Customers: cross-channel buyer profiles, orders linked to them

Revision ID: b7e1a0c40006
Revises: b7e1a0c40005
Create Date: 2026-11-30 16:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.db

revision: str = 'b7e1a0c40006'
down_revision: str | None = 'b7e1a0c40005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('customers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email_key', sa.String(length=254), nullable=True),
    sa.Column('phone_key', sa.String(length=40), nullable=True),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('created_at', hub.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', hub.db.UTCDateTime(), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['merged_into_id'], ['customers.id'], name=op.f('fk_customers_merged_into_id_customers'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['seller_id'], ['sellers.id'], name=op.f('fk_customers_seller_id_sellers'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customers'))
    )
    op.create_index(op.f('ix_customers_phone_key'), 'customers', ['phone_key'], unique=False)
    op.create_index(op.f('ix_customers_seller_id'), 'customers', ['seller_id'], unique=False)
    op.create_index('uq_customers_seller_email', 'customers', ['seller_id', 'email_key'], unique=True,
                    sqlite_where=sa.text('email_key IS NOT NULL'), postgresql_where=sa.text('email_key IS NOT NULL'))
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('customer_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('customer_match', sa.String(length=64), server_default=sa.text("''"),
                                      nullable=False))
        batch_op.create_index(batch_op.f('ix_orders_customer_id'), ['customer_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_orders_customer_id_customers'), 'customers', ['customer_id'],
                                    ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_orders_customer_id_customers'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_orders_customer_id'))
        batch_op.drop_column('customer_match')
        batch_op.drop_column('customer_id')
    op.drop_index('uq_customers_seller_email', table_name='customers')
    op.drop_index(op.f('ix_customers_seller_id'), table_name='customers')
    op.drop_index(op.f('ix_customers_phone_key'), table_name='customers')
    op.drop_table('customers')
