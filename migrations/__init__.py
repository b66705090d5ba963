"""Alembic migrations of the ledger: the only authority over its schema."""
