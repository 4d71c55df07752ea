"""Logistics: carrier shipments, labels, tracking events

Carrier accounts per seller (credentials and webhook secret sealed), shipments with their idempotency key, label
and customs declaration, and tracking events unique per shipment, time and status (hub.logistics.models).

Revision ID: b7e1a0c40002
Revises: b7e1a0c40001
Create Date: 2026-11-30 15:35:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.db

revision: str = 'b7e1a0c40002'
down_revision: str | None = 'b7e1a0c40001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('carrier_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('base_url', sa.String(length=500), nullable=False),
    sa.Column('credentials', sa.Text(), nullable=False),
    sa.Column('webhook_secret', sa.Text(), nullable=False),
    sa.Column('origin', hub.db.JSON, nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['seller_id'], ['sellers.id'], name=op.f('fk_carrier_accounts_seller_id_sellers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_carrier_accounts')),
    sa.UniqueConstraint('seller_id', 'name', name=op.f('uq_carrier_accounts_seller_id_name'))
    )
    with op.batch_alter_table('carrier_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_carrier_accounts_seller_id'), ['seller_id'], unique=False)

    op.create_table('shipments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('carrier', sa.String(length=64), nullable=False),
    sa.Column('service', sa.String(length=64), nullable=False),
    sa.Column('carrier_shipment_id', sa.String(length=64), nullable=False),
    sa.Column('tracking_code', sa.String(length=64), nullable=False),
    sa.Column('tracker_id', sa.String(length=64), nullable=False),
    sa.Column('rate_amount', sa.Numeric(precision=19, scale=4), nullable=True),
    sa.Column('rate_currency', sa.String(length=3), nullable=True),
    sa.Column('label_pdf', sa.LargeBinary(), nullable=True),
    sa.Column('lines', hub.db.JSON, nullable=True),
    sa.Column('customs', hub.db.JSON, nullable=True),
    sa.Column('tracking_status', sa.String(length=24), nullable=True),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('fulfillment_id', sa.Integer(), nullable=True),
    sa.Column('created_at', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('purchased_at', hub.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('tracked_at', hub.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['carrier_accounts.id'], name=op.f('fk_shipments_account_id_carrier_accounts'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['fulfillment_id'], ['fulfillments.id'], name=op.f('fk_shipments_fulfillment_id_fulfillments'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_shipments_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['seller_id'], ['sellers.id'], name=op.f('fk_shipments_seller_id_sellers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipments')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_shipments_idempotency_key'))
    )
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shipments_account_id'), ['account_id'], unique=False)
        batch_op.create_index('ix_shipments_account_tracking', ['account_id', 'tracking_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_shipments_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shipments_seller_id'), ['seller_id'], unique=False)
        batch_op.create_index('ix_shipments_tracking_poll', ['state', 'tracking_status'], unique=False)

    op.create_table('tracking_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shipment_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('carrier_status', sa.String(length=64), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('location', sa.String(length=200), nullable=False),
    sa.Column('occurred_at', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('received_at', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['seller_id'], ['sellers.id'], name=op.f('fk_tracking_events_seller_id_sellers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipments.id'], name=op.f('fk_tracking_events_shipment_id_shipments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracking_events')),
    sa.UniqueConstraint('shipment_id', 'occurred_at', 'status', name=op.f('uq_tracking_events_shipment_id_occurred_at_status'))
    )
    with op.batch_alter_table('tracking_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tracking_events_seller_id'), ['seller_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tracking_events_shipment_id'), ['shipment_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tracking_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tracking_events_shipment_id'))
        batch_op.drop_index(batch_op.f('ix_tracking_events_seller_id'))

    op.drop_table('tracking_events')
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.drop_index('ix_shipments_tracking_poll')
        batch_op.drop_index(batch_op.f('ix_shipments_seller_id'))
        batch_op.drop_index(batch_op.f('ix_shipments_order_id'))
        batch_op.drop_index('ix_shipments_account_tracking')
        batch_op.drop_index(batch_op.f('ix_shipments_account_id'))

    op.drop_table('shipments')
    with op.batch_alter_table('carrier_accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_carrier_accounts_seller_id'))

    op.drop_table('carrier_accounts')
