"""Test helpers: the engine's bookkeeping of `known` products, reduced to what the warehouse contract needs."""

from __future__ import annotations

from collections.abc import Mapping

from engine.model import KnownProduct, WarehouseDelta


def fold(known: Mapping[str, KnownProduct], delta: WarehouseDelta) -> dict[str, KnownProduct]:
    """What the engine records after a delta: rows by hash and stock, rejected rows by problem hash and no stock."""
    result = dict(known)
    for row in delta.changed:
        result[row.product_id] = KnownProduct(row_hash=row.row_hash, stock=row.stock)
    for product_id, stock in delta.stock_changed:
        result[product_id] = KnownProduct(row_hash=result[product_id].row_hash, stock=stock)
    for problem in delta.rejected:
        result[problem.product_id] = KnownProduct(row_hash=problem.row_hash, stock=None)
    for product_id in delta.removed:
        result.pop(product_id, None)
    return result
