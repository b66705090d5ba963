"""Small builders of ledger values for the tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from engine.ports import CommandRecord, NewEvent

WHEN = datetime(2026, 2, 27, 9, 30, 15, 123456, tzinfo=UTC)


def new_event(key: str, *, stream: str = "allegro.orders", entity: str = "cf-1", **changes: Any) -> NewEvent:
    values: dict[str, Any] = {
        "stream": stream,
        "source_key": key,
        "type": "OrderLineBought",
        "version": 1,
        "entity": entity,
        "payload": {"key": key, "quantity": 1},
        "occurred_at": WHEN,
    }
    values.update(changes)
    return NewEvent(**values)


def batch(count: int, *, prefix: str = "e", stream: str = "allegro.orders") -> list[NewEvent]:
    return [new_event(f"{prefix}{i}", stream=stream, entity=f"cf-{i % 7}") for i in range(count)]


def command(command_id: str, *, target: str = "offer-1", **changes: Any) -> CommandRecord:
    values: dict[str, Any] = {
        "id": command_id,
        "kind": "ChangeQuantity",
        "target": target,
        "payload": {"offers": [target], "delta": -1},
        "reason": "stock 7 - 2 reserved - buffer 0 = 5; Allegro shows 6",
        "caused_by": 1,
    }
    values.update(changes)
    return CommandRecord(**values)
