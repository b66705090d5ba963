"""Reads products_query (in full, since the watermark, or by id) and stock_query, and assembles the delta."""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from itertools import chain
from operator import itemgetter
from typing import Any

from sqlalchemy import bindparam, text

from adapters.warehouse import watermark as marks
from adapters.warehouse.columns import Layout, layout_of, quoted, select_text, wrap_empty, wrap_where
from adapters.warehouse.config import WarehouseConfig
from adapters.warehouse.database import Database
from adapters.warehouse.diff import (
    DeltaParts,
    Digested,
    Seen,
    classify,
    classify_unchanged,
    digest_all,
    digest_rows,
    index_rows,
    removed_ids,
    scan_stock,
)
from adapters.warehouse.normalize import Normalized, RowNormalizer
from engine.model import KnownProduct, WarehouseDelta

REFETCH_CHUNK = 500
"""Ids per `IN (...)` read: well under every driver's parameter limit."""


class ProductReader:
    """Change detection proportional to change (see design.md section 10)."""

    def __init__(self, config: WarehouseConfig, database: Database) -> None:
        self._config = config
        self._db = database
        self._products = select_text(config.products_query, "products_query")
        self._stock = select_text(config.stock_query, "stock_query") if config.stock_query else None
        self._normalizers: dict[tuple[str, ...], tuple[Layout, RowNormalizer]] = {}
        self._known_layout: Layout | None = None
        self._seen: Seen = {}

    def products_layout(self) -> Layout:
        """The columns of products_query (asked of the database once, then remembered)."""
        if self._known_layout is None:
            keys, _ = self._db.fetch("products_query", wrap_empty(self._products))
            self._known_layout = self._layout(keys)[0]
        return self._known_layout

    def stock_layout(self) -> Layout | None:
        if self._stock is None:
            return None
        keys, _ = self._db.fetch("stock_query", wrap_empty(self._stock))
        return layout_of(keys, key="stock_query")

    def _layout(self, keys: Sequence[str]) -> tuple[Layout, RowNormalizer]:
        cached = self._normalizers.get(tuple(keys))
        if cached is None:
            layout = layout_of(keys, key="products_query")
            cached = self._normalizers[tuple(keys)] = (layout, RowNormalizer(layout))
        return cached

    def read_delta(self, known: Mapping[str, KnownProduct], watermark: str | None) -> WarehouseDelta:
        with _collector_paused():
            if watermark is None or self._stock is None:
                return self._full(known)
            layout = self.products_layout()
            if not layout.has("updated_at"):
                return self._full(known)
            return self._incremental(known, watermark, layout)

    def _full(self, known: Mapping[str, KnownProduct]) -> WarehouseDelta:
        # Digested while it is fetched: the driver's rows of the whole warehouse are never all in memory.
        digested, mark = self._db.scan("products_query", self._products, partial(self._digest_scan, known))
        if digested is None:  # a product returned by several rows: read again, comparing every row in full
            digested, mark = self._db.scan("products_query", self._products, partial(self._digest_scan, None))
        assert digested is not None
        self._seen = digested.seen
        by_id = index_rows(digested.items)
        parts = DeltaParts()
        classify(by_id, known, parts)
        classify_unchanged(digested.unchanged, known, parts)
        parts.removed = removed_ids(known, by_id, digested.unchanged)
        return _delta(parts, mark)

    def _digest_scan(
        self, known: Mapping[str, KnownProduct] | None, keys: list[str], pages: Iterator[Sequence[Sequence[Any]]]
    ) -> tuple[Digested | None, str | None]:
        """The rows digested against `known` (None: every row in full, see `digest_all`) and the highest
        `updated_at`. Changes nothing but the remembered layout: `Database.scan` may run it again."""
        layout, normalizer = self._layout(keys)
        self._known_layout = layout
        updated: list[Any] = []
        if layout.has("updated_at"):
            pages = _noting(pages, layout.positions["updated_at"], updated)
        rows = chain.from_iterable(pages)
        digested = digest_all(normalizer, rows) if known is None else digest_rows(normalizer, rows, known, self._seen)
        return digested, marks.highest(updated, None) if layout.has("updated_at") else None

    def _incremental(self, known: Mapping[str, KnownProduct], watermark: str, layout: Layout) -> WarehouseDelta:
        column = "q." + quoted(self._db.engine.dialect, layout.name_of("updated_at"))
        condition, params = marks.since_condition(
            self._db.dialect_name, column, watermark, self._config.updated_at_overlap_seconds
        )
        # Rows without a timestamp cannot be narrowed: they are read every cycle.
        condition = f"({condition} OR {column} IS NULL)"
        keys, rows = self._db.fetch("products_query", wrap_where(self._products, condition), params)
        layout, normalizer = self._layout(keys)
        digested = digest_rows(normalizer, rows, known, self._seen) or digest_all(normalizer, rows)
        self._seen.update(digested.seen)
        by_id = index_rows(digested.items)
        seen_updated = [row[layout.positions["updated_at"]] for row in rows]

        assert self._stock is not None
        stock_keys, stock_rows = self._db.fetch("stock_query", self._stock)
        stock_layout = layout_of(stock_keys, key="stock_query")
        read_now = {**by_id, **digested.unchanged}
        scan = scan_stock(
            stock_rows, stock_layout.positions["product_id"], stock_layout.positions["stock"], known, read_now
        )
        fetched: dict[str, Normalized] = {}
        if scan.refetch:
            fetched_rows = self._by_ids(layout, list(scan.refetch.values()))
            fetched = index_rows([normalizer.digest(row) for row in fetched_rows])
            seen_updated.extend(row[layout.positions["updated_at"]] for row in fetched_rows)
        parts = DeltaParts()
        classify(by_id, known, parts)
        classify_unchanged(digested.unchanged, known, parts)
        classify(fetched, known, parts)
        parts.stock_changed.extend(scan.stock_changed)
        parts.removed = removed_ids(known, scan.present, read_now, fetched)
        # Asked for but not returned by products_query although stock_query has them: gone from the products.
        parts.removed.extend(pid for pid in scan.refetch if pid in known and pid not in fetched)
        return _delta(parts, marks.highest(seen_updated, watermark))

    def _by_ids(self, layout: Layout, ids: list[Any]) -> list[Sequence[Any]]:
        column = "q." + quoted(self._db.engine.dialect, layout.name_of("product_id"))
        clause = text(wrap_where(self._products, f"{column} IN :ids")).bindparams(bindparam("ids", expanding=True))
        rows: list[Sequence[Any]] = []
        for start in range(0, len(ids), REFETCH_CHUNK):
            _, chunk = self._db.fetch("products_query", clause, {"ids": ids[start : start + REFETCH_CHUNK]})
            rows.extend(chunk)
        return rows


def _noting(
    pages: Iterator[Sequence[Sequence[Any]]], position: int, values: list[Any]
) -> Iterator[Sequence[Sequence[Any]]]:
    """The pages of rows, adding each row's value at `position` to `values` as they pass."""
    value = itemgetter(position)
    for page in pages:
        values.extend(map(value, page))
        yield page


def _delta(parts: DeltaParts, watermark: str | None) -> WarehouseDelta:
    return WarehouseDelta(
        changed=tuple(sorted(parts.changed, key=lambda row: row.product_id)),
        stock_changed=tuple(sorted(parts.stock_changed)),
        removed=tuple(sorted(set(parts.removed))),
        rejected=tuple(sorted(parts.rejected, key=lambda problem: problem.product_id)),
        watermark=watermark,
    )


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a read runs. A first read allocates a few objects per row
    of the warehouse (tuples, strings, rows), none of them in a reference cycle, so reference counting frees
    what is dropped; the collector would only walk the growing heap, the engine's state included, again and
    again (a third of the CPU of a first read of 100,000 products). Switched back on afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
