"""The compaction side of the SQL ledger: the projection snapshot at the cut and deleting archived events."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Connection

from adapters.ledger.statements import upsert
from adapters.ledger.tables import events, projection_meta, snapshot, snapshot_meta
from adapters.ledger.values import dump_json, load_json, utc
from engine.errors import SkipItem

PAGE = 1000


class Snapshots:
    """Mixed into SqlLedger (which provides `_transaction`); used by `engine.compact` and `status`."""

    def _transaction(self, *, write: bool = False) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    def snapshot_seq(self) -> int:
        """The last seq archived by `db compact` (0 if the ledger was never compacted)."""
        with self._transaction() as connection:
            return int(connection.execute(select(snapshot_meta.c.seq)).scalar() or 0)

    def load_snapshot(self) -> tuple[int, dict[tuple[str, str], dict[str, Any]]]:
        """The compaction cut and the projection rows as they were there ((0, {}) if never compacted)."""
        with self._transaction() as connection:
            seq = connection.execute(select(snapshot_meta.c.seq)).scalar()
            rows = connection.execute(select(snapshot)).all() if seq else []
        return int(seq or 0), {(row.kind, row.key): load_json(row.data) for row in rows}

    def last_seq_before(self, recorded_before: datetime) -> int:
        """The end of the longest prefix of the ledger recorded before `recorded_before`."""
        first_after = select(func.min(events.c.seq)).where(events.c.recorded_at >= utc(recorded_before))
        with self._transaction() as connection:
            found = connection.execute(first_after).scalar()
            if found is None:
                return int(connection.execute(select(func.coalesce(func.max(events.c.seq), 0))).scalar_one())
        return int(found) - 1

    def compact(self, *, cut_seq: int, rows: dict[tuple[str, str], dict[str, Any]], taken_at: datetime) -> int:
        """Replace the snapshot with `rows` (the projection at `cut_seq`) and delete the events up to `cut_seq`,
        in one transaction; returns how many events were deleted.

        The newest event is never deleted (SQLite would reuse its seq), nor anything the projection has not
        folded yet: the caller checks both, and this refuses them again.
        """
        data = [{"kind": kind, "key": key, "data": dump_json(value)} for (kind, key), value in rows.items()]
        with self._transaction(write=True) as connection:
            head = int(connection.execute(select(func.coalesce(func.max(events.c.seq), 0))).scalar_one())
            folded = int(connection.execute(select(projection_meta.c.folded_seq)).scalar() or 0)
            if cut_seq >= head or cut_seq > folded:
                raise SkipItem(
                    f"compaction up to {cut_seq}: must stay below the head {head} and within folded {folded}"
                )
            connection.execute(delete(snapshot))
            for start in range(0, len(data), PAGE):
                connection.execute(snapshot.insert(), data[start : start + PAGE])
            statement = upsert(connection.dialect, snapshot_meta, ["id"], ["seq", "taken_at"])
            connection.execute(statement, {"id": 1, "seq": cut_seq, "taken_at": utc(taken_at)})
            deleted = connection.execute(delete(events).where(events.c.seq <= cut_seq)).rowcount
        return int(deleted)
