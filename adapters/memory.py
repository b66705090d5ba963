"""In-memory adapters of the warehouse port, for engine tests, the world simulation and `--dry-run`.

`MemoryWarehouse` behaves like the SQL adapter: it diffs against what the engine knows, applies each stock
change exactly once per key, and can be told to fail like a dead database.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping, Sequence

import orjson

from engine.codec import to_plain
from engine.errors import RetryLater
from engine.model import (
    KnownProduct,
    OfferLink,
    ProductRow,
    StockApplyStatus,
    StockChange,
    StockChangeResult,
    WarehouseDelta,
)


def content_hash(row: ProductRow) -> str:
    """Hash of every column but stock and the hash itself."""
    data = to_plain(dataclasses.replace(row, stock=0, row_hash=""))
    return hashlib.blake2b(orjson.dumps(data, option=orjson.OPT_SORT_KEYS), digest_size=12).hexdigest()


class MemoryWarehouse:
    def __init__(self, rows: Sequence[ProductRow] = ()) -> None:
        self.rows: dict[str, ProductRow] = {}
        self.applied: dict[str, StockChange] = {}
        self.links: dict[str, OfferLink] = {}
        self.down = False
        for row in rows:
            self.put(row)

    def put(self, row: ProductRow) -> None:
        self.rows[row.product_id] = dataclasses.replace(row, row_hash=content_hash(row))

    def set_stock(self, product_id: str, stock: int) -> None:
        self.rows[product_id] = dataclasses.replace(self.rows[product_id], stock=stock)

    def stock(self, product_id: str) -> int:
        return self.rows[product_id].stock

    def remove(self, product_id: str) -> None:
        del self.rows[product_id]

    def _check(self) -> None:
        if self.down:
            raise RetryLater("warehouse memory://: the database is not answering; check that it runs")

    def read_delta(self, known: Mapping[str, KnownProduct], watermark: str | None) -> WarehouseDelta:
        self._check()
        changed = []
        stock_changed = []
        for pid, row in self.rows.items():
            seen = known.get(pid)
            if seen is None or seen.row_hash != row.row_hash:
                changed.append(row)
            elif seen.stock != row.stock:
                stock_changed.append((pid, row.stock))
        removed = tuple(pid for pid in known if pid not in self.rows)
        return WarehouseDelta(changed=tuple(changed), stock_changed=tuple(stock_changed), removed=removed)

    def apply_stock_changes(self, changes: Sequence[StockChange]) -> list[StockChangeResult]:
        self._check()
        results = []
        for change in changes:
            if change.key in self.applied:
                results.append(StockChangeResult(key=change.key, status=StockApplyStatus.ALREADY_APPLIED))
            elif change.product_id not in self.rows:
                results.append(
                    StockChangeResult(
                        key=change.key,
                        status=StockApplyStatus.FAILED,
                        error=f"product {change.product_id} not found by the stock statement",
                    )
                )
            else:
                self.set_stock(change.product_id, self.rows[change.product_id].stock + change.delta)
                self.applied[change.key] = change
                results.append(StockChangeResult(key=change.key, status=StockApplyStatus.APPLIED))
        return results

    def write_offer_links(self, links: Sequence[OfferLink]) -> None:
        self._check()
        for link in links:
            self.links[link.product_id] = link
