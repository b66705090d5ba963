"""Benchmark: CPU seconds to read and diff the sample warehouse (100,000 products on SQLite by default).

Run from the repository root: .venv/bin/python -m bench.warehouse_read [--products N] [--url URL].
Prints figures; not a test.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy import create_engine, func, update
from sqlalchemy.engine import Engine

from adapters.warehouse import SqlWarehouse, WarehouseConfig
from demo import create_sample_warehouse
from demo.sample import sample_sql, stany_magazynowe, towary
from engine.model import KnownProduct, WarehouseDelta

T = TypeVar("T")


def measured(label: str, work: Callable[[], T]) -> T:
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    print(f"  {label:<58} cpu {time.process_time() - cpu:6.3f} s   wall {time.perf_counter() - wall:6.3f} s")
    return result


def fold(known: dict[str, KnownProduct], delta: WarehouseDelta) -> dict[str, KnownProduct]:
    for row in delta.changed:
        known[row.product_id] = KnownProduct(row_hash=row.row_hash, stock=row.stock)
    for product_id, stock in delta.stock_changed:
        known[product_id] = KnownProduct(row_hash=known[product_id].row_hash, stock=stock)
    for problem in delta.rejected:
        known[problem.product_id] = KnownProduct(row_hash=problem.row_hash, stock=None)
    return known


def scenario(engine: Engine, config: WarehouseConfig) -> None:
    warehouse = SqlWarehouse(config)
    first = measured("first read (everything new)", lambda: warehouse.read_delta({}, None))
    known = fold({}, first)
    restarted = SqlWarehouse(config)
    measured("first read after a restart (all known)", lambda: restarted.read_delta(known, first.watermark))
    restarted.close()
    idle = measured("idle cycle (nothing changed)", lambda: warehouse.read_delta(known, first.watermark))
    assert not (idle.changed or idle.stock_changed or idle.removed or idle.rejected)
    with engine.begin() as connection:
        more = stany_magazynowe.c.ilosc + 1
        connection.execute(update(stany_magazynowe).where(stany_magazynowe.c.towar_id <= 100).values(ilosc=more))
        connection.execute(
            update(towary)
            .where(towary.c.id.between(200, 209))
            .values(nazwa=towary.c.nazwa + " v2", zmodyfikowano=func.current_timestamp())
        )
    busy = measured(
        "cycle with 100 stock changes and 10 edited products", lambda: warehouse.read_delta(known, first.watermark)
    )
    print(f"    -> {len(busy.changed)} changed, {len(busy.stock_changed)} stock changes")
    warehouse.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--url", help="an empty database (default: a temporary SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.url or f"sqlite:///{Path(folder) / 'warehouse.db'}"
        engine = create_engine(url)
        print(f"{args.products} products at {engine.url.render_as_string(hide_password=True)}")
        measured("generate the sample warehouse", lambda: create_sample_warehouse(engine, args.products, seed=0))
        sql = sample_sql(engine.dialect.name)
        for label, stock_query in (("with stock_query", sql["stock_query"]), ("without stock_query", None)):
            print(label)
            config = WarehouseConfig(
                url=url,
                products_query=sql["products_query"],
                stock_query=stock_query,
                decrement_stock=sql["decrement_stock"],
                increment_stock=sql["increment_stock"],
            )
            scenario(engine, config)
        engine.dispose()


if __name__ == "__main__":
    main()
