"""`SqlWarehouse`: the `engine.ports.Warehouse` port over the seller's SQL database (SQLite, MariaDB, PostgreSQL)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from adapters.warehouse.checks import check_sample, check_statement, explain_text
from adapters.warehouse.columns import Layout, layout_of, select_text, wrap_empty, wrap_sample
from adapters.warehouse.config import WarehouseConfig
from adapters.warehouse.database import Database
from adapters.warehouse.links import write_offer_links
from adapters.warehouse.reader import ProductReader
from adapters.warehouse.stock import BeforeCommit, StockApplier
from engine.model import KnownProduct, OfferLink, StockChange, StockChangeResult, WarehouseDelta

SAMPLE_ROWS = 50


class SqlWarehouse:
    """The warehouse adapter. Construction checks the SQL text only; nothing connects until a method is called.

    `before_commit` is a test hook (called with the connection just before each stock transaction commits);
    leave it None in production.
    """

    def __init__(self, config: WarehouseConfig, *, before_commit: BeforeCommit | None = None) -> None:
        self.config = config
        check_statement(
            config.decrement_stock, key="decrement_stock", required=("product_id", "quantity"), optional=True
        )
        check_statement(
            config.increment_stock, key="increment_stock", required=("product_id", "quantity"), optional=True
        )
        check_statement(config.offer_linked, key="offer_linked", required=("product_id",), optional=True)
        self._db = Database(config)
        self._reader = ProductReader(config, self._db)
        self._stock = StockApplier(config, self._db, before_commit)

    def __repr__(self) -> str:
        return f"SqlWarehouse({self.config.display_url!r})"

    def start(self) -> None:
        """Validate the queries and make sure the applied-keys table exists: call once at start-up."""
        self.validate()
        self.ensure_applied_table()

    def validate(self) -> None:
        """Run the queries wrapped to return no rows (then a small sample) and name what is wrong.

        The stock and write-back statements are EXPLAINed, not run. Raises ConfigError for missing columns,
        unusable column types, a statement that is not a SELECT, a missing table or column; RetryLater when
        the database cannot be reached.
        """
        products = select_text(self.config.products_query, "products_query")
        layout = self._reader.products_layout()
        _, rows_of_products = self._db.fetch("products_query", wrap_sample(products, SAMPLE_ROWS))
        check_sample(layout, rows_of_products, key="products_query")
        if self.config.stock_query:
            stock = select_text(self.config.stock_query, "stock_query")
            keys, _ = self._db.fetch("stock_query", wrap_empty(stock))
            stock_layout = layout_of(keys, key="stock_query")
            _, rows = self._db.fetch("stock_query", wrap_sample(stock, SAMPLE_ROWS))
            check_sample(stock_layout, rows, key="stock_query")
        self._explain_statements(layout, rows_of_products)

    def _explain_statements(self, layout: Layout, sample: Sequence[Sequence[Any]]) -> None:
        """EXPLAIN the stock and write-back statements (nothing runs), with a real product id when there is one."""
        product_id: Any = sample[0][layout.positions["product_id"]] if sample else "0"
        parameters = {"product_id": product_id, "quantity": 0, "offer_id": None, "offer_status": None,
                      "status": None, "problem": None}  # fmt: skip
        for key in ("decrement_stock", "increment_stock", "offer_linked"):
            statement = getattr(self.config, key)
            explained = explain_text(self._db.dialect_name, statement) if statement and statement.strip() else None
            if explained is not None:
                self._db.fetch(key, explained, parameters)

    def ensure_applied_table(self) -> None:
        """Create `[warehouse].applied_table` if missing (see WarehouseConfig for the opt-out)."""
        self._stock.ensure_applied_table()

    def read_delta(self, known: Mapping[str, KnownProduct], watermark: str | None) -> WarehouseDelta:
        return self._reader.read_delta(known, watermark)

    def apply_stock_changes(self, changes: Sequence[StockChange]) -> list[StockChangeResult]:
        return self._stock.apply(changes)

    def write_offer_links(self, links: Sequence[OfferLink]) -> None:
        write_offer_links(self._db, self.config.offer_linked, links)

    def close(self) -> None:
        """Close the pooled connections."""
        self._db.dispose()
