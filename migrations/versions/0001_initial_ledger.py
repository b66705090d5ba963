"""Initial ledger: events, cursors, commands (outbox), projection, projection_meta, locks.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the model's column types, so later model changes cannot rewrite history.
SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# Timestamps: TIMESTAMPTZ on PostgreSQL, fixed-width ISO-8601 UTC text elsewhere (adapters/ledger/coltypes.py).
TS = sa.String(32).with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql")


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("seq", SEQ, primary_key=True, autoincrement=True),
        sa.Column("stream", sa.String(64), nullable=False),
        sa.Column("source_key", sa.String(255), nullable=False),
        sa.Column("type", sa.String(128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(255), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("occurred_at", TS, nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_events"),
        sa.UniqueConstraint("stream", "source_key", name="uq_events_stream_source_key"),
    )
    op.create_index("ix_events_entity", "events", ["entity"])

    op.create_table(
        "cursors",
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("position", sa.Text(), nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_cursors"),
    )

    op.create_table(
        "commands",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("target", sa.String(255), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("caused_by", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TS, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("batch", sa.String(64), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_commands"),
        sa.CheckConstraint(
            "status IN ('pending', 'held', 'sent', 'done', 'failed', 'dead')", name="ck_commands_status"
        ),
    )
    op.create_index("ix_commands_target", "commands", ["target"])
    op.create_index("ix_commands_status", "commands", ["status"])
    op.create_index("ix_commands_batch", "commands", ["batch"])

    op.create_table(
        "projection",
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "key", name="pk_projection"),
    )

    op.create_table(
        "projection_meta",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("folded_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_projection_meta"),
    )

    op.create_table(
        "locks",
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("acquired_at", TS, nullable=False),
        sa.Column("heartbeat_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_locks"),
    )


def downgrade() -> None:
    op.drop_table("locks")
    op.drop_table("projection_meta")
    op.drop_table("projection")
    op.drop_index("ix_commands_batch", table_name="commands")
    op.drop_index("ix_commands_status", table_name="commands")
    op.drop_index("ix_commands_target", table_name="commands")
    op.drop_table("commands")
    op.drop_table("cursors")
    op.drop_index("ix_events_entity", table_name="events")
    op.drop_table("events")
