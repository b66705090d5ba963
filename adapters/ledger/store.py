"""SqlLedger: the Ledger port over SQLAlchemy Core (SQLite or PostgreSQL), one transaction per call."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import islice
from types import TracebackType
from typing import Any, TypeVar

from sqlalchemy import bindparam, delete, func, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from adapters.ledger import records
from adapters.ledger.connect import WRITE, create_ledger_engine, driver_reason, redact
from adapters.ledger.schema import check_at_head
from adapters.ledger.snapshots import Snapshots
from adapters.ledger.statements import insert_ignoring, upsert
from adapters.ledger.tables import commands as outbox
from adapters.ledger.tables import cursors, events, projection, projection_meta
from adapters.ledger.values import DUE_STATUSES, dump_json, load_json, unique_events, utc
from engine.errors import RetryLater, SkipItem
from engine.ports import (
    Clock,
    CommandRecord,
    CursorState,
    NewEvent,
    ProjectionChanges,
    ProjectionItem,
    StoredEvent,
)

PAGE = 1000
T = TypeVar("T")


def _chunks(items: list[str], size: int = PAGE) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def open_ledger(url: str, *, clock: Clock | None = None) -> SqlLedger:
    """The ledger at `url`, which must be at the newest migration (StopEngine says to upgrade otherwise).

    Creates no tables: `upgrade(url)` (`allegro-sync db upgrade`) does. Close the ledger when done.
    """
    engine = create_ledger_engine(url)
    try:
        check_at_head(engine)
    except BaseException:
        engine.dispose()
        raise
    return SqlLedger(engine, clock=clock)


class SqlLedger(Snapshots):
    """The ledger in a SQL database whose schema `upgrade` created; see `engine.ports.Ledger`.

    `until_seq` is inclusive. A database that is busy or unreachable raises `RetryLater`.
    """

    def __init__(self, engine: Engine, *, clock: Clock | None = None) -> None:
        self.engine = engine
        self._clock = clock

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> SqlLedger:
        return self

    def __exit__(self, *_exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    # -------------------------------------------------------------------------------------------- events

    def append(self, events: Sequence[NewEvent], *, cursor: tuple[str, str | None] | None = None) -> list[StoredEvent]:
        now = self._now()
        with self._transaction(write=True) as connection:
            stored = self._insert_events(connection, events, now)
            if cursor is not None:
                name, position = cursor
                statement = upsert(connection.dialect, cursors, ["name"], ["position", "updated_at"])
                connection.execute(statement, {"name": name, "position": position, "updated_at": now})
        return stored

    def events(self, *, after_seq: int = 0, until_seq: int | None = None) -> Iterator[StoredEvent]:
        # Paged, one short transaction per page: a caller may stop iterating without leaking a connection.
        last = after_seq
        while True:
            query = select(events).where(events.c.seq > last).order_by(events.c.seq).limit(PAGE)
            if until_seq is not None:
                query = query.where(events.c.seq <= until_seq)
            with self._transaction() as connection:
                rows = connection.execute(query).all()
            yield from (records.stored_event(row) for row in rows)
            if len(rows) < PAGE:
                return
            last = rows[-1].seq

    def events_for_entity(self, entity: str) -> list[StoredEvent]:
        query = select(events).where(events.c.entity == entity).order_by(events.c.seq)
        with self._transaction() as connection:
            return [records.stored_event(row) for row in connection.execute(query)]

    def last_seq(self) -> int:
        with self._transaction() as connection:
            return int(connection.execute(select(func.coalesce(func.max(events.c.seq), 0))).scalar_one())

    def count_events(self, stream: str, key_prefix: str, recorded_from: datetime, recorded_until: datetime) -> int:
        """Events of `stream` whose source_key starts with `key_prefix`, recorded in [from, until] (for `status`).

        The prefix is a range on (stream, source_key), so the unique index answers it without a scan.
        """
        upper = key_prefix[:-1] + chr(ord(key_prefix[-1]) + 1)
        query = select(func.count()).where(
            events.c.stream == stream,
            events.c.source_key >= key_prefix,
            events.c.source_key < upper,
            events.c.recorded_at >= utc(recorded_from),
            events.c.recorded_at <= utc(recorded_until),
        )
        with self._transaction() as connection:
            return int(connection.execute(query).scalar_one())

    # -------------------------------------------------------------------------------------------- cursors

    def cursor(self, name: str) -> str | None:
        with self._transaction() as connection:
            row = connection.execute(select(cursors.c.position).where(cursors.c.name == name)).first()
        return None if row is None else row.position

    def cursors(self) -> list[CursorState]:
        with self._transaction() as connection:
            rows = connection.execute(select(cursors).order_by(cursors.c.name)).all()
        return [records.cursor_state(row) for row in rows]

    # -------------------------------------------------------------------------------------------- projection

    def load_projection(self) -> tuple[int, dict[tuple[str, str], dict[str, Any]]]:
        return self.read_projection(dict)

    def read_projection(self, consume: Callable[[Iterator[ProjectionItem]], T]) -> tuple[int, T]:
        # Fetched PAGE rows at a time (a server-side cursor on PostgreSQL) and decoded as `consume` asks.
        query = select(projection).execution_options(yield_per=PAGE)
        with self._transaction() as connection:
            folded = connection.execute(select(projection_meta.c.folded_seq)).scalar()
            with connection.execute(query) as rows:
                consumed = consume(((row.kind, row.key), load_json(row.data)) for row in rows)
        return int(folded or 0), consumed

    def commit_reduction(
        self, *, folded_seq: int, changes: ProjectionChanges, commands: Sequence[CommandRecord]
    ) -> None:
        """Upserts first, then deletes (a key in both ends up deleted), the folded seq, then new commands.

        Upserts are encoded and written PAGE rows at a time, so a reduction that changed every product does
        not hold the JSON text of all of them at once."""
        now = self._now()
        new_commands = [records.command_row(command, now) for command in commands]
        with self._transaction(write=True) as connection:
            dialect = connection.dialect
            replace = upsert(dialect, projection, ["kind", "key"], ["data"])
            rows = iter(changes.upserts.items())
            while page := [
                {"kind": kind, "key": key, "data": dump_json(data)} for (kind, key), data in islice(rows, PAGE)
            ]:
                connection.execute(replace, page)
            if changes.deletes:
                statement = delete(projection).where(
                    projection.c.kind == bindparam("d_kind"), projection.c.key == bindparam("d_key")
                )
                connection.execute(statement, [{"d_kind": k, "d_key": key} for k, key in changes.deletes])
            self._set_folded_seq(connection, folded_seq)
            if new_commands:
                connection.execute(insert_ignoring(dialect, outbox, ["id"]), new_commands)

    def projection_rows_containing(
        self, kinds: Sequence[str], fragments: Sequence[str]
    ) -> dict[tuple[str, str], dict[str, Any]]:
        """Projection rows of `kinds` whose JSON text contains any of `fragments` (e.g. `"problems":["`).

        Lets `status` pick the few rows worth showing without decoding the whole projection; rows are written
        by `dump_json` (compact orjson), so a fragment like `"hold_until":"` matches exactly the set values.
        """
        matches = or_(*(projection.c.data.contains(fragment, autoescape=True) for fragment in fragments))
        query = select(projection).where(projection.c.kind.in_(list(kinds)), matches)
        with self._transaction() as connection:
            return {(row.kind, row.key): load_json(row.data) for row in connection.execute(query)}

    def folded_seq(self) -> int:
        """The seq the projection is folded up to (without loading the projection)."""
        with self._transaction() as connection:
            return int(connection.execute(select(projection_meta.c.folded_seq)).scalar() or 0)

    def reset_projection(self) -> None:
        with self._transaction(write=True) as connection:
            connection.execute(delete(projection))
            self._set_folded_seq(connection, 0)

    # -------------------------------------------------------------------------------------------- outbox

    def commands(self, *, statuses: Sequence[str] | None = None) -> list[CommandRecord]:
        query = select(outbox).order_by(outbox.c.created_at, outbox.c.id)
        if statuses is not None:
            query = query.where(outbox.c.status.in_(list(statuses)))
        with self._transaction() as connection:
            return [records.command_record(row) for row in connection.execute(query)]

    def command(self, command_id: str) -> CommandRecord | None:
        with self._transaction() as connection:
            row = connection.execute(select(outbox).where(outbox.c.id == command_id)).first()
        return None if row is None else records.command_record(row)

    def due_commands(self, now: datetime) -> list[CommandRecord]:
        due = outbox.c.next_attempt_at.is_(None) | (outbox.c.next_attempt_at <= utc(now))
        query = select(outbox).where(outbox.c.status.in_(DUE_STATUSES), due).order_by(outbox.c.created_at, outbox.c.id)
        with self._transaction() as connection:
            return [records.command_record(row) for row in connection.execute(query)]

    def mark_sent(self, command_ids: Sequence[str], *, batch: str | None, attempts_increment: int = 1) -> None:
        """Status `sent`, the batch id and `attempts_increment` more attempts, for every id or none."""
        ids = list(dict.fromkeys(command_ids))
        if not ids:
            return
        now = self._now()
        with self._transaction(write=True) as connection:
            for chunk in _chunks(ids):
                statement = (
                    update(outbox)
                    .where(outbox.c.id.in_(chunk))
                    .values(status="sent", batch=batch, attempts=outbox.c.attempts + attempts_increment, updated_at=now)
                )
                if connection.execute(statement).rowcount != len(chunk):
                    found = set(connection.execute(select(outbox.c.id).where(outbox.c.id.in_(chunk))).scalars())
                    raise SkipItem(f"commands {', '.join(i for i in chunk if i not in found)} are not in the ledger")

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
        """An operator's retry (`pending`) or skip (`dead`): due at once, `note` replaces `last_error` if given.

        Attempts are kept; `events` (the operator event) are appended in the same transaction.
        """
        return self._update_command(command_id, records.operator_update(status, note), events)

    def command_counts_by_kind(self) -> dict[tuple[str, str], int]:
        """How many commands of each (kind, status) there are (for the metrics)."""
        query = select(outbox.c.kind, outbox.c.status, func.count()).group_by(outbox.c.kind, outbox.c.status)
        with self._transaction() as connection:
            return {(kind, status): int(count) for kind, status, count in connection.execute(query)}

    def command_counts(self) -> dict[str, int]:
        """How many commands are in each status (statuses with none are left out)."""
        query = select(outbox.c.status, func.count()).group_by(outbox.c.status)
        with self._transaction() as connection:
            return {status: int(count) for status, count in connection.execute(query)}

    # -------------------------------------------------------------------------------------------- internals

    def _now(self) -> datetime:
        return utc(self._clock.now()) if self._clock is not None else datetime.now(UTC)

    @contextmanager
    def _transaction(self, *, write: bool = False) -> Iterator[Connection]:
        try:
            with self.engine.connect() as connection:
                if write:
                    connection.execution_options(**{WRITE: True})
                with connection.begin():
                    yield connection
        except OperationalError as exc:
            raise RetryLater(f"ledger {redact(self.engine.url)}: {driver_reason(exc)}") from exc

    def _insert_events(self, connection: Connection, new: Sequence[NewEvent], now: datetime) -> list[StoredEvent]:
        """Insert PAGE events per statement, so that the JSON text of a large batch (the initial import of a
        whole warehouse) is never all in memory at once. The events returned carry the payloads given."""
        unique = unique_events(new)
        if not unique:
            return []
        statement = insert_ignoring(connection.dialect, events, ["stream", "source_key"]).returning(
            events.c.seq, events.c.stream, events.c.source_key
        )
        stored: list[StoredEvent] = []
        for start in range(0, len(unique), PAGE):
            chunk = unique[start : start + PAGE]
            rows = [records.event_row(event, now) for event in chunk]
            # Only inserted rows come back; a (stream, source_key) already stored, by us or by a concurrent
            # process, is skipped without an error.
            seqs = {(r.stream, r.source_key): r.seq for r in connection.execute(statement, rows)}
            stored += [
                records.inserted_event(event, seq, now)
                for event in chunk
                if (seq := seqs.get((event.stream, event.source_key))) is not None
            ]
        return stored

    def _update_command(
        self, command_id: str, values: dict[str, Any], new_events: Sequence[NewEvent]
    ) -> list[StoredEvent]:
        now = self._now()
        with self._transaction(write=True) as connection:
            statement = update(outbox).where(outbox.c.id == command_id).values(**values, updated_at=now)
            if connection.execute(statement).rowcount != 1:
                raise SkipItem(f"command {command_id} is not in the ledger; nothing was recorded for it")
            return self._insert_events(connection, new_events, now)

    @staticmethod
    def _set_folded_seq(connection: Connection, folded_seq: int) -> None:
        statement = upsert(connection.dialect, projection_meta, ["id"], ["folded_seq"])
        connection.execute(statement, {"id": 1, "folded_seq": folded_seq})
