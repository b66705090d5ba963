"""Ledger housekeeping: idle cycles add no rows; `db compact` archives old events and replay stays exact."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select, text

from adapters.ledger import open_ledger
from adapters.ledger.tables import commands, cursors, events, projection, snapshot
from engine.compact import ARCHIVE_FIELDS, CompactionRefused, compact, read_archive, verify_ledger
from engine.timeline import timeline
from tests.audit.conftest import World, cli

pytestmark = pytest.mark.anyio

FUTURE = datetime(2100, 1, 1, tzinfo=UTC)


def _row_counts(url: str) -> dict[str, Any]:
    with open_ledger(url) as ledger, ledger.engine.connect() as connection:
        counts: dict[str, Any] = {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (events, commands, projection, snapshot, cursors)
        }
        counts["cursor positions"] = dict(connection.execute(select(cursors.c.name, cursors.c.position)).all())
    return counts


async def test_idle_cycles_add_no_rows_to_the_ledger(world: World) -> None:
    url = world.settings.engine.state_url.reveal()
    before = _row_counts(url)
    async with world.context() as ctx:
        from engine.cycle import run_once

        for _ in range(2):
            report = await run_once(ctx)
            assert (dict(report.events_in), dict(report.commands_out), report.errors) == ({}, {}, [])
    after = _row_counts(url)
    moving = {"allegro.sweep", "allegro.reconcile"}  # positions that are times: they move, no row is added
    for counts in (before, after):
        counts["cursor positions"] = {k: v for k, v in counts["cursor positions"].items() if k not in moving}
    assert after == before
    assert before["events"] > 30 and before["commands"] > 10


def _decisions(ledger: Any, product: str) -> list[tuple[int, str, str]]:
    return [(e.seq, e.what, e.detail) for e in timeline(ledger, product_id=product) if e.kind == "decided"]


async def _compact_and_verify(world: World) -> None:
    url = world.settings.engine.state_url.reveal()
    archive = world.folder / "archive.jsonl"
    with open_ledger(url) as ledger:
        head = ledger.last_seq()
        product = world.trade["cancelled"]
        decided_before = _decisions(ledger, product)
        assert any(what.startswith("verify_offer ") for _, what, _ in decided_before)  # found through its offer
        done = compact(ledger, before=FUTURE, archive=archive, now=datetime.now(UTC))
        assert (done.previous_seq, done.cut_seq, done.archived) == (0, head - 1, head - 1)
        assert ledger.snapshot_seq() == head - 1 and [e.seq for e in ledger.events()] == [head]
        assert verify_ledger(ledger) == []
        # the outbox is kept whole, and the snapshot still links the product to its offer and orders
        assert _decisions(ledger, product) == decided_before
    lines = archive.read_bytes().splitlines()
    assert len(lines) == head - 1
    first = orjson.loads(lines[0])
    assert tuple(first) == ARCHIVE_FIELDS and first["seq"] == 1 and isinstance(first["payload"], dict)
    assert [r["seq"] for r in read_archive(archive)] == list(range(1, head))

    # More trade after the cut, then a second compaction builds its snapshot on the first one.
    async with world.context() as ctx:
        await world.buy(str(world.trade["sold_offer"]), 1)
        await world.cycles_until_quiet(ctx)
    with open_ledger(url) as ledger:
        assert verify_ledger(ledger) == []
        head2 = ledger.last_seq()
        again = compact(ledger, before=FUTURE, archive=archive, now=datetime.now(UTC))
        assert (again.previous_seq, again.cut_seq) == (head - 1, head2 - 1)
        assert verify_ledger(ledger) == []
    assert [r["seq"] for r in read_archive(archive)] == list(range(1, head2))
    code, out, err = cli(world.config, "replay", "--verify")
    assert (code, err) == (0, ""), out


async def test_compaction_keeps_replay_exact_on_sqlite(world: World) -> None:
    await _compact_and_verify(world)


@pytest.mark.postgres
async def test_compaction_keeps_replay_exact_on_postgres(
    pg_schema_url: str, world_factory: Callable[[str | None], Any]
) -> None:
    async for world in world_factory(pg_schema_url):
        await _compact_and_verify(world)


async def test_db_compact_through_the_cli_then_verify_status_and_timeline(world: World) -> None:
    config = world.config
    code, _, err = cli(config, "db", "compact", "--before", datetime.now(UTC).date().isoformat())
    assert code == 2 and "within the order journal's 60-day retention" in err and "--allow-recent" in err

    old = (datetime.now(UTC) - timedelta(days=90)).date().isoformat()
    code, out, _ = cli(config, "db", "compact", "--before", old)
    assert code == 0 and out.startswith("nothing to compact before")

    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    archive = world.folder / "old-events.jsonl"
    code, out, err = cli(config, "db", "compact", "--before", tomorrow, "--allow-recent", "--archive", str(archive))
    assert (code, err) == (0, ""), out
    assert out.startswith("archived ") and f"to {archive}; snapshot of " in out
    assert cli(config, "replay", "--verify")[0] == 0
    code, out, _ = cli(config, "status", "--json")
    status = orjson.loads(out)
    assert status["compaction"]["snapshot_seq"] == status["ledger"]["head_seq"] - 1
    code, out, _ = cli(config, "replay", "--product", world.trade["cancelled"], "--until", "3")
    assert code == 1 and "archived by `db compact`" in out + _


async def test_compaction_refuses_a_ledger_whose_projection_does_not_replay(world: World) -> None:
    url = world.settings.engine.state_url.reveal()
    with open_ledger(url) as ledger:
        with ledger.engine.begin() as connection:
            connection.execute(
                text("UPDATE projection SET data = REPLACE(data, :old, :new) WHERE kind = 'product'"),
                {"old": '"pending":0', "new": '"pending":7'},
            )
        head = ledger.last_seq()
        with pytest.raises(CompactionRefused, match="does not match a replay"):
            compact(ledger, before=FUTURE, archive=world.folder / "a.jsonl", now=datetime.now(UTC))
        assert ledger.last_seq() == head and ledger.snapshot_seq() == 0 and len(list(ledger.events())) == head
