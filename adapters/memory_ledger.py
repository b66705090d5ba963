"""MemoryLedger: the Ledger port in memory, for engine tests and `--dry-run`; same contract as SqlLedger."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from adapters.ledger import records
from adapters.ledger.values import DUE_STATUSES, dump_json, load_json, unique_events, utc
from engine.errors import SkipItem
from engine.ports import (
    Clock,
    CommandRecord,
    CursorState,
    NewEvent,
    ProjectionChanges,
    ProjectionItem,
    StoredEvent,
)

T = TypeVar("T")


class MemoryLedger:
    """Rows are kept as the SQL ledger stores them (payloads as JSON text), so values read back are the
    same as from SQLite or PostgreSQL. Each call stages its changes and applies them only once nothing
    can fail any more: a failing call changes nothing, like a rolled-back transaction.
    """

    def __init__(self, *, clock: Clock | None = None) -> None:
        self._clock = clock
        self._lock = threading.RLock()
        self._events: list[dict[str, Any]] = []  # index = seq - 1
        self._keys: set[tuple[str, str]] = set()
        self._cursors: dict[str, tuple[str | None, datetime]] = {}
        self._commands: dict[str, dict[str, Any]] = {}
        self._projection: dict[tuple[str, str], str] = {}
        self._folded_seq = 0

    def close(self) -> None:
        """Nothing to release; present so that callers can treat every ledger alike."""

    # -------------------------------------------------------------------------------------------- events

    def append(self, events: Sequence[NewEvent], *, cursor: tuple[str, str | None] | None = None) -> list[StoredEvent]:
        now = self._now()
        with self._lock:
            rows = self._new_event_rows(events, now)
            if cursor is not None:
                name, position = cursor
                self._cursors[name] = (position, now)
            return self._store_events(rows)

    def events(self, *, after_seq: int = 0, until_seq: int | None = None) -> Iterator[StoredEvent]:
        with self._lock:
            end = len(self._events) if until_seq is None else max(0, min(until_seq, len(self._events)))
            rows = self._events[max(0, after_seq) : end]
        return (records.stored_event(row) for row in rows)

    def events_for_entity(self, entity: str) -> list[StoredEvent]:
        with self._lock:
            return [records.stored_event(row) for row in self._events if row["entity"] == entity]

    def last_seq(self) -> int:
        return len(self._events)

    # -------------------------------------------------------------------------------------------- cursors

    def cursor(self, name: str) -> str | None:
        with self._lock:
            return self._cursors.get(name, (None, None))[0]

    def cursors(self) -> list[CursorState]:
        with self._lock:
            return [
                CursorState(name=name, position=position, updated_at=at)
                for name, (position, at) in sorted(self._cursors.items())
            ]

    # -------------------------------------------------------------------------------------------- projection

    def load_projection(self) -> tuple[int, dict[tuple[str, str], dict[str, Any]]]:
        return self.read_projection(dict)

    def read_projection(self, consume: Callable[[Iterator[ProjectionItem]], T]) -> tuple[int, T]:
        with self._lock:
            return self._folded_seq, consume((key, load_json(data)) for key, data in self._projection.items())

    def commit_reduction(
        self, *, folded_seq: int, changes: ProjectionChanges, commands: Sequence[CommandRecord]
    ) -> None:
        """Upserts first, then deletes (a key in both ends up deleted), the folded seq, then new commands."""
        now = self._now()
        upserts = {key: dump_json(data) for key, data in changes.upserts.items()}
        new_commands = [records.command_row(command, now) for command in commands]
        with self._lock:
            fresh: dict[str, dict[str, Any]] = {}
            for row in new_commands:
                if row["id"] not in self._commands:
                    fresh.setdefault(row["id"], row)
            self._commands.update(fresh)  # the only step left that could fail, so it goes first
            self._projection.update(upserts)
            for key in changes.deletes:
                self._projection.pop(key, None)
            self._folded_seq = folded_seq

    def reset_projection(self) -> None:
        with self._lock:
            self._projection.clear()
            self._folded_seq = 0

    # -------------------------------------------------------------------------------------------- outbox

    def commands(self, *, statuses: Sequence[str] | None = None) -> list[CommandRecord]:
        with self._lock:
            rows = [row for row in self._commands.values() if statuses is None or row["status"] in statuses]
        return [records.command_record(row) for row in sorted(rows, key=_command_order)]

    def command(self, command_id: str) -> CommandRecord | None:
        with self._lock:
            row = self._commands.get(command_id)
            return None if row is None else records.command_record(row)

    def due_commands(self, now: datetime) -> list[CommandRecord]:
        now = utc(now)
        with self._lock:
            rows = [
                row
                for row in self._commands.values()
                if row["status"] in DUE_STATUSES and (row["next_attempt_at"] is None or row["next_attempt_at"] <= now)
            ]
        return [records.command_record(row) for row in sorted(rows, key=_command_order)]

    def mark_sent(self, command_ids: Sequence[str], *, batch: str | None, attempts_increment: int = 1) -> None:
        """Status `sent`, the batch id and `attempts_increment` more attempts, for every id or none."""
        now = self._now()
        with self._lock:
            missing = [i for i in dict.fromkeys(command_ids) if i not in self._commands]
            if missing:
                raise SkipItem(f"commands {', '.join(missing)} are not in the ledger")
            for command_id in dict.fromkeys(command_ids):
                row = self._commands[command_id]
                attempts = row["attempts"] + attempts_increment
                row.update(status="sent", batch=batch, attempts=attempts, updated_at=now)

    def record_outcome(
        self,
        command_id: str,
        *,
        status: str,
        attempts: int,
        next_attempt_at: datetime | None,
        last_error: str | None,
        events: Sequence[NewEvent] = (),
    ) -> list[StoredEvent]:
        values = records.outcome_update(
            status=status, attempts=attempts, next_attempt_at=next_attempt_at, last_error=last_error
        )
        return self._update_command(command_id, values, events)

    def set_command_status(
        self, command_id: str, status: str, *, note: str | None = None, events: Sequence[NewEvent] = ()
    ) -> list[StoredEvent]:
        """An operator's retry (`pending`) or skip (`dead`): due at once, `note` replaces `last_error` if given."""
        return self._update_command(command_id, records.operator_update(status, note), events)

    def command_counts(self) -> dict[str, int]:
        """How many commands are in each status (statuses with none are left out)."""
        counts: dict[str, int] = {}
        with self._lock:
            for row in self._commands.values():
                counts[row["status"]] = counts.get(row["status"], 0) + 1
        return counts

    # -------------------------------------------------------------------------------------------- internals

    def _now(self) -> datetime:
        return utc(self._clock.now()) if self._clock is not None else datetime.now(UTC)

    def _new_event_rows(self, events: Sequence[NewEvent], now: datetime) -> list[dict[str, Any]]:
        return [
            records.event_row(event, now)
            for event in unique_events(events)
            if (event.stream, event.source_key) not in self._keys
        ]

    def _store_events(self, rows: list[dict[str, Any]]) -> list[StoredEvent]:
        stored = []
        for row in rows:
            row["seq"] = len(self._events) + 1
            self._events.append(row)
            self._keys.add((row["stream"], row["source_key"]))
            stored.append(records.stored_event(row))
        return stored

    def _update_command(self, command_id: str, values: dict[str, Any], events: Sequence[NewEvent]) -> list[StoredEvent]:
        now = self._now()
        with self._lock:
            row = self._commands.get(command_id)
            if row is None:
                raise SkipItem(f"command {command_id} is not in the ledger; nothing was recorded for it")
            rows = self._new_event_rows(events, now)
            row.update(values, updated_at=now)
            return self._store_events(rows)


def _command_order(row: dict[str, Any]) -> tuple[datetime, str]:
    return row["created_at"], row["id"]
