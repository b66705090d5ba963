"""The shape of a configured SELECT: which canonical columns it returns, and wrapping it in an outer query."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Dialect

from engine.errors import ConfigError

CANONICAL = (
    "product_id",
    "external_id",
    "title",
    "price",
    "stock",
    "list",
    "category",
    "condition",
    "ean",
    "description",
    "images",
    "updated_at",
)
REQUIRED = ("product_id", "stock")

_LEADING_NOISE = re.compile(r"^(\s+|--[^\n]*(\n|$)|/\*.*?\*/|\()*", re.DOTALL)


def select_text(sql: str | None, key: str) -> str:
    """The statement of `[warehouse].<key>` ready to be wrapped; ConfigError unless it is one SELECT."""
    text = (sql or "").strip().rstrip(";").strip()
    body = _LEADING_NOISE.sub("", text)
    first = body.split(None, 1)[0].upper() if body.split() else ""
    if first not in ("SELECT", "WITH"):
        found = f"it starts with {first!r}" if first else "it is empty"
        raise ConfigError(
            f"[warehouse].{key} is not a SELECT ({found}); expected a SELECT returning at least product_id and stock"
        )
    return text


@dataclass(frozen=True, slots=True)
class Layout:
    """Where each canonical column sits in a result row; other columns are `extras` (name, position)."""

    names: tuple[str, ...]
    positions: dict[str, int]
    extras: tuple[tuple[str, int], ...]

    def has(self, column: str) -> bool:
        return column in self.positions

    def name_of(self, column: str) -> str:
        """The column's name exactly as the database returned it (for quoting in an outer query)."""
        return self.names[self.positions[column]]


def layout_of(names: Sequence[str], *, key: str, required: Sequence[str] = REQUIRED) -> Layout:
    """Match result column names to the canonical aliases (case-insensitively); name what is missing."""
    positions: dict[str, int] = {}
    extras: list[tuple[str, int]] = []
    seen: set[str] = set()
    for index, name in enumerate(names):
        lowered = name.lower()
        if lowered in seen:
            raise ConfigError(f"[warehouse].{key}: column {name!r} is returned twice; give each column one alias")
        seen.add(lowered)
        if lowered in CANONICAL:
            positions[lowered] = index
        else:
            extras.append((name, index))
    missing = [column for column in required if column not in positions]
    if missing:
        listed = ", ".join(repr(column) for column in missing)
        noun = "column" if len(missing) == 1 else "columns"
        raise ConfigError(
            f"[warehouse].{key}: missing {noun} {listed}; expected a SELECT returning at least "
            f"{' and '.join(required)} (found: {', '.join(names) or 'no columns'})"
        )
    return Layout(names=tuple(names), positions=positions, extras=tuple(sorted(extras)))


def quoted(dialect: Dialect, name: str) -> str:
    """`name` quoted for `dialect`, always (keeps its case; `condition` is reserved in MySQL)."""
    return str(dialect.identifier_preparer.quote_identifier(name))


def wrap_empty(sql: str) -> str:
    return f"SELECT * FROM ({sql}) AS q WHERE 1 = 0"


def wrap_sample(sql: str, rows: int) -> str:
    return f"SELECT * FROM ({sql}) AS q LIMIT {int(rows)}"


def wrap_where(sql: str, condition: str) -> str:
    return f"SELECT * FROM ({sql}) AS q WHERE {condition}"
