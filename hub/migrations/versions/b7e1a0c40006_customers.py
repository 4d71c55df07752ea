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
    sa.Column('match_key', sa.String(length=160), nullable=True),
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
    op.create_index('uq_customers_seller_match', 'customers', ['seller_id', 'match_key'], unique=True,
                    sqlite_where=sa.text('match_key IS NOT NULL'), postgresql_where=sa.text('match_key IS NOT NULL'))
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('customer_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('customer_match', sa.String(length=64), server_default=sa.text("''"),
                                      nullable=False))
        batch_op.create_index(batch_op.f('ix_orders_customer_id'), ['customer_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_orders_customer_id_customers'), 'customers', ['customer_id'],
                                    ['id'], ondelete='SET NULL')
    op.create_table('customer_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=64), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('created_profile', sa.Boolean(), nullable=False),
    sa.Column('email_key', sa.String(length=254), nullable=True),
    sa.Column('phone_key', sa.String(length=40), nullable=True),
    sa.Column('name_key', sa.String(length=200), nullable=False),
    sa.Column('address_key', sa.String(length=40), nullable=False),
    sa.Column('created_at', hub.db.UTCDateTime(), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_links_customer_id_customers'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_customer_links_order_id_orders'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['seller_id'], ['sellers.id'], name=op.f('fk_customer_links_seller_id_sellers'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_links')),
    sa.UniqueConstraint('order_id', name=op.f('uq_customer_links_order_id'))
    )
    op.create_index('ix_customer_links_contact', 'customer_links', ['seller_id', 'phone_key', 'name_key',
                                                                    'address_key'], unique=False)
    op.create_index(op.f('ix_customer_links_customer_id'), 'customer_links', ['customer_id'], unique=False)
    op.create_index(op.f('ix_customer_links_seller_id'), 'customer_links', ['seller_id'], unique=False)
    op.create_table('customer_merges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('into_id', sa.Integer(), nullable=False),
    sa.Column('other_id', sa.Integer(), nullable=False),
    sa.Column('order_ids', sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('merged_by', sa.String(length=120), nullable=False),
    sa.Column('merged_at', hub.db.UTCDateTime(), nullable=False),
    sa.Column('unmerged_by', sa.String(length=120), nullable=True),
    sa.Column('unmerged_at', hub.db.UTCDateTime(), nullable=True),
    sa.Column('restored_order_ids', sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), 'postgresql'),
              nullable=True),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['into_id'], ['customers.id'], name=op.f('fk_customer_merges_into_id_customers'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['other_id'], ['customers.id'], name=op.f('fk_customer_merges_other_id_customers'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['seller_id'], ['sellers.id'], name=op.f('fk_customer_merges_seller_id_sellers'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_merges'))
    )
    op.create_index(op.f('ix_customer_merges_into_id'), 'customer_merges', ['into_id'], unique=False)
    op.create_index(op.f('ix_customer_merges_other_id'), 'customer_merges', ['other_id'], unique=False)
    op.create_index(op.f('ix_customer_merges_seller_id'), 'customer_merges', ['seller_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_customer_merges_seller_id'), table_name='customer_merges')
    op.drop_index(op.f('ix_customer_merges_other_id'), table_name='customer_merges')
    op.drop_index(op.f('ix_customer_merges_into_id'), table_name='customer_merges')
    op.drop_table('customer_merges')
    op.drop_index(op.f('ix_customer_links_seller_id'), table_name='customer_links')
    op.drop_index(op.f('ix_customer_links_customer_id'), table_name='customer_links')
    op.drop_index('ix_customer_links_contact', table_name='customer_links')
    op.drop_table('customer_links')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_orders_customer_id_customers'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_orders_customer_id'))
        batch_op.drop_column('customer_match')
        batch_op.drop_column('customer_id')
    op.drop_index('uq_customers_seller_match', table_name='customers')
    op.drop_index('uq_customers_seller_email', table_name='customers')
    op.drop_index(op.f('ix_customers_seller_id'), table_name='customers')
    op.drop_index(op.f('ix_customers_phone_key'), table_name='customers')
    op.drop_table('customers')
