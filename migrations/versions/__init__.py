"""Alembic revisions of the ledger (a package, so that wheels ship them)."""
