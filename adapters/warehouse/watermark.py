"""The opaque `updated_at` watermark: encoded as text, and turned into "rows changed since watermark minus overlap".

The watermark is a value in the warehouse database's own clock and zone; it is never compared with our clock.
"Minus the overlap" is computed on the value the driver returned (a datetime, a date or a number) or, for
timestamps stored as text, in SQL by the database itself.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

_DATE_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def encode(value: Any) -> str | None:
    """The watermark text for a raw `updated_at` value (None for NULL)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return "datetime:" + value.isoformat()
    if isinstance(value, date):
        return "date:" + value.isoformat()
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return f"int:{value}"
    if isinstance(value, Decimal | float):
        return f"number:{value}"
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return "text:" + str(value)


def decode(watermark: str) -> Any:
    kind, _, text = watermark.partition(":")
    if kind == "datetime":
        return datetime.fromisoformat(text)
    if kind == "date":
        return date.fromisoformat(text)
    if kind == "int":
        return int(text)
    if kind == "number":
        return Decimal(text)
    if kind == "text":
        return text
    return watermark  # an older or foreign watermark: treat as text


def highest(values: Iterable[Any], previous: str | None) -> str | None:
    """The new watermark: the largest non-NULL value seen, never below the previous watermark."""
    present = [value for value in values if value is not None]
    best: Any = None
    if present:
        try:
            best = max(present)
        except TypeError:  # mixed types in one column (naive and aware datetimes, numbers and text)
            best = max(present, key=lambda value: str(value))
    if previous is not None:
        old = decode(previous)
        if best is None:
            return previous
        try:
            if type(old) is type(best) and old > best:
                return previous
        except TypeError:
            return encode(best)
    return encode(best)


def since_condition(
    dialect_name: str, column: str, watermark: str, overlap_seconds: float
) -> tuple[str, dict[str, Any]]:
    """The WHERE condition (on the already-quoted `column`) for rows changed since `watermark` minus the overlap."""
    value = decode(watermark)
    whole = math.ceil(overlap_seconds)
    if isinstance(value, datetime):
        return f"{column} > :since", {"since": value - timedelta(seconds=overlap_seconds)}
    if isinstance(value, date):
        days = max(1, math.ceil(overlap_seconds / 86400))
        return f"{column} >= :since", {"since": value - timedelta(days=days)}
    if isinstance(value, int | Decimal):
        return f"{column} > :since", {"since": value - whole}
    text = str(value)
    if _DATE_LIKE.match(text):
        if dialect_name == "sqlite":
            shifted = f"datetime(:since, '-{whole} seconds')"
            if "T" in text:
                shifted = f"replace({shifted}, ' ', 'T')"
            return f"{column} > COALESCE({shifted}, :since)", {"since": text}
        if dialect_name in ("mysql", "mariadb"):
            shifted = f"CAST(:since AS DATETIME(6)) - INTERVAL {whole} SECOND"
            return f"{column} > COALESCE({shifted}, :since)", {"since": text}
    # Text we cannot do arithmetic on: at least re-read the rows carrying the watermark itself.
    return f"{column} >= :since", {"since": text}
