"""Deliveries remember the SHA-256 of their body: a replay is a duplicate
whatever its Idempotency-Key.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("body_sha256", sa.String(length=64), nullable=True))
    op.create_index("uq_deliveries_body", "deliveries", ["forge", "body_sha256"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_deliveries_body", table_name="deliveries")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("body_sha256")
