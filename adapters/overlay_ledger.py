"""OverlayLedger: reads a real ledger and keeps every write in memory, for `allegro-sync sync --dry-run`.

A dry run ingests and reduces exactly like a real cycle, so it sees what a real cycle would decide, but
nothing it appends, no cursor it moves and no command it plans ever reaches the real ledger.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from engine.ports import (
    CommandRecord,
    CursorState,
    Ledger,
    NewEvent,
    ProjectionChanges,
    ProjectionItem,
    StoredEvent,
)

T = TypeVar("T")


class OverlayLedger:
    def __init__(self, base: Ledger) -> None:
        self.base = base
        self.added: list[StoredEvent] = []
        self.moved: dict[str, str | None] = {}
        self.planned: dict[str, CommandRecord] = {}
        self._folded: int | None = None

    def append(self, events: Sequence[NewEvent], *, cursor: tuple[str, str | None] | None = None) -> list[StoredEvent]:
        now = datetime.now(UTC)
        seen = {(e.stream, e.source_key) for e in self.added}
        stored = []
        for event in events:
            if (event.stream, event.source_key) in seen:
                continue
            seen.add((event.stream, event.source_key))
            stored.append(StoredEvent(seq=self.last_seq() + 1, recorded_at=now, **_fields(event)))
            self.added.append(stored[-1])
        if cursor is not None:
            self.moved[cursor[0]] = cursor[1]
        return stored

    def events(self, *, after_seq: int = 0, until_seq: int | None = None) -> Iterator[StoredEvent]:
        yield from self.base.events(after_seq=after_seq, until_seq=until_seq)
        for event in self.added:
            if event.seq > after_seq and (until_seq is None or event.seq <= until_seq):
                yield event

    def events_for_entity(self, entity: str) -> list[StoredEvent]:
        return self.base.events_for_entity(entity) + [e for e in self.added if e.entity == entity]

    def last_seq(self) -> int:
        return self.added[-1].seq if self.added else self.base.last_seq()

    def cursor(self, name: str) -> str | None:
        return self.moved[name] if name in self.moved else self.base.cursor(name)

    def cursors(self) -> list[CursorState]:
        now = datetime.now(UTC)
        found = {c.name: c for c in self.base.cursors()}
        found |= {name: CursorState(name=name, position=pos, updated_at=now) for name, pos in self.moved.items()}
        return list(found.values())

    def load_projection(self) -> tuple[int, dict[tuple[str, str], dict[str, Any]]]:
        return self.base.load_projection()

    def read_projection(self, consume: Callable[[Iterator[ProjectionItem]], T]) -> tuple[int, T]:
        return self.base.read_projection(consume)

    def commit_reduction(
        self, *, folded_seq: int, changes: ProjectionChanges, commands: Sequence[CommandRecord]
    ) -> None:
        self._folded = folded_seq
        for command in commands:
            self.planned.setdefault(command.id, command)

    def reset_projection(self) -> None:
        raise NotImplementedError("a dry run never rebuilds the projection")

    def commands(self, *, statuses: Sequence[str] | None = None) -> list[CommandRecord]:
        merged = {c.id: c for c in self.base.commands(statuses=statuses)}
        merged |= {i: c for i, c in self.planned.items() if statuses is None or c.status in statuses}
        return list(merged.values())

    def command(self, command_id: str) -> CommandRecord | None:
        return self.planned.get(command_id) or self.base.command(command_id)

    def due_commands(self, now: datetime) -> list[CommandRecord]:
        return self.base.due_commands(now) + [c for c in self.planned.values() if c.status == "pending"]

    def mark_sent(self, command_ids: Sequence[str], *, batch: str | None, attempts_increment: int = 1) -> None:
        raise NotImplementedError("a dry run sends nothing")

    def record_outcome(self, command_id: str, **_: Any) -> list[StoredEvent]:
        raise NotImplementedError("a dry run sends nothing")


def _fields(event: NewEvent) -> dict[str, Any]:
    return {
        "stream": event.stream,
        "source_key": event.source_key,
        "type": event.type,
        "version": event.version,
        "entity": event.entity,
        "payload": event.payload,
        "occurred_at": event.occurred_at,
    }
