"""Conversions between ledger rows and the port's value types (NewEvent, StoredEvent, CommandRecord)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Row

from adapters.ledger.values import check_status, dump_json, load_json, utc
from engine.ports import CommandRecord, CursorState, NewEvent, StoredEvent


def event_row(event: NewEvent, recorded_at: datetime) -> dict[str, Any]:
    return {
        "stream": event.stream,
        "source_key": event.source_key,
        "type": event.type,
        "version": event.version,
        "entity": event.entity,
        "payload": dump_json(event.payload),
        "occurred_at": utc(event.occurred_at),
        "recorded_at": recorded_at,
    }


def stored_event(row: Row[Any] | dict[str, Any]) -> StoredEvent:
    """A StoredEvent from a row of `events` (or an `event_row` dict with its seq)."""
    values = row if isinstance(row, dict) else row._mapping
    return StoredEvent(
        seq=values["seq"],
        stream=values["stream"],
        source_key=values["source_key"],
        type=values["type"],
        version=values["version"],
        entity=values["entity"],
        payload=load_json(values["payload"]),
        occurred_at=values["occurred_at"],
        recorded_at=values["recorded_at"],
    )


def inserted_event(event: NewEvent, seq: int, recorded_at: datetime) -> StoredEvent:
    """The StoredEvent of a NewEvent just inserted as `event_row(event, recorded_at)`, with the payload given
    (equal to what a read returns, without decoding a copy of it)."""
    return StoredEvent(
        seq=seq,
        stream=event.stream,
        source_key=event.source_key,
        type=event.type,
        version=event.version,
        entity=event.entity,
        payload=event.payload,
        occurred_at=utc(event.occurred_at),
        recorded_at=recorded_at,
    )


def command_row(command: CommandRecord, now: datetime) -> dict[str, Any]:
    return {
        "id": command.id,
        "kind": command.kind,
        "target": command.target,
        "payload": dump_json(command.payload),
        "reason": command.reason,
        "caused_by": command.caused_by,
        "status": check_status(command.status),
        "attempts": command.attempts,
        "next_attempt_at": None if command.next_attempt_at is None else utc(command.next_attempt_at),
        "last_error": command.last_error,
        "batch": command.batch,
        "created_at": now if command.created_at is None else utc(command.created_at),
        "updated_at": now,
    }


def outcome_update(
    *, status: str, attempts: int, next_attempt_at: datetime | None, last_error: str | None
) -> dict[str, Any]:
    """The columns `record_outcome` sets."""
    return {
        "status": check_status(status),
        "attempts": attempts,
        "next_attempt_at": None if next_attempt_at is None else utc(next_attempt_at),
        "last_error": last_error,
    }


def operator_update(status: str, note: str | None) -> dict[str, Any]:
    """The columns `set_command_status` sets: due at once, attempts kept, `note` replacing `last_error` if given."""
    values: dict[str, Any] = {"status": check_status(status), "next_attempt_at": None}
    if note is not None:
        values["last_error"] = note
    return values


def command_record(row: Row[Any] | dict[str, Any]) -> CommandRecord:
    values = row if isinstance(row, dict) else row._mapping
    return CommandRecord(
        id=values["id"],
        kind=values["kind"],
        target=values["target"],
        payload=load_json(values["payload"]),
        reason=values["reason"],
        caused_by=values["caused_by"],
        status=values["status"],
        attempts=values["attempts"],
        next_attempt_at=values["next_attempt_at"],
        last_error=values["last_error"],
        batch=values["batch"],
        created_at=values["created_at"],
        updated_at=values["updated_at"],
    )


def cursor_state(row: Row[Any]) -> CursorState:
    return CursorState(name=row.name, position=row.position, updated_at=row.updated_at)
