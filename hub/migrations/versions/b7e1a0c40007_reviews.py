"""Reviews: order-line reviews with edit history, pulled channel reviews

Revision ID: b7e1a0c40007
Revises: b7e1a0c40006
Create Date: 2026-11-30 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import hub.db

revision: str = "b7e1a0c40007"
down_revision: str | None = "b7e1a0c40006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=True),
        sa.Column("channel_sku", sa.String(length=64), nullable=False),
        sa.Column("channel_product_ref", sa.String(length=64), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "photos", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("reviewer_name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("flagged_for_follow_up", sa.Boolean(), nullable=False),
        sa.Column("follow_up_done_at", hub.db.UTCDateTime(), nullable=True),
        sa.Column("created_at", hub.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", hub.db.UTCDateTime(), nullable=False),
        sa.Column("seller_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("source IN ('hub', 'channel')", name=op.f("ck_reviews_source_valid")),
        sa.CheckConstraint("status IN ('published', 'hidden')", name=op.f("ck_reviews_status_valid")),
        sa.CheckConstraint("rating >= 1 AND rating <= 5", name=op.f("ck_reviews_rating_range")),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_reviews_channel_id_channels"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_reviews_customer_id_customers"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["order_lines.id"],
            name=op.f("fk_reviews_order_line_id_order_lines"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_reviews_product_id_products"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["sellers.id"], name=op.f("fk_reviews_seller_id_sellers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
        sa.UniqueConstraint("channel_id", "external_id", name=op.f("uq_reviews_channel_id_external_id")),
        sa.UniqueConstraint("order_line_id", name=op.f("uq_reviews_order_line_id")),
    )
    op.create_index(op.f("ix_reviews_channel_id"), "reviews", ["channel_id"], unique=False)
    op.create_index(op.f("ix_reviews_customer_id"), "reviews", ["customer_id"], unique=False)
    op.create_index("ix_reviews_seller_created", "reviews", ["seller_id", "created_at", "id"], unique=False)
    op.create_index(
        "ix_reviews_seller_flagged", "reviews", ["seller_id", "flagged_for_follow_up", "created_at"], unique=False
    )
    op.create_index(op.f("ix_reviews_seller_id"), "reviews", ["seller_id"], unique=False)
    op.create_index(
        "ix_reviews_seller_product_channel", "reviews", ["seller_id", "product_id", "channel_id"], unique=False
    )
    op.create_table(
        "review_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "photos", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("edited_at", hub.db.UTCDateTime(), nullable=False),
        sa.Column("seller_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["review_id"], ["reviews.id"], name=op.f("fk_review_revisions_review_id_reviews"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["sellers.id"], name=op.f("fk_review_revisions_seller_id_sellers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_revisions")),
    )
    op.create_index(op.f("ix_review_revisions_review_id"), "review_revisions", ["review_id"], unique=False)
    op.create_index(op.f("ix_review_revisions_seller_id"), "review_revisions", ["seller_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_review_revisions_seller_id"), table_name="review_revisions")
    op.drop_index(op.f("ix_review_revisions_review_id"), table_name="review_revisions")
    op.drop_table("review_revisions")
    op.drop_index("ix_reviews_seller_product_channel", table_name="reviews")
    op.drop_index(op.f("ix_reviews_seller_id"), table_name="reviews")
    op.drop_index("ix_reviews_seller_flagged", table_name="reviews")
    op.drop_index("ix_reviews_seller_created", table_name="reviews")
    op.drop_index(op.f("ix_reviews_customer_id"), table_name="reviews")
    op.drop_index(op.f("ix_reviews_channel_id"), table_name="reviews")
    op.drop_table("reviews")
