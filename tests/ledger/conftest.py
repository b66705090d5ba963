"""Ledger backends for the contract suite: memory, SQLite (a migrated temp file) and PostgreSQL (own schema)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import URL, Engine, make_url

from adapters.ledger import SqlLedger, upgrade
from adapters.ledger.connect import create_ledger_engine
from adapters.memory_ledger import MemoryLedger
from tests.databases import PG_CANDIDATES

LEDGER_TABLES = ("events", "cursors", "commands", "projection", "projection_meta", "locks", "snapshot", "snapshot_meta")


class InjectedFault(RuntimeError):
    """Raised on purpose inside a ledger transaction."""


@dataclass
class FakeClock:
    current: datetime = field(default_factory=lambda: datetime(2026, 3, 1, 12, 0, tzinfo=UTC))

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> datetime:
        self.current += timedelta(seconds=seconds)
        return self.current


@dataclass
class Backend:
    """One ledger under test, with a way to make one kind of write fail inside its transaction."""

    name: str
    ledger: SqlLedger | MemoryLedger
    clock: FakeClock
    fail_writes_to: Callable[[str], Any]


class _FailingDict(dict[Any, Any]):
    def __setitem__(self, key: Any, value: Any) -> None:
        raise InjectedFault("write refused")

    def setdefault(self, key: Any, default: Any = None) -> Any:
        raise InjectedFault("write refused")

    def update(self, *args: Any, **kwargs: Any) -> None:
        raise InjectedFault("write refused")


@contextmanager
def _memory_fault(ledger: MemoryLedger, table: str) -> Iterator[None]:
    attribute = {"cursors": "_cursors", "commands": "_commands"}[table]
    original = getattr(ledger, attribute)
    setattr(ledger, attribute, _FailingDict(original))
    try:
        yield
    finally:
        setattr(ledger, attribute, original)


@contextmanager
def sql_fault(engine: Engine, table: str) -> Iterator[None]:
    """Make every INSERT into `table` raise, as a full disk or a killed connection would mid-transaction."""

    def refuse(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if f"INTO {table} " in statement:
            raise InjectedFault(f"write to {table} refused")

    event.listen(engine, "before_cursor_execute", refuse)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", refuse)


# ------------------------------------------------------------------------------------------------ SQLite


@pytest.fixture(scope="session")
def migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ledger-template") / "state.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(migrated_sqlite_template: Path, tmp_path: Path) -> str:
    """A fresh, migrated SQLite ledger file (a copy of one migrated once per session)."""
    path = tmp_path / "state.db"
    shutil.copyfile(migrated_sqlite_template, path)
    return f"sqlite:///{path}"


# ------------------------------------------------------------------------------------------------ PostgreSQL


def _libpq(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_server() -> URL:
    """The PostgreSQL server to test against; skipped when absent, except in CI where absence fails."""
    candidates = [os.environ["ALLEGRO_SYNC_PG_URL"]] if os.environ.get("ALLEGRO_SYNC_PG_URL") else PG_CANDIDATES
    problems = []
    for candidate in candidates:
        url = make_url(candidate)
        try:
            psycopg.connect(_libpq(url), connect_timeout=3, autocommit=True).close()
        except psycopg.Error as exc:
            problems.append(f"{url.render_as_string(hide_password=True)}: {str(exc).strip().splitlines()[0]}")
            continue
        return url
    message = (
        f"PostgreSQL is not reachable ({'; '.join(problems)}); start it on 127.0.0.1:5432 with a `test` database "
        "or set ALLEGRO_SYNC_PG_URL=postgresql+psycopg://user@host:port/db"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def pg_schemas(pg_server: URL) -> Iterator[Callable[[], URL]]:
    """A factory of fresh, empty schemas (each a URL whose search_path is that schema); all dropped at the end."""
    created: list[str] = []

    def new_schema() -> URL:
        name = f"ledger_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(_libpq(pg_server), autocommit=True) as admin:
            admin.execute(f'CREATE SCHEMA "{name}"')
        created.append(name)
        return pg_server.update_query_dict({"options": f"-csearch_path={name}"})

    yield new_schema
    with psycopg.connect(_libpq(pg_server), autocommit=True) as admin:
        for name in created:
            admin.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@pytest.fixture(scope="session")
def pg_ledger_engine(pg_schemas: Callable[[], URL]) -> Iterator[Engine]:
    """One migrated schema for the contract suite, emptied before each test."""
    url = pg_schemas()
    upgrade(url.render_as_string(hide_password=False))
    engine = create_ledger_engine(url)
    yield engine
    engine.dispose()


def _empty(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {', '.join(LEDGER_TABLES)} RESTART IDENTITY"))


# ------------------------------------------------------------------------------------------------ the suite's fixture


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    clock = FakeClock()
    if request.param == "memory":
        memory = MemoryLedger(clock=clock)
        yield Backend("memory", memory, clock, lambda table: _memory_fault(memory, table))
        return
    if request.param == "sqlite":
        engine = create_ledger_engine(request.getfixturevalue("sqlite_url"))
    else:
        engine = request.getfixturevalue("pg_ledger_engine")
        _empty(engine)
    ledger = SqlLedger(engine, clock=clock)
    yield Backend(request.param, ledger, clock, lambda table: sql_fault(engine, table))
    if request.param == "sqlite":
        ledger.close()


@pytest.fixture
def ledger(backend: Backend) -> SqlLedger | MemoryLedger:
    return backend.ledger
