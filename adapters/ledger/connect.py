"""Engines for the ledger: SQLite in WAL mode with immediate write transactions, or PostgreSQL via psycopg 3."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from engine.errors import ConfigError

SUPPORTED = ("sqlite", "postgresql")
BUSY_TIMEOUT_MS = 15_000
# Execution option asking for `BEGIN IMMEDIATE` on SQLite: a writer takes the write lock up front and
# waits for it (busy_timeout) instead of failing when a read-then-write transaction meets another writer.
WRITE = "ledger_write"


def ledger_url(url: str | URL) -> URL:
    """The URL with psycopg 3 chosen for PostgreSQL; only SQLite and PostgreSQL are supported."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(
            f"ledger {redact(url)} is not a database URL; set [engine].state_url to sqlite:///state.db "
            "or postgresql+psycopg://user@host/db"
        ) from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in SUPPORTED:
        raise ConfigError(
            f"ledger {redact(parsed)}: the ledger runs on SQLite or PostgreSQL, not {parsed.get_backend_name()}; "
            "set [engine].state_url to sqlite:///state.db or postgresql+psycopg://user@host/db"
        )
    return parsed


def redact(url: str | URL) -> str:
    """The URL as text with any password replaced by ***, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:  # an unparsable URL is shown without its userinfo rather than raising again
        text = str(url)
        return text.split("@", 1)[-1] if "@" in text else text


def driver_reason(exc: DBAPIError) -> str:
    """The first line of the driver's message (never the SQL or its parameters), for one-line errors."""
    text = str(exc.orig).strip()
    return text.splitlines()[0] if text else type(exc.orig).__name__


def create_ledger_engine(url: str | URL) -> Engine:
    """An engine for the ledger; connects lazily (nothing is opened until first use)."""
    parsed = ledger_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed, connect_args={"check_same_thread": False})
        _sqlite_setup(engine)
        return engine
    return create_engine(parsed, pool_pre_ping=True)


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin (see "begin" below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if engine.url.database not in (None, "", ":memory:"):
                cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
