"""Start-up checks of the configured SQL: columns present, values of a usable type, the parameters used."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from adapters.warehouse.columns import Layout
from adapters.warehouse.values import flag_value, price_value, stock_value
from engine.errors import ConfigError

_PARAMETER = re.compile(r"(?<![:\w]):(\w+)")

_PARSERS: dict[str, tuple[Callable[[Any], tuple[Any, str | None]], str]] = {
    "stock": (stock_value, "whole numbers"),
    "price": (price_value, "numbers (a decimal point or comma is fine)"),
    "list": (flag_value, "yes/no values (1/0, T/N, tak/nie)"),
}


def check_sample(layout: Layout, rows: Sequence[Sequence[Any]], *, key: str) -> None:
    """ConfigError when a column holds no usable value in any sampled row (a wrong column behind the alias).

    Single bad rows are not a configuration problem: they become RowProblems for their product.
    """
    for column, (parse, expected) in _PARSERS.items():
        if not layout.has(column):
            continue
        position = layout.positions[column]
        values = [row[position] for row in rows if row[position] is not None]
        if not values:
            continue
        failures = [value for value in values if _unusable(parse, value)]
        if len(failures) == len(values):
            example = failures[0]
            raise ConfigError(
                f"[warehouse].{key}: column {column!r} holds {example!r} ({type(example).__name__}) in every "
                f"sampled row; expected {expected}; check which column is aliased AS {column}"
            )
    if layout.has("updated_at"):
        position = layout.positions["updated_at"]
        for row in rows:
            value = row[position]
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, datetime | date | int | float | Decimal | str):
                raise ConfigError(
                    f"[warehouse].{key}: column 'updated_at' holds {type(value).__name__} values; expected a "
                    "timestamp, a date or a number that grows on every change"
                )


def _unusable(parse: Callable[[Any], tuple[Any, str | None]], value: Any) -> bool:
    _, problem = parse(value)
    if problem is None:
        return False
    return "negative" not in problem  # a negative number is the right type, just a bad row


def check_statement(statement: str | None, *, key: str, required: Sequence[str], optional: bool) -> None:
    """ConfigError unless the statement names each required `:parameter` (and only known ones)."""
    if statement is None or not statement.strip():
        if optional:
            return
        raise ConfigError(f"[warehouse].{key} is empty; it is required")
    used = set(_PARAMETER.findall(statement))
    missing = [name for name in required if name not in used]
    if missing:
        raise ConfigError(
            f"[warehouse].{key} does not use {', '.join(':' + name for name in missing)}; "
            f"it receives {', '.join(':' + name for name in required)}"
        )


_EXPLAINABLE = ("UPDATE", "INSERT", "DELETE", "REPLACE", "WITH")


def explain_text(dialect_name: str, statement: str) -> str | None:
    """`EXPLAIN <statement>` for the dialect: the database checks tables and columns without running it.

    None for statements EXPLAIN cannot take (a CALL to a stored procedure): those are checked at first use.
    """
    words = statement.split(None, 1)
    if not words or words[0].upper() not in _EXPLAINABLE:
        return None
    prefix = "EXPLAIN QUERY PLAN" if dialect_name == "sqlite" else "EXPLAIN"
    return f"{prefix} {statement.strip().rstrip(';')}"
