"""Builds the pooled SQLAlchemy engine for the warehouse: driver timeouts, session settings, SQLite transactions."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, create_engine
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from adapters.warehouse.config import WarehouseConfig, expand_url, safe_url_text
from engine.errors import ConfigError

log = logging.getLogger(__name__)

IMMEDIATE = "allegro_sync_immediate"
"""Execution option: on SQLite, begin the transaction with BEGIN IMMEDIATE (take the write lock up front)."""

_DRIVER_HINTS = {
    "mysql": "use mysql+pymysql:// and install the 'mysql' extra (PyMySQL)",
    "mariadb": "use mysql+pymysql:// and install the 'mysql' extra (PyMySQL)",
    "postgresql": "use postgresql+psycopg:// and install the 'postgres' extra (psycopg 3)",
}


def build_engine(config: WarehouseConfig) -> tuple[Engine, URL]:
    """A pooled engine for `config.url` (placeholders expanded now); no connection is opened yet."""
    url = expand_url(config.url)
    backend = url.get_backend_name()
    connect_args: dict[str, Any] = {}
    options: dict[str, Any] = {"pool_pre_ping": True}
    if backend == "sqlite":
        connect_args["timeout"] = config.lock_timeout_seconds
        connect_args["check_same_thread"] = False
    elif backend in ("mysql", "mariadb"):
        connect_args["connect_timeout"] = max(1, round(config.connect_timeout_seconds))
        options["pool_recycle"] = 3600  # below MySQL's default wait_timeout of 8 h
    elif backend == "postgresql":
        connect_args["connect_timeout"] = max(1, round(config.connect_timeout_seconds))
    try:
        engine = create_engine(url, connect_args=connect_args, **options)
    except NoSuchModuleError as exc:
        hint = _DRIVER_HINTS.get(backend, "use sqlite://, mysql+pymysql:// or postgresql+psycopg://")
        raise ConfigError(f"[warehouse].url {safe_url_text(url)}: no driver for it; {hint}") from exc
    except (ArgumentError, ImportError, TypeError) as exc:
        raise ConfigError(f"[warehouse].url {safe_url_text(url)} is not usable: {exc}") from exc
    _install_session_settings(engine, config)
    return engine, url


def _install_session_settings(engine: Engine, config: WarehouseConfig) -> None:
    backend = engine.dialect.name
    statement_ms = None if config.statement_timeout_seconds is None else int(config.statement_timeout_seconds * 1000)
    lock_ms = int(config.lock_timeout_seconds * 1000)

    if backend == "sqlite":
        # pysqlite's own transaction handling breaks SAVEPOINT; SQLAlchemy's documented recipe: let the
        # driver never BEGIN on its own and emit BEGIN ourselves.
        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection: Connection) -> None:
            immediate = connection.get_execution_options().get(IMMEDIATE, False)
            connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return

    @event.listens_for(engine, "connect")
    def _session(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            if backend == "postgresql":
                cursor.execute(f"SET lock_timeout = {lock_ms}")
                if statement_ms is not None:
                    cursor.execute(f"SET statement_timeout = {statement_ms}")
            else:
                cursor.execute(f"SET SESSION innodb_lock_wait_timeout = {max(1, lock_ms // 1000)}")
                if statement_ms is not None:
                    _mysql_statement_timeout(cursor, statement_ms)
        finally:
            cursor.close()
        if backend == "postgresql":
            dbapi_connection.commit()  # psycopg opened a transaction for the SETs


def _mysql_statement_timeout(cursor: Any, statement_ms: int) -> None:
    # MariaDB calls it max_statement_time (seconds), MySQL max_execution_time (milliseconds, SELECT only).
    for sql in (
        f"SET SESSION max_statement_time = {statement_ms / 1000:.3f}",
        f"SET SESSION max_execution_time = {statement_ms}",
    ):
        try:
            cursor.execute(sql)
            return
        except Exception as exc:  # unknown system variable on the other flavour: try the next spelling
            log.debug("warehouse: %s not supported (%s)", sql, exc)
