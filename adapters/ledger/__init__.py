"""The SQL ledger: events, cursors, the outbox and the projection (SQLite or PostgreSQL)."""
