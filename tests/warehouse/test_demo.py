"""The sample warehouse generator: valid EAN-13s, the promised broken rows, deterministic under a seed."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import create_engine, select
from sqlalchemy.engine import Engine

from demo import BROKEN_KINDS, add_stock, create_sample_warehouse, ean13, ean13_valid, stock_of
from demo.sample import stany_magazynowe, towary


def rows(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        query = select(towary, stany_magazynowe.c.ilosc).join(
            stany_magazynowe, stany_magazynowe.c.towar_id == towary.c.id
        )
        return [tuple(row) for row in connection.execute(query.order_by(towary.c.id))]


def test_ean13_check_digit() -> None:
    assert ean13("590123412345") == "5901234123457"
    assert ean13_valid("5901234123457") and not ean13_valid("5901234123458") and not ean13_valid("590123412345")


def test_every_product_is_valid_except_the_broken_ones(admin: Engine) -> None:
    summary = create_sample_warehouse(admin, products=600, seed=1)
    broken = summary.broken
    assert set(broken) == set(BROKEN_KINDS) and all(len(ids) >= 1 for ids in broken.values())
    by_id = {row[0]: row for row in rows(admin)}
    assert len(by_id) == 600
    columns = [c.name for c in towary.columns] + ["ilosc"]
    named = {pid: dict(zip(columns, row, strict=True)) for pid, row in by_id.items()}
    bad_ean = set(broken["bad_ean"])
    assert all(ean13_valid(p["ean"]) != (pid in bad_ean) for pid, p in named.items())
    assert all((p["ilosc"] < 0) == (pid in broken["negative_stock"]) for pid, p in named.items())
    assert all((12 <= len(p["nazwa"]) <= 75) == (pid not in broken["short_title"]) for pid, p in named.items())
    assert {p["kategoria"] for pid, p in named.items() if pid not in broken["unmapped_category"]} <= {
        "ELEKTRONIKA", "SLUCHAWKI", "NARZEDZIA"
    }  # fmt: skip
    assert {named[pid]["kategoria"] for pid in broken["unmapped_category"]} == {"ZABAWKI"}
    assert all("," in named[pid]["cena"] or not named[pid]["cena"][0].isdigit() for pid in broken["bad_price"])
    assert len({p["ean"] for p in named.values()}) == 600
    assert all(p["zdjecia"].startswith(f"https://images.example.invalid/{p['ean']}/1.jpg") for p in named.values())


def test_generator_is_deterministic_under_a_seed(tmp_path: Any) -> None:
    engines = [create_engine(f"sqlite:///{tmp_path / name}.db") for name in ("a", "b", "c")]
    try:
        first = create_sample_warehouse(engines[0], products=200, seed=7)
        second = create_sample_warehouse(engines[1], products=200, seed=7)
        other = create_sample_warehouse(engines[2], products=200, seed=8)
        assert first == second and rows(engines[0]) == rows(engines[1])
        assert rows(engines[0]) != rows(engines[2]) and first != other
    finally:
        for engine in engines:
            engine.dispose()


def test_generator_is_fast_enough_for_a_hundred_thousand_products(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'big.db'}"
    started = time.process_time()
    create_sample_warehouse(url, products=20_000, seed=0)
    assert time.process_time() - started < 2  # 100,000 in well under 10 s (bench/warehouse_read.py: ~2 s)
    before = stock_of(url, 20_000)
    add_stock(url, 20_000, 5)
    assert before is not None and stock_of(url, 20_000) == before + 5
