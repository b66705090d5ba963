"""How the ledger stores values: orjson payload text, tz-aware UTC timestamps, and the command statuses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from engine.ports import NewEvent

# The migrated CHECK on commands.status lists these too: change both together (tests/ledger/test_migrations.py).
COMMAND_STATUSES = ("pending", "held", "sent", "done", "failed", "dead")
DUE_STATUSES = ("pending", "failed")


def dump_json(value: Mapping[str, Any]) -> str:
    """The payload as JSON text; raises TypeError for anything orjson cannot encode (Decimal, sets...)."""
    return orjson.dumps(value).decode()


def load_json(text: str) -> dict[str, Any]:
    value = orjson.loads(text)
    if not isinstance(value, dict):
        raise TypeError(f"ledger JSON is a {type(value).__name__}, expected an object")
    return value


def utc(value: datetime) -> datetime:
    """`value` in UTC; a naive datetime is refused rather than guessed."""
    if value.tzinfo is UTC:
        return value
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()} given to the ledger; use a timezone-aware UTC time")
    return value.astimezone(UTC)


def check_status(status: str) -> str:
    if status not in COMMAND_STATUSES:
        raise ValueError(f"command status {status!r} is not one of {', '.join(COMMAND_STATUSES)}")
    return status


def unique_events(events: Sequence[NewEvent]) -> list[NewEvent]:
    """The events in order, each (stream, source_key) kept at its first occurrence only."""
    seen: set[tuple[str, str]] = set()
    kept = []
    for event in events:
        key = (event.stream, event.source_key)
        if key not in seen:
            seen.add(key)
            kept.append(event)
    return kept
