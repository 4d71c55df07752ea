"""Outbox: events, deliveries, seller webhook endpoints, dead letters

Revision ID: b7e1a0c40003
Revises: b7e1a0c40002
Create Date: 2026-11-30 15:35:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.db

revision: str = 'b7e1a0c40003'
down_revision: str | None = 'b7e1a0c40002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('outbox_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('subject', sa.String(length=80), nullable=False),
    sa.Column('payload', sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('created_at', hub.db.UTCDateTime(), nullable=False),
    sa.Column('published_at', hub.db.UTCDateTime(), nullable=True),
    sa.Column('fanned_out_at', hub.db.UTCDateTime(), nullable=True),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['seller_id'], ['sellers.id'], name=op.f('fk_outbox_events_seller_id_sellers'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_events')),
    sa.UniqueConstraint('event_id', name=op.f('uq_outbox_events_event_id'))
    )
    op.create_index('ix_outbox_events_pending', 'outbox_events', ['published_at', 'id'], unique=False)
    op.create_index(op.f('ix_outbox_events_seller_id'), 'outbox_events', ['seller_id'], unique=False)
    op.create_index('ix_outbox_events_fan_out', 'outbox_events', ['fanned_out_at', 'id'], unique=False)

    op.create_table('webhook_endpoints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('secret_sealed', sa.Text(), nullable=False),
    sa.Column('kinds', sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('created_at', hub.db.UTCDateTime(), nullable=False),
    sa.Column('disabled_at', hub.db.UTCDateTime(), nullable=True),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['seller_id'], ['sellers.id'], name=op.f('fk_webhook_endpoints_seller_id_sellers'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_endpoints'))
    )
    op.create_index(op.f('ix_webhook_endpoints_seller_id'), 'webhook_endpoints', ['seller_id'], unique=False)

    op.create_table('outbox_deliveries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('destination', sa.String(length=40), nullable=False),
    sa.Column('endpoint_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', hub.db.UTCDateTime(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=False),
    sa.Column('delivered_at', hub.db.UTCDateTime(), nullable=True),
    sa.Column('claimed_by', sa.String(length=36), nullable=True),
    sa.Column('claimed_until', hub.db.UTCDateTime(), nullable=True),
    sa.Column('created_at', hub.db.UTCDateTime(), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoints.id'],
                            name=op.f('fk_outbox_deliveries_endpoint_id_webhook_endpoints'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['event_id'], ['outbox_events.event_id'],
                            name=op.f('fk_outbox_deliveries_event_id_outbox_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['seller_id'], ['sellers.id'], name=op.f('fk_outbox_deliveries_seller_id_sellers'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_deliveries')),
    sa.UniqueConstraint('event_id', 'destination', name=op.f('uq_outbox_deliveries_event_id_destination'))
    )
    op.create_index('ix_outbox_deliveries_due', 'outbox_deliveries', ['status', 'next_attempt_at'], unique=False)
    op.create_index(op.f('ix_outbox_deliveries_endpoint_id'), 'outbox_deliveries', ['endpoint_id'], unique=False)
    op.create_index(op.f('ix_outbox_deliveries_seller_id'), 'outbox_deliveries', ['seller_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_outbox_deliveries_seller_id'), table_name='outbox_deliveries')
    op.drop_index(op.f('ix_outbox_deliveries_endpoint_id'), table_name='outbox_deliveries')
    op.drop_index('ix_outbox_deliveries_due', table_name='outbox_deliveries')
    op.drop_table('outbox_deliveries')
    op.drop_index(op.f('ix_webhook_endpoints_seller_id'), table_name='webhook_endpoints')
    op.drop_table('webhook_endpoints')
    op.drop_index('ix_outbox_events_fan_out', table_name='outbox_events')
    op.drop_index(op.f('ix_outbox_events_seller_id'), table_name='outbox_events')
    op.drop_index('ix_outbox_events_pending', table_name='outbox_events')
    op.drop_table('outbox_events')
