"""Reading products on every backend: only what changed, stock without timestamps, removals, problems once."""

from __future__ import annotations

import gc
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.engine import Engine

from demo import create_sample_warehouse, set_stock, touch_product
from demo.sample import stany_magazynowe, towary
from engine.errors import SyncError
from engine.model import KnownProduct
from tests.warehouse.support import fold

PRODUCTS = 60


@pytest.fixture
def sample(admin: Engine) -> Any:
    return create_sample_warehouse(admin, products=PRODUCTS, seed=3)


def first_read(warehouse: Any) -> tuple[dict[str, KnownProduct], str | None]:
    delta = warehouse.read_delta({}, None)
    return fold({}, delta), delta.watermark


def max_timestamp(admin: Engine) -> Any:
    with admin.connect() as connection:
        return connection.execute(select(towary.c.zmodyfikowano).order_by(towary.c.zmodyfikowano.desc())).first()[0]


@pytest.mark.parametrize("with_stock_query", [True, False], ids=["stock_query", "full_read"])
def test_first_read_returns_every_product_and_problems(
    make_warehouse: Any, sample: Any, with_stock_query: bool
) -> None:
    warehouse = make_warehouse(**({} if with_stock_query else {"stock_query": None}))
    delta = warehouse.read_delta({}, None)
    broken = {str(pid) for kind in ("negative_stock", "bad_price") for pid in sample.broken[kind]}
    assert {p.product_id for p in delta.rejected} == broken
    assert len(delta.changed) == PRODUCTS - len(broken)
    assert delta.removed == () and delta.stock_changed == ()
    assert delta.watermark is not None
    row = next(r for r in delta.changed if r.product_id == "1")
    assert row.external_id == "TW-000001" and row.title and row.price and row.price > 0
    assert row.images and row.images[0].startswith("https://images.example.invalid/")


def test_the_garbage_collector_is_paused_during_a_read_only(make_warehouse: Any, sample: Any, admin: Engine) -> None:
    seen: list[bool] = []
    warehouse = make_warehouse()
    digest = warehouse._reader._digest_scan

    def watched(*args: Any) -> Any:
        seen.append(gc.isenabled())
        return digest(*args)

    warehouse._reader._digest_scan = watched
    warehouse.read_delta({}, None)
    assert seen == [False] and gc.isenabled()
    with admin.begin() as connection:
        connection.execute(text("DROP TABLE stany_magazynowe"))
    with pytest.raises(SyncError):
        warehouse.read_delta({}, None)
    assert gc.isenabled(), "a failed read must switch the collector back on"


@pytest.mark.parametrize("with_stock_query", [True, False], ids=["stock_query", "full_read"])
def test_idle_read_returns_nothing_and_keeps_the_watermark(
    make_warehouse: Any, sample: Any, with_stock_query: bool
) -> None:
    warehouse = make_warehouse(**({} if with_stock_query else {"stock_query": None}))
    known, mark = first_read(warehouse)
    delta = warehouse.read_delta(known, mark)
    assert (delta.changed, delta.stock_changed, delta.removed, delta.rejected) == ((), (), (), ())
    assert delta.watermark == mark


@pytest.mark.parametrize("with_stock_query", [True, False], ids=["stock_query", "full_read"])
def test_stock_in_a_table_no_timestamp_follows_is_detected(
    make_warehouse: Any, sample: Any, admin: Engine, with_stock_query: bool
) -> None:
    warehouse = make_warehouse(**({} if with_stock_query else {"stock_query": None}))
    known, mark = first_read(warehouse)
    set_stock(admin, 5, 41)
    set_stock(admin, 6, 0)
    delta = warehouse.read_delta(known, mark)
    expected = [("5", 41)] + ([("6", 0)] if known["6"].stock != 0 else [])
    assert list(delta.stock_changed) == expected
    assert delta.changed == ()


def test_edited_product_is_read_since_the_watermark(make_warehouse: Any, sample: Any, admin: Engine) -> None:
    warehouse = make_warehouse()
    known, mark = first_read(warehouse)
    touch_product(admin, 9, nazwa="Kabel HDMI 2.1 8K nowa wersja 3 m")
    delta = warehouse.read_delta(known, mark)
    assert [row.product_id for row in delta.changed] == ["9"]
    assert delta.changed[0].title == "Kabel HDMI 2.1 8K nowa wersja 3 m"
    assert delta.removed == ()
    assert delta.watermark != mark


