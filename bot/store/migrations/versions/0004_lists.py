"""Mailing-list reviews: kept messages, reviews by Message-Id, archive cursors.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "list_messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.String(length=500), nullable=False),
        sa.Column("date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("settled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id", name="uq_list_messages_id"),
    )
    op.create_index("ix_list_messages_date", "list_messages", ["date"])
    op.create_table(
        "list_reviews",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.String(length=500), nullable=False),
        sa.Column("list_name", sa.String(length=300), nullable=False),
        sa.Column("series_key", sa.String(length=500), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=300), nullable=True),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("base_sha", sa.String(length=64), nullable=True),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("findings", sa.JSON(), nullable=False),
        sa.Column("overrides", sa.JSON(), nullable=False),
        sa.Column("tiers", sa.JSON(), nullable=False),
        sa.Column("acks", sa.JSON(), nullable=False),
        sa.Column("reply_id", sa.String(length=500), nullable=True),
        sa.Column("reply", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id", name="uq_list_reviews_id"),
    )
    op.create_index("ix_list_reviews_series", "list_reviews", ["series_key"])
    op.create_index("ix_list_reviews_created", "list_reviews", ["created_at"])
    op.create_table(
        "list_cursors",
        sa.Column("name", sa.String(length=600), nullable=False),
        sa.Column("position", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("list_cursors")
    op.drop_index("ix_list_reviews_created", table_name="list_reviews")
    op.drop_index("ix_list_reviews_series", table_name="list_reviews")
    op.drop_table("list_reviews")
    op.drop_index("ix_list_messages_date", table_name="list_messages")
    op.drop_table("list_messages")
