"""The SQL ledger: events, cursors, the outbox and the projection (SQLite or PostgreSQL)."""

from adapters.ledger.schema import current_revision, head_revision, upgrade
from adapters.ledger.store import SqlLedger, open_ledger

__all__ = ["SqlLedger", "current_revision", "head_revision", "open_ledger", "upgrade"]
