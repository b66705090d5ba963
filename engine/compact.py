"""Ledger housekeeping: archive old events to a JSON-lines file, keep a projection snapshot at the cut.

`compact(ledger, before, archive)` picks the cut (the last seq of the longest prefix of the ledger recorded
before `before`, never the newest event, never past what the projection has folded), replays from the
previous snapshot to the cut, appends the events up to the cut to the archive (one orjson object per line:
seq, stream, source_key, type, version, entity, payload, occurred_at, recorded_at), checks that replaying on
to the head still gives the stored projection, and only then stores the new snapshot and deletes the archived
events, in one ledger transaction. A replay (`replay --verify`, timelines) starts from the snapshot.

The outbox is kept whole: a command caused by an archived event stays (its `caused_by` still names the
archived seq, found in the archive); `verify` compares only the commands caused after the cut.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from engine.errors import SyncError
from engine.ports import Ledger, StoredEvent
from engine.replay import Rebuilt, differences, rebuild
from engine.state import all_rows, from_rows

ARCHIVE_FIELDS = ("seq", "stream", "source_key", "type", "version", "entity", "payload", "occurred_at", "recorded_at")


class CompactionRefused(SyncError):
    """Compacting now would lose something or could not be checked; nothing was changed."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Compaction:
    previous_seq: int
    """The cut of the snapshot this compaction replaced (0 if none)."""
    cut_seq: int
    archived: int
    archive: Path | None
    snapshot_rows: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "previous_seq": self.previous_seq,
            "cut_seq": self.cut_seq,
            "archived": self.archived,
            "archive": str(self.archive) if self.archive else None,
            "snapshot_rows": self.snapshot_rows,
        }


# ------------------------------------------------------------------------------------------------ replay base


def snapshot_of(ledger: Ledger) -> tuple[int, dict[tuple[str, str], dict[str, Any]]]:
    """The ledger's compaction cut and projection rows there; (0, {}) for a ledger never compacted."""
    load = getattr(ledger, "load_snapshot", None)
    if not callable(load):
        return 0, {}
    seq, rows = load()
    return int(seq), dict(rows)


def rebuild_from_snapshot(ledger: Ledger, *, until_seq: int | None = None) -> tuple[Rebuilt, int]:
    """Replay the ledger as `replay --verify` does: from the snapshot (if any) through the remaining events.

    Returns the result and the cut it started from. Raises CompactionRefused for an `until_seq` before the cut.
    """
    cut, rows = snapshot_of(ledger)
    if until_seq is not None and until_seq < cut:
        raise CompactionRefused(
            f"events up to {cut} were archived by `db compact`; replay from the archive to look before it"
        )
    start = from_rows(rows) if cut else None
    return rebuild(ledger.events(after_seq=cut, until_seq=until_seq), start=start, start_seq=cut), cut


def verify_ledger(ledger: Ledger) -> list[str]:
    """Every difference between the stored projection and outbox and a replay from the snapshot or zero."""
    rebuilt, cut = rebuild_from_snapshot(ledger)
    folded, rows = ledger.load_projection()
    if folded != rebuilt.last_seq:
        rebuilt, cut = rebuild_from_snapshot(ledger, until_seq=folded)
    return differences(rebuilt, rows, [c for c in ledger.commands() if c.caused_by > cut])


# ------------------------------------------------------------------------------------------------ compaction


def compact(ledger: Ledger, *, before: datetime, archive: Path | None, now: datetime) -> Compaction:
    """Archive and delete the events recorded before `before`, keeping replay exact (see the module doc)."""
    store: Any = ledger
    if not all(callable(getattr(store, name, None)) for name in ("compact", "last_seq_before", "folded_seq")):
        raise CompactionRefused(f"{type(ledger).__name__} cannot be compacted; only the SQL ledger can")
    previous, base = snapshot_of(ledger)
    head = ledger.last_seq()
    folded = int(store.folded_seq())
    cut = min(int(store.last_seq_before(before)), folded, head - 1)
    if cut <= previous:
        return Compaction(previous_seq=previous, cut_seq=previous, archived=0, archive=None, snapshot_rows=0)

    at_cut = rebuild(
        _archived(ledger.events(after_seq=previous, until_seq=cut), archive, cut),
        start=from_rows(base) if previous else None,
        start_seq=previous,
    )
    if at_cut.unreadable:
        raise CompactionRefused(f"cannot snapshot over unreadable events: {'; '.join(at_cut.unreadable[:3])}")
    snapshot = all_rows(at_cut.state)
    # Replay on to what the projection has folded and compare: a snapshot is only worth keeping if it replays.
    to_head = rebuild(ledger.events(after_seq=cut, until_seq=folded), start=from_rows(snapshot), start_seq=cut)
    _, stored = ledger.load_projection()
    found = differences(to_head, stored, [c for c in ledger.commands() if c.caused_by > cut])
    if found:
        raise CompactionRefused(
            f"the projection does not match a replay ({len(found)} difference(s), first: {found[0]}); "
            "run `allegro-sync replay --verify` and fix that before compacting; the ledger was not changed"
        )
    deleted = int(store.compact(cut_seq=cut, rows=snapshot, taken_at=now))
    return Compaction(
        previous_seq=previous, cut_seq=cut, archived=deleted, archive=archive, snapshot_rows=len(snapshot)
    )


def _archived(events: Iterable[StoredEvent], archive: Path | None, cut: int) -> Iterator[StoredEvent]:
    """Pass the events through, appending each to `archive` first; the file is flushed to disk at the end.

    Appending to an existing archive is safe: a compaction that failed after writing leaves lines that the
    next attempt writes again, and readers keep the last line of each seq.
    """
    if archive is None:
        yield from events
        return
    archive.parent.mkdir(parents=True, exist_ok=True)
    with archive.open("ab") as handle:
        for event in events:
            handle.write(archive_line(event))
            yield event
        _sync(handle)


def archive_line(event: StoredEvent) -> bytes:
    record = {name: getattr(event, name) for name in ARCHIVE_FIELDS}
    return orjson.dumps(record, option=orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS) + b"\n"


def read_archive(path: Path) -> list[dict[str, Any]]:
    """The archived events of a file, one per seq (the last line wins), in seq order."""
    by_seq: dict[int, dict[str, Any]] = {}
    with path.open("rb") as handle:
        for line in handle:
            if line.strip():
                record = orjson.loads(line)
                by_seq[int(record["seq"])] = record
    return [by_seq[seq] for seq in sorted(by_seq)]


def _sync(handle: BinaryIO) -> None:
    handle.flush()
    os.fsync(handle.fileno())
