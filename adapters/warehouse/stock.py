"""Exactly-once stock changes: the stock statement and the change's key insert commit together, or neither does."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, insert
from sqlalchemy import exc as sa_exc
from sqlalchemy import text as sql_text
from sqlalchemy.engine import Connection, NestedTransaction
from sqlalchemy.schema import CreateTable

from adapters.warehouse.config import WarehouseConfig
from adapters.warehouse.connect import IMMEDIATE
from adapters.warehouse.database import Database
from adapters.warehouse.failures import Failure, classify, database_message
from engine.errors import ConfigError, SyncError
from engine.model import StockApplyStatus, StockChange, StockChangeResult

log = logging.getLogger(__name__)

BeforeCommit = Callable[[Connection], None]
"""Test hook: called on the connection after a transaction's statements and before its COMMIT."""


class _Abort(Exception):
    """A retryable failure inside a shared transaction: the whole transaction is lost."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


def applied_table(name: str) -> Table:
    """The applied-keys table: one row per stock change ever applied (key = the change's key)."""
    schema, _, table = name.rpartition(".")
    return Table(
        table,
        MetaData(),
        Column("key", String(200), primary_key=True),
        Column("product_id", String(200), nullable=False),
        Column("delta", Integer, nullable=False),
        Column("applied_at", DateTime, nullable=False, server_default=sql_text("CURRENT_TIMESTAMP")),
        schema=schema or None,
    )


class StockApplier:
    """Runs decrement_stock / increment_stock under the applied-keys table (design.md section 5)."""

    def __init__(self, config: WarehouseConfig, database: Database, before_commit: BeforeCommit | None) -> None:
        self._config = config
        self._db = database
        self._before_commit = before_commit
        self._table = applied_table(config.applied_table.strip()) if config.applied_table else None
        self._ready = False

    def ensure_applied_table(self) -> None:
        """Create the applied-keys table if it is missing (logged with the table and database)."""
        if self._table is None:
            log.warning(
                "warehouse %s: [warehouse].applied_table is empty: stock changes will be refused",
                self._db.display,
            )
            return
        table = self._table

        def create(connection: Connection) -> bool:
            # SQLite: take the write lock first; upgrading a read transaction fails at once when contended.
            connection = connection.execution_options(**{IMMEDIATE: True})
            with connection.begin():
                if connection.dialect.has_table(connection, table.name, schema=table.schema):
                    return False
                table.create(connection)
            return True

        def exists(connection: Connection) -> bool:
            return bool(connection.dialect.has_table(connection, table.name, schema=table.schema))

        if self._db.with_connection("applied_table", exists):
            created = False
        else:
            try:
                created = self._db.with_connection("applied_table", create)
            except SyncError as error:
                if not self._db.with_connection("applied_table", exists):
                    if isinstance(error, ConfigError):
                        ddl = str(CreateTable(table).compile(dialect=self._db.engine.dialect)).strip()
                        raise ConfigError(
                            f"{error}. Or create the table yourself (allegro-sync only needs INSERT on it): {ddl}"
                        ) from error
                    raise
                created = False  # another process created it at the same moment
        if created:
            log.info("warehouse %s: created table %s for applied stock-change keys", self._db.display, table.fullname)
        else:
            log.debug("warehouse %s: using table %s for applied stock-change keys", self._db.display, table.fullname)
        self._ready = True

    def apply(self, changes: Sequence[StockChange]) -> list[StockChangeResult]:
        """Apply each change once per key. Several share one transaction with a SAVEPOINT each; when that
        transaction is lost (connection, lock, deadlock), each change is retried alone in its own transaction.

        Raises RetryLater only when the database cannot be reached at all at the start; ConfigError when a
        configured statement is unusable (nothing of the batch is then applied).
        """
        if self._table is None:
            raise ConfigError(
                "[warehouse].applied_table is empty, so allegro-sync refuses to change warehouse stock: "
                "without that table nothing makes a decrement exactly-once across crashes and retries; "
                "set applied_table (default 'allegro_sync_applied') or create such a table yourself"
            )
        if not changes:
            return []
        for needed in sorted({self._key_of(change) for change in changes if change.delta != 0}):
            if not (getattr(self._config, needed) or "").strip():
                raise ConfigError(
                    f"[warehouse].{needed} is not set, so allegro-sync cannot change warehouse stock; set it to an "
                    "UPDATE using :product_id and :quantity, or turn order handling off ([flows].orders = false)"
                )
        if not self._ready:
            self.ensure_applied_table()
        connection = self._db.connect()
        try:
            return self._in_one_transaction(connection, changes)
        except _Abort as abort:
            log.warning("warehouse %s: batch of stock changes lost (%s); applying one by one", self._db.display, abort)
        except sa_exc.DBAPIError as error:  # the COMMIT itself failed: outcome unknown, the keys will tell
            if classify(error) is not Failure.RETRY:
                raise self._db.translate(error, self._key_of(changes[0])) from error
            log.warning(
                "warehouse %s: commit of stock changes failed (%s); applying one by one", self._db.display, error
            )
        finally:
            connection.close()
        return [self._alone(change) for change in changes]

    def _in_one_transaction(self, connection: Connection, changes: Sequence[StockChange]) -> list[StockChangeResult]:
        connection = connection.execution_options(**{IMMEDIATE: True})
        with connection.begin():
            results = [self._one(connection, change) for change in changes]
            if self._before_commit is not None:
                self._before_commit(connection)
        return results

    def _alone(self, change: StockChange) -> StockChangeResult:
        try:
            with self._db.engine.connect() as raw, raw.execution_options(**{IMMEDIATE: True}) as connection:
                with connection.begin():
                    result = self._one(connection, change)
                    if self._before_commit is not None:
                        self._before_commit(connection)
                return result
        except _Abort as abort:
            return self._retryable(change, abort.error)
        except sa_exc.DBAPIError as error:
            if classify(error) is not Failure.RETRY:
                raise self._db.translate(error, self._key_of(change)) from error
            return self._retryable(change, error)

    def _one(self, connection: Connection, change: StockChange) -> StockChangeResult:
        assert self._table is not None
        savepoint = connection.begin_nested()
        try:
            connection.execute(
                insert(self._table).values(key=change.key, product_id=change.product_id, delta=change.delta)
            )
        except sa_exc.DBAPIError as error:
            kind = self._undo(savepoint, error)
            if kind is Failure.DUPLICATE:
                return StockChangeResult(key=change.key, status=StockApplyStatus.ALREADY_APPLIED)
            if kind is Failure.CONFIG:
                raise self._db.translate(error, "applied_table") from error
            return self._failed(
                change, f"its key could not be recorded in {self._table.fullname}: {database_message(error)}"
            )
        if change.delta != 0:
            key = self._key_of(change)
            sql = (self._config.decrement_stock if change.delta < 0 else self._config.increment_stock) or ""
            try:
                result = connection.execute(
                    self._db.statement(sql), {"product_id": change.product_id, "quantity": abs(change.delta)}
                )
            except sa_exc.DBAPIError as error:
                kind = self._undo(savepoint, error)
                if kind is Failure.CONFIG:
                    raise self._db.translate(error, key) from error
                return self._failed(change, f"[warehouse].{key} failed: {database_message(error)}")
            except sa_exc.StatementError as error:  # e.g. a :parameter other than product_id and quantity
                savepoint.rollback()
                raise ConfigError(
                    f"[warehouse].{key}: {database_message(error)}; the statement may use only "
                    ":product_id and :quantity"
                ) from error
            if result.rowcount == 0:
                savepoint.rollback()
                return self._failed(
                    change,
                    f"product {change.product_id} not found by [warehouse].{key} (it updated no row); "
                    "check that the product still exists and that the statement's WHERE matches product_id",
                )
        savepoint.commit()
        return StockChangeResult(key=change.key, status=StockApplyStatus.APPLIED)

    def _undo(self, savepoint: NestedTransaction, error: sa_exc.DBAPIError) -> Failure:
        """Roll back to the change's savepoint; a retryable error loses the whole transaction."""
        kind = classify(error)
        if kind is Failure.RETRY:
            raise _Abort(error)
        savepoint.rollback()
        return kind

    @staticmethod
    def _key_of(change: StockChange) -> str:
        return "decrement_stock" if change.delta < 0 else "increment_stock"

    def _failed(self, change: StockChange, reason: str) -> StockChangeResult:
        return StockChangeResult(key=change.key, status=StockApplyStatus.FAILED, error=reason, retryable=False)

    def _retryable(self, change: StockChange, error: BaseException) -> StockChangeResult:
        reason = (
            f"warehouse database {self._db.display} failed while applying the change to product "
            f"{change.product_id}: {database_message(error)}; it will be retried"
        )
        secret = self._db.secret
        return StockChangeResult(
            key=change.key,
            status=StockApplyStatus.FAILED,
            error=reason.replace(secret, "***") if secret else reason,
            retryable=True,
        )
