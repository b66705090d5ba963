"""Projection snapshot for compaction: snapshot (the projection rows at the cut), snapshot_meta (the cut seq).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Timestamps: TIMESTAMPTZ on PostgreSQL, fixed-width ISO-8601 UTC text elsewhere (adapters/ledger/coltypes.py).
TS = sa.String(32).with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql")


def upgrade() -> None:
    op.create_table(
        "snapshot",
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "key", name="pk_snapshot"),
    )
    op.create_table(
        "snapshot_meta",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("taken_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_snapshot_meta"),
    )


def downgrade() -> None:
    op.drop_table("snapshot_meta")
    op.drop_table("snapshot")
