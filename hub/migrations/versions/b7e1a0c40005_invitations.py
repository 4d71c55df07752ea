"""Invitations: an owner invites staff by a link that works once

Revision ID: b7e1a0c40005
Revises: b7e1a0c40004
Create Date: 2026-11-30 16:20:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.db

revision: str = 'b7e1a0c40005'
down_revision: str | None = 'b7e1a0c40004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('role', sa.Enum('viewer', 'staff', 'owner', 'admin', name='invitation_role_valid', native_enum=False,
                              length=16, create_constraint=True), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('invited_by', sa.Integer(), nullable=True),
    sa.Column('created_at', hub.db.UTCDateTime(), nullable=False),
    sa.Column('expires_at', hub.db.UTCDateTime(), nullable=False),
    sa.Column('accepted_at', hub.db.UTCDateTime(), nullable=True),
    sa.Column('revoked_at', hub.db.UTCDateTime(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['invited_by'], ['users.id'], name=op.f('fk_invitations_invited_by_users'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['seller_id'], ['sellers.id'], name=op.f('fk_invitations_seller_id_sellers'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_invitations_user_id_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitations')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_invitations_token_hash'))
    )
    op.create_index(op.f('ix_invitations_seller_id'), 'invitations', ['seller_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_invitations_seller_id'), table_name='invitations')
    op.drop_table('invitations')
