"""SQL-only behaviour: SQLite pragmas, concurrent appends from two connections, bulk append speed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import BigInteger, inspect, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import URL

from adapters.ledger import SqlLedger, open_ledger, upgrade
from adapters.ledger.connect import BUSY_TIMEOUT_MS
from engine.ports import NewEvent

from .builders import batch


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def sql_url(request: pytest.FixtureRequest) -> str:
    """A migrated ledger of its own: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        url: str = request.getfixturevalue("sqlite_url")
        return url
    new_schema: Callable[[], URL] = request.getfixturevalue("pg_schemas")
    pg_url = new_schema().render_as_string(hide_password=False)
    upgrade(pg_url)
    return pg_url


@pytest.fixture
def two_ledgers(sql_url: str) -> Iterator[tuple[SqlLedger, SqlLedger]]:
    first, second = open_ledger(sql_url), open_ledger(sql_url)
    yield first, second
    first.close()
    second.close()


def test_sqlite_ledger_runs_in_wal_mode_with_normal_sync_and_a_busy_timeout(sqlite_url: str) -> None:
    with open_ledger(sqlite_url) as ledger, ledger.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == BUSY_TIMEOUT_MS


def _append_at_once(ledgers: tuple[SqlLedger, SqlLedger], events: list[NewEvent], position: str) -> list[str]:
    """Both ledgers append the same batch at the same moment; the source keys each one inserted, together."""
    start = threading.Barrier(len(ledgers))

    def append(ledger: SqlLedger) -> list[str]:
        start.wait()
        return [e.source_key for e in ledger.append(events, cursor=("allegro.orders", position))]

    with ThreadPoolExecutor(max_workers=len(ledgers)) as pool:
        futures = [pool.submit(append, ledger) for ledger in ledgers]
        return [key for future in futures for key in future.result()]  # re-raises a thread's error


def test_the_same_events_appended_at_once_from_two_connections_are_stored_once(
    two_ledgers: tuple[SqlLedger, SqlLedger],
) -> None:
    for round_ in range(3):
        events = batch(1500, prefix=f"r{round_}-")

        inserted = _append_at_once(two_ledgers, events, f"p{round_}")

        assert sorted(inserted) == sorted(e.source_key for e in events)
    stored = [e.source_key for e in two_ledgers[0].events()]
    assert len(stored) == len(set(stored)) == 4500
    assert two_ledgers[1].cursor("allegro.orders") == "p2"


def test_ten_thousand_events_append_in_well_under_a_second_on_sqlite(sqlite_url: str) -> None:
    events = batch(10_000)
    with open_ledger(sqlite_url) as ledger:
        started = time.perf_counter()
        stored = ledger.append(events, cursor=("warehouse.products", "w1"))
        elapsed = time.perf_counter() - started

        assert len(stored) == 10_000 and [e.seq for e in stored] == list(range(1, 10_001))
        assert elapsed < 1.5, f"appending 10,000 events took {elapsed:.2f} s"


@pytest.mark.postgres
def test_postgres_stores_timestamps_as_timestamptz_and_seq_as_bigint(pg_schemas: Callable[[], URL]) -> None:
    url = pg_schemas().render_as_string(hide_password=False)
    upgrade(url)
    with open_ledger(url) as ledger:
        columns = {c["name"]: c["type"] for c in inspect(ledger.engine).get_columns("events")}
    assert isinstance(columns["occurred_at"], postgresql.TIMESTAMP) and columns["occurred_at"].timezone
    assert isinstance(columns["seq"], BigInteger)
