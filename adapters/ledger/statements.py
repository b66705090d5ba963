"""Insert-or-ignore and upsert statements for the ledger's two dialects (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect


def _insert(dialect: Dialect, table: Table) -> sqlite.Insert | postgresql.Insert:
    if dialect.name == "postgresql":
        return postgresql.insert(table)
    if dialect.name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"the ledger has no statements for {dialect.name}")


def insert_ignoring(dialect: Dialect, table: Table, keys: Sequence[str]) -> sqlite.Insert | postgresql.Insert:
    """INSERT ... ON CONFLICT (keys) DO NOTHING: a row already there (even from another process) is skipped."""
    return _insert(dialect, table).on_conflict_do_nothing(index_elements=list(keys))


def upsert(
    dialect: Dialect, table: Table, keys: Sequence[str], columns: Sequence[str]
) -> sqlite.Insert | postgresql.Insert:
    """INSERT ... ON CONFLICT (keys) DO UPDATE SET each of `columns` to the inserted value."""
    statement = _insert(dialect, table)
    return statement.on_conflict_do_update(
        index_elements=list(keys), set_={name: statement.excluded[name] for name in columns}
    )
