"""Column types that store the same values on SQLite and PostgreSQL: UTC timestamps."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Literal

from alembic.autogenerate.api import AutogenContext
from sqlalchemy import String
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from adapters.ledger.values import utc

# "2026-01-31T12:00:00.000000+00:00": fixed width, so text comparison is time comparison.
ISO_WIDTH = 32


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime: TIMESTAMPTZ on PostgreSQL, fixed-width ISO-8601 text elsewhere.

    Values come back as `datetime` with `tzinfo=UTC` and microsecond precision on every backend; a naive
    datetime is refused (ValueError) instead of being silently taken as local or UTC time.
    """

    impl = String(ISO_WIDTH)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.TIMESTAMP(timezone=True))
        return dialect.type_descriptor(String(ISO_WIDTH))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = utc(value)
        if dialect.name == "postgresql":
            return value
        return _iso(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.astimezone(UTC)
        return datetime.fromisoformat(value).astimezone(UTC)


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Alembic autogenerate hook: write UtcDateTime as plain SQLAlchemy types, so revisions never import app code."""
    if type_ == "type" and isinstance(obj, UtcDateTime):
        autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
        return f'sa.String({ISO_WIDTH}).with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql")'
    return False


@lru_cache(maxsize=256)  # a batch of events shares its recorded_at and often its occurred_at
def _iso(value: datetime) -> str:
    return value.replace(tzinfo=None).isoformat(timespec="microseconds") + "+00:00"
