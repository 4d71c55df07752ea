"""Recommendations: behaviour events, precomputed recommendation tables

Revision ID: b7e1a0c40008
Revises: b7e1a0c40007
Create Date: 2026-11-30 16:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import hub.db

revision: str = 'b7e1a0c40008'
down_revision: str | None = 'b7e1a0c40007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.add_column(sa.Column('consumable', sa.Boolean(), server_default=sa.false(), nullable=False))

    op.create_table('behaviour_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('visitor', sa.String(length=64), nullable=False),
    sa.Column('context', sa.String(length=32), nullable=False),
    sa.Column('occurred_at', hub.db.UTCDateTime(), nullable=False),
    sa.Column('received_at', hub.db.UTCDateTime(), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("kind IN ('view', 'add_to_cart', 'click', 'purchase')",
                       name=op.f('ck_behaviour_events_kind_known')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_behaviour_events_customer_id_customers'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_behaviour_events_product_id_products'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['seller_id'], ['sellers.id'], name=op.f('fk_behaviour_events_seller_id_sellers'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_behaviour_events')),
    sa.UniqueConstraint('seller_id', 'event_id', name='uq_behaviour_events_seller_event')
    )
    with op.batch_alter_table('behaviour_events', schema=None) as batch_op:
        batch_op.create_index('ix_behaviour_events_seller_kind_occurred', ['seller_id', 'kind', 'occurred_at'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_behaviour_events_product_id'), ['product_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_behaviour_events_seller_id'), ['seller_id'], unique=False)

    op.create_table('recommend_bought_together',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('other_id', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('baskets', sa.Integer(), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['other_id'], ['products.id'],
                            name=op.f('fk_recommend_bought_together_other_id_products'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'],
                            name=op.f('fk_recommend_bought_together_product_id_products'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['seller_id'], ['sellers.id'],
                            name=op.f('fk_recommend_bought_together_seller_id_sellers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recommend_bought_together')),
    sa.UniqueConstraint('seller_id', 'product_id', 'rank', name='uq_recommend_bought_together_key')
    )
    with op.batch_alter_table('recommend_bought_together', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recommend_bought_together_other_id'), ['other_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recommend_bought_together_seller_id'), ['seller_id'], unique=False)

    op.create_table('recommend_for_buyer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'],
                            name=op.f('fk_recommend_for_buyer_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'],
                            name=op.f('fk_recommend_for_buyer_product_id_products'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['seller_id'], ['sellers.id'],
                            name=op.f('fk_recommend_for_buyer_seller_id_sellers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recommend_for_buyer')),
    sa.UniqueConstraint('seller_id', 'customer_id', 'rank', name='uq_recommend_for_buyer_key')
    )
    with op.batch_alter_table('recommend_for_buyer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recommend_for_buyer_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recommend_for_buyer_product_id'), ['product_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recommend_for_buyer_seller_id'), ['seller_id'], unique=False)

    op.create_table('recommend_popular',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'],
                            name=op.f('fk_recommend_popular_product_id_products'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['seller_id'], ['sellers.id'],
                            name=op.f('fk_recommend_popular_seller_id_sellers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recommend_popular')),
    sa.UniqueConstraint('seller_id', 'rank', name='uq_recommend_popular_key')
    )
    with op.batch_alter_table('recommend_popular', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recommend_popular_product_id'), ['product_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recommend_popular_seller_id'), ['seller_id'], unique=False)

    op.create_table('recommend_listing_opportunities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('units_elsewhere', sa.Integer(), nullable=False),
    sa.Column('orders_elsewhere', sa.Integer(), nullable=False),
    sa.Column('evidence', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
              nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('(channel_id IS NULL) <> (country IS NULL)',
                       name=op.f('ck_recommend_listing_opportunities_channel_or_country')),
    sa.ForeignKeyConstraint(['channel_id'], ['channels.id'],
                            name=op.f('fk_recommend_listing_opportunities_channel_id_channels'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'],
                            name=op.f('fk_recommend_listing_opportunities_product_id_products'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['seller_id'], ['sellers.id'],
                            name=op.f('fk_recommend_listing_opportunities_seller_id_sellers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recommend_listing_opportunities')),
    sa.UniqueConstraint('seller_id', 'rank', name='uq_recommend_listing_opportunities_key')
    )
    with op.batch_alter_table('recommend_listing_opportunities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recommend_listing_opportunities_channel_id'), ['channel_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_recommend_listing_opportunities_product_id'), ['product_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_recommend_listing_opportunities_seller_id'), ['seller_id'],
                              unique=False)

    op.create_table('recommend_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('started_at', hub.db.UTCDateTime(), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('orders', sa.Integer(), nullable=False),
    sa.Column('events', sa.Integer(), nullable=False),
    sa.Column('bought_together', sa.Integer(), nullable=False),
    sa.Column('for_buyer', sa.Integer(), nullable=False),
    sa.Column('opportunities', sa.Integer(), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['seller_id'], ['sellers.id'], name=op.f('fk_recommend_runs_seller_id_sellers'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recommend_runs'))
    )
    with op.batch_alter_table('recommend_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recommend_runs_seller_id'), ['seller_id'], unique=False)


def downgrade() -> None:
    for table in ('recommend_runs', 'recommend_listing_opportunities', 'recommend_popular', 'recommend_for_buyer',
                  'recommend_bought_together', 'behaviour_events'):
        op.drop_table(table)
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_column('consumable')
