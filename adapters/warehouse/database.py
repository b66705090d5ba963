"""The warehouse database handle: a lazy pool, queries with error translation, one retry on a dead connection."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.sql.elements import TextClause

from adapters.warehouse.config import WarehouseConfig, safe_url_text
from adapters.warehouse.connect import build_engine
from adapters.warehouse.failures import to_engine_error
from engine.errors import SyncError

log = logging.getLogger(__name__)

T = TypeVar("T")
SCAN_ROWS = 1000
"""Rows per fetch of `Database.scan`."""


class Database:
    """One pooled engine for the warehouse; nothing connects until the first query."""

    def __init__(self, config: WarehouseConfig) -> None:
        self._config = config
        self._engine: Engine | None = None
        self._url: URL | None = None
        self._statements: dict[str, TextClause] = {}

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine, self._url = build_engine(self._config)
        return self._engine

    @property
    def dialect_name(self) -> str:
        return self.engine.dialect.name

    @property
    def display(self) -> str:
        """The database URL for messages, password hidden."""
        return safe_url_text(self._url) if self._url is not None else self._config.display_url

    @property
    def secret(self) -> str | None:
        self.engine  # noqa: B018 - expands the URL
        password = self._url.password if self._url is not None else None
        return None if password is None else str(password)

    def statement(self, sql: str) -> TextClause:
        """`text(sql)`, cached: the same SQL text compiles once."""
        clause = self._statements.get(sql)
        if clause is None:
            clause = self._statements[sql] = text(sql)
        return clause

    def translate(self, error: BaseException, key: str) -> SyncError:
        return to_engine_error(error, key=key, database=self.display, secret=self.secret)

    def with_connection(self, key: str, work: Callable[[Connection], T]) -> T:
        """Run `work` on a pooled connection; a connection found dead is replaced and `work` retried once.

        Use only for work that is safe to repeat (reads, or one transaction that either committed or not).
        """
        for attempt in (1, 2):
            connection = self.connect()
            try:
                with connection:
                    return work(connection)
            except sa_exc.DBAPIError as error:
                if attempt == 1 and error.connection_invalidated:
                    log.warning("warehouse %s: connection lost (%s); retrying once", self.display, key)
                    continue
                raise self.translate(error, key) from error
            except sa_exc.SQLAlchemyError as error:
                raise self.translate(error, key) from error
        raise AssertionError("unreachable")  # pragma: no cover

    def connect(self) -> Connection:
        """A pooled connection; failing to get one is about `[warehouse].url` (or the server), not a statement."""
        try:
            return self.engine.connect()
        except sa_exc.SQLAlchemyError as error:
            raise self.translate(error, "url") from error

    def fetch(
        self, key: str, sql: str | TextClause, params: Mapping[str, Any] | None = None
    ) -> tuple[list[str], Sequence[Sequence[Any]]]:
        """Column names and all rows of a SELECT (`key` names the config key in errors)."""
        clause = self.statement(sql) if isinstance(sql, str) else sql

        def work(connection: Connection) -> tuple[list[str], Sequence[Sequence[Any]]]:
            result = connection.execute(clause, dict(params or {}))
            keys = list(result.keys())
            # The driver's own tuples: a text() query has no result processors, and skipping Row objects
            # saves a sixth of the read of 100k products.
            cursor = getattr(result, "cursor", None)
            rows = cursor.fetchall() if cursor is not None else result.fetchall()
            result.close()
            return keys, rows

        return self.with_connection(key, work)

    def scan(
        self, key: str, sql: str | TextClause, use: Callable[[list[str], Iterator[Sequence[Sequence[Any]]]], T]
    ) -> T:
        """`use(column names, pages)` over the rows of a SELECT fetched SCAN_ROWS at a time, so that the driver's
        rows of a large result are not all in memory at once (SQLite steps through the result as it is
        fetched, psycopg makes Python rows of its buffer as they are fetched; PyMySQL has read them all
        already). `use` runs again from the start if a dead connection is replaced, so it must do nothing but
        build its result."""
        clause = self.statement(sql) if isinstance(sql, str) else sql

        def work(connection: Connection) -> T:
            result = connection.execute(clause)
            try:
                # The driver's own tuples, as in `fetch`; no server-side cursor, whose first row SQLAlchemy
                # would have fetched already.
                cursor = getattr(result, "cursor", None)
                fetchmany = cursor.fetchmany if cursor is not None else result.fetchmany
                return use(list(result.keys()), _pages(fetchmany))
            finally:
                result.close()

        return self.with_connection(key, work)

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


def _pages(fetchmany: Callable[[int], Sequence[Sequence[Any]]]) -> Iterator[Sequence[Sequence[Any]]]:
    while rows := fetchmany(SCAN_ROWS):
        yield rows