def test_equal_timestamp_written_after_the_read_is_not_lost(make_warehouse: Any, sample: Any, admin: Engine) -> None:
    warehouse = make_warehouse()
    known, mark = first_read(warehouse)
    newest = max_timestamp(admin)
    touch_product(admin, 11, at=newest, nazwa="Słuchawki bezprzewodowe z ANC edycja 2")
    touch_product(admin, 12, at=newest - (newest - newest.replace(microsecond=0)), nazwa="Młotek ślusarski 2 kg kuty")
    delta = warehouse.read_delta(known, mark)
    assert [row.product_id for row in delta.changed] == ["11", "12"]


def test_removed_product_is_reported(make_warehouse: Any, sample: Any, admin: Engine) -> None:
    for warehouse in (make_warehouse(), make_warehouse(stock_query=None)):
        known, mark = first_read(warehouse)
        with admin.begin() as connection:
            connection.execute(delete(towary).where(towary.c.id == 7))
            connection.execute(delete(stany_magazynowe).where(stany_magazynowe.c.towar_id == 7))
        delta = warehouse.read_delta(known, mark)
        assert delta.removed == ("7",)
        assert delta.changed == () and delta.stock_changed == ()
        create_sample_warehouse(admin, products=PRODUCTS, seed=3)


def test_broken_row_is_reported_once_and_again_when_fixed(make_warehouse: Any, sample: Any, admin: Engine) -> None:
    warehouse = make_warehouse()
    known, mark = first_read(warehouse)
    negative = sample.broken["negative_stock"][0]
    again = warehouse.read_delta(known, mark)
    assert again.rejected == ()
    set_stock(admin, negative, 4)  # fixed in the stock table: no timestamp moves
    fixed = warehouse.read_delta(known, mark)
    assert [(row.product_id, row.stock) for row in fixed.changed] == [(str(negative), 4)]
    known = fold(known, fixed)
    set_stock(admin, negative, -1)
    broken = warehouse.read_delta(known, fixed.watermark)
    negative_problem = "stock -1 is negative; correct it in the warehouse (0 or more units)"
    assert [(p.product_id, p.problems) for p in broken.rejected] == [(str(negative), (negative_problem,))]


def test_new_product_with_an_old_timestamp_is_found_through_stock_query(
    make_warehouse: Any, sample: Any, admin: Engine
) -> None:
    warehouse = make_warehouse()
    known, mark = first_read(warehouse)
    with admin.begin() as connection:
        connection.execute(
            insert(towary).values(
                id=1000,
                symbol="TW-001000",
                nazwa="Poziomica aluminiowa 100 cm",
                cena="59,90",
                wystawiaj="T",
                zmodyfikowano=datetime(2019, 1, 1),
            )
        )
        connection.execute(insert(stany_magazynowe).values(towar_id=1000, ilosc=3))
    delta = warehouse.read_delta(known, mark)
    assert [(row.product_id, row.stock, row.price) for row in delta.changed] == [("1000", 3, Decimal("59.90"))]


def test_without_updated_at_every_read_is_full_and_has_no_watermark(
    make_warehouse: Any, sample: Any, admin: Engine, warehouse_url: str
) -> None:
    query = (
        "SELECT t.id AS product_id, t.nazwa AS title, s.ilosc AS stock "
        "FROM towary t JOIN stany_magazynowe s ON s.towar_id = t.id"
    )
    warehouse = make_warehouse(products_query=query)
    known, mark = first_read(warehouse)
    assert mark is None and len(known) == PRODUCTS
    with admin.begin() as connection:
        connection.execute(update(towary).where(towary.c.id == 3).values(nazwa="Zmieniony tytuł produktu"))
    delta = warehouse.read_delta(known, mark)
    assert [row.product_id for row in delta.changed] == ["3"] and delta.watermark is None


def test_percent_sign_and_a_parameterless_like_work(make_warehouse: Any, sample: Any, warehouse_url: str) -> None:
    query = (
        "SELECT t.id AS product_id, t.symbol AS external_id, s.ilosc AS stock, t.zmodyfikowano AS updated_at "
        "FROM towary t JOIN stany_magazynowe s ON s.towar_id = t.id WHERE t.symbol LIKE 'TW-00001%'"
    )
    warehouse = make_warehouse(products_query=query)
    warehouse.validate()
    delta = warehouse.read_delta({}, None)
    read = [row.product_id for row in delta.changed] + [problem.product_id for problem in delta.rejected]
    assert sorted(int(product_id) for product_id in read) == list(range(10, 20))
    known = fold({}, delta)
    assert warehouse.read_delta(known, delta.watermark).removed == ()


