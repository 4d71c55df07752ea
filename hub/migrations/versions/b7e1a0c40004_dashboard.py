"""Dashboard: indexed search, invitations

The Orders search box as four indexed lookups (hub.orders.services._search): external id and buyer email per
seller (the email one on PostgreSQL only), and on PostgreSQL a pg_trgm GIN index for a part of the buyer's name.

Revision ID: b7e1a0c40004
Revises: b7e1a0c40003
Create Date: 2026-11-30 15:35:00
"""
from collections.abc import Sequence

from alembic import op

from hub.migrate import SEARCH_EMAIL_INDEX, SEARCH_TRIGRAM_INDEX

revision: str = 'b7e1a0c40004'
down_revision: str | None = 'b7e1a0c40003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('ix_orders_seller_external', ['seller_id', 'external_id'], unique=False)
    # Indexes on expressions on PostgreSQL only, the production database: SQLite cannot reflect them, so a later
    # batch migration (which rebuilds a SQLite table from its reflection) would silently drop them.
    if op.get_context().dialect.name == 'postgresql':
        op.execute(f'CREATE INDEX {SEARCH_EMAIL_INDEX} ON orders (seller_id, lower(buyer_email))')
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        op.execute(f'CREATE INDEX {SEARCH_TRIGRAM_INDEX} ON orders USING gin (lower(buyer_name) gin_trgm_ops)')


def downgrade() -> None:
    if op.get_context().dialect.name == 'postgresql':
        op.execute(f'DROP INDEX {SEARCH_TRIGRAM_INDEX}')
        op.execute(f'DROP INDEX {SEARCH_EMAIL_INDEX}')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_seller_external')
