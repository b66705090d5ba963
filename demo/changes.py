"""Simulated changes by the seller's other channels: stock set or delivered, products edited."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import create_engine, func, select, update
from sqlalchemy.engine import Connection, Engine

from demo.sample import stany_magazynowe, towary


@contextmanager
def _transaction(url: str | Engine) -> Iterator[Connection]:
    engine = create_engine(url) if isinstance(url, str) else url
    try:
        with engine.begin() as connection:
            yield connection
    finally:
        if isinstance(url, str):
            engine.dispose()


def set_stock(url: str | Engine, product_id: int, quantity: int) -> None:
    """Another channel sets the stock (no timestamp moves, as in the legacy application)."""
    with _transaction(url) as connection:
        connection.execute(
            update(stany_magazynowe).where(stany_magazynowe.c.towar_id == product_id).values(ilosc=quantity)
        )


def add_stock(url: str | Engine, product_id: int, quantity: int) -> None:
    """A delivery (positive) or another channel's sale (negative); no timestamp moves."""
    with _transaction(url) as connection:
        connection.execute(
            update(stany_magazynowe)
            .where(stany_magazynowe.c.towar_id == product_id)
            .values(ilosc=stany_magazynowe.c.ilosc + quantity)
        )


def stock_of(url: str | Engine, product_id: int) -> int | None:
    with _transaction(url) as connection:
        value = connection.execute(
            select(stany_magazynowe.c.ilosc).where(stany_magazynowe.c.towar_id == product_id)
        ).scalar()
    return None if value is None else int(value)


def touch_product(url: str | Engine, product_id: int, *, at: datetime | None = None, **columns: Any) -> None:
    """Edit a product (any `towary` columns) and move its `zmodyfikowano` to `at` or the database's now."""
    values: dict[str, Any] = dict(columns)
    values["zmodyfikowano"] = at if at is not None else func.current_timestamp()
    with _transaction(url) as connection:
        connection.execute(update(towary).where(towary.c.id == product_id).values(**values))