def test_a_delta_the_engine_did_not_record_is_returned_again(make_warehouse: Any, sample: Any) -> None:
    warehouse = make_warehouse(stock_query=None)
    first = warehouse.read_delta({}, None)
    again = warehouse.read_delta({}, None)
    assert [row.product_id for row in again.changed] == [row.product_id for row in first.changed]
    assert again.changed == first.changed


def test_a_product_returned_by_two_rows_is_one_problem_reported_once(
    make_warehouse: Any, sample: Any, admin: Engine
) -> None:
    with admin.begin() as connection:
        connection.execute(text("CREATE TABLE lokalizacje (towar_id INTEGER, polka VARCHAR(10))"))
        connection.execute(text("INSERT INTO lokalizacje VALUES (4, 'A1'), (4, 'B2'), (5, 'C3')"))
    query = (
        "SELECT t.id AS product_id, t.nazwa AS title, s.ilosc AS stock FROM towary t "
        "JOIN stany_magazynowe s ON s.towar_id = t.id JOIN lokalizacje l ON l.towar_id = t.id"
    )
    warehouse = make_warehouse(products_query=query, stock_query=None)
    first = warehouse.read_delta({}, None)
    assert [row.product_id for row in first.changed] == ["5"]
    assert [p.product_id for p in first.rejected] == ["4"]
    assert "is returned by 2 rows" in first.rejected[0].problems[0]
    second = warehouse.read_delta(fold({}, first), None)
    assert (second.changed, second.rejected, second.stock_changed) == ((), (), ())


@pytest.mark.parametrize("with_stock_query", [True, False], ids=["stock_query", "full_read"])
def test_a_known_product_that_a_join_starts_returning_twice_becomes_one_problem(
    make_warehouse: Any, sample: Any, admin: Engine, with_stock_query: bool
) -> None:
    with admin.begin() as connection:
        connection.execute(text("CREATE TABLE lokalizacje (towar_id INTEGER, polka VARCHAR(10))"))
        connection.execute(text("INSERT INTO lokalizacje VALUES (4, 'A1'), (5, 'C3')"))
    query = (
        "SELECT t.id AS product_id, t.nazwa AS title, s.ilosc AS stock, t.zmodyfikowano AS updated_at "
        "FROM towary t JOIN stany_magazynowe s ON s.towar_id = t.id JOIN lokalizacje l ON l.towar_id = t.id"
    )
    stock = "SELECT towar_id AS product_id, ilosc AS stock FROM stany_magazynowe" if with_stock_query else None
    warehouse = make_warehouse(products_query=query, stock_query=stock)
    first = warehouse.read_delta({}, None)
    assert sorted(row.product_id for row in first.changed) == ["4", "5"]
    with admin.begin() as connection:
        connection.execute(text("INSERT INTO lokalizacje VALUES (4, 'B2')"))
        connection.execute(update(towary).where(towary.c.id == 4).values(zmodyfikowano=max_timestamp(admin)))

    second = warehouse.read_delta(fold({}, first), first.watermark)

    assert [p.product_id for p in second.rejected] == ["4"]
    assert "is returned by 2 rows" in second.rejected[0].problems[0]
    assert (second.changed, second.stock_changed, second.removed) == ((), (), ())
    assert second.watermark is not None and second.watermark > first.watermark  # product 4's new timestamp


def test_rows_without_a_timestamp_are_read_every_cycle(make_warehouse: Any, admin: Engine) -> None:
    with admin.begin() as connection:
        connection.execute(
            text("CREATE TABLE p (id INTEGER PRIMARY KEY, nazwa VARCHAR(50), ilosc INTEGER, zm INTEGER)")
        )
        connection.execute(text("INSERT INTO p VALUES (1, 'Kabel HDMI 2 m', 1, 100), (2, 'Kabel USB-C 1 m', 2, NULL)"))
    warehouse = make_warehouse(
        products_query="SELECT id AS product_id, nazwa AS title, ilosc AS stock, zm AS updated_at FROM p",
        stock_query="SELECT id AS product_id, ilosc AS stock FROM p",
    )
    first = warehouse.read_delta({}, None)
    assert first.watermark == "int:100" and len(first.changed) == 2
    with admin.begin() as connection:
        connection.execute(text("UPDATE p SET nazwa = 'Kabel USB-C 2 m' WHERE id = 2"))
    delta = warehouse.read_delta(fold({}, first), first.watermark)
    assert [(row.product_id, row.title) for row in delta.changed] == [("2", "Kabel USB-C 2 m")]
