"""Payments: provider accounts, payments, payment attempts (idempotency keys), provider notifications

Revision ID: b7e1a0c40001
Revises: 53e748ce84a1
Create Date: 2026-11-30 15:35:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import hub.db

revision: str = 'b7e1a0c40001'
down_revision: str | None = '53e748ce84a1'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('payment_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('base_url', sa.String(length=500), nullable=False),
    sa.Column('credentials_encrypted', sa.Text(), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['seller_id'], ['sellers.id'], name=op.f('fk_payment_accounts_seller_id_sellers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_accounts')),
    sa.UniqueConstraint('seller_id', 'provider', 'name', name='uq_payment_accounts_name')
    )
    with op.batch_alter_table('payment_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_accounts_seller_id'), ['seller_id'], unique=False)

    op.create_table('payment_notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=32), nullable=False),
    sa.Column('event_id', sa.String(length=128), nullable=False),
    sa.Column('provider_id', sa.String(length=128), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=True),
    sa.Column('event_status', sa.Enum('pending', 'authorized', 'captured', 'partially_refunded', 'refunded', 'failed', 'voided', name='event_status_valid', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('amount', sa.Numeric(precision=19, scale=4), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('occurred_at', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('received_at', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('applied_at', hub.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('error', sa.String(length=500), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['payment_accounts.id'], name=op.f('fk_payment_notifications_account_id_payment_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['seller_id'], ['sellers.id'], name=op.f('fk_payment_notifications_seller_id_sellers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_notifications')),
    sa.UniqueConstraint('provider', 'event_id', name='uq_payment_notifications_event')
    )
    with op.batch_alter_table('payment_notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_notifications_account_id'), ['account_id'], unique=False)
        batch_op.create_index('ix_payment_notifications_pending', ['applied_at', 'occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_notifications_seller_id'), ['seller_id'], unique=False)

    op.create_table('payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=32), nullable=False),
    sa.Column('provider_id', sa.String(length=128), nullable=True),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Enum('pending', 'authorized', 'captured', 'partially_refunded', 'refunded', 'failed', 'voided', name='status_valid', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount', sa.Numeric(precision=19, scale=4), nullable=False),
    sa.Column('captured', sa.Numeric(precision=19, scale=4), nullable=False),
    sa.Column('refunded', sa.Numeric(precision=19, scale=4), nullable=False),
    sa.Column('capture_requested', sa.Boolean(), nullable=False),
    sa.Column('payment_method', sa.String(length=128), nullable=True),
    sa.Column('action_url', sa.String(length=1000), nullable=True),
    sa.Column('return_url', sa.String(length=1000), nullable=True),
    sa.Column('notify_url', sa.String(length=1000), nullable=True),
    sa.Column('failure_reason', sa.String(length=500), nullable=False),
    sa.Column('created_at', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['payment_accounts.id'], name=op.f('fk_payments_account_id_payment_accounts'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_payments_order_id_orders'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['seller_id'], ['sellers.id'], name=op.f('fk_payments_seller_id_sellers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments')),
    sa.UniqueConstraint('provider', 'provider_id', name='uq_payments_provider_id'),
    sa.UniqueConstraint('reference', name=op.f('uq_payments_reference'))
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payments_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payments_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payments_seller_id'), ['seller_id'], unique=False)
        batch_op.create_index('ix_payments_status_updated', ['status', 'updated_at'], unique=False)

    op.create_table('payment_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('operation', sa.Enum('create', 'capture', 'refund', 'void', name='operation_valid', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('idempotency_key', sa.String(length=255), nullable=False),
    sa.Column('amount', sa.Numeric(precision=19, scale=4), nullable=True),
    sa.Column('status', sa.Enum('started', 'unknown', 'succeeded', 'failed', name='status_valid', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('tries', sa.Integer(), nullable=False),
    sa.Column('provider_ref', sa.String(length=128), nullable=True),
    sa.Column('response', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('error', sa.String(length=500), nullable=False),
    sa.Column('created_at', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', hub.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_payment_attempts_payment_id_payments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['seller_id'], ['sellers.id'], name=op.f('fk_payment_attempts_seller_id_sellers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_attempts')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_payment_attempts_idempotency_key'))
    )
    with op.batch_alter_table('payment_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_attempts_payment_id'), ['payment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_attempts_seller_id'), ['seller_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('payment_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_attempts_seller_id'))
        batch_op.drop_index(batch_op.f('ix_payment_attempts_payment_id'))

    op.drop_table('payment_attempts')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index('ix_payments_status_updated')
        batch_op.drop_index(batch_op.f('ix_payments_seller_id'))
        batch_op.drop_index(batch_op.f('ix_payments_order_id'))
        batch_op.drop_index(batch_op.f('ix_payments_account_id'))

    op.drop_table('payments')
    with op.batch_alter_table('payment_notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_notifications_seller_id'))
        batch_op.drop_index('ix_payment_notifications_pending')
        batch_op.drop_index(batch_op.f('ix_payment_notifications_account_id'))

    op.drop_table('payment_notifications')
    with op.batch_alter_table('payment_accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_accounts_seller_id'))

    op.drop_table('payment_accounts')
