"""Stock changes on every backend: exactly once per key, alone or concurrent, never half-applied."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection, Engine

from demo import create_sample_warehouse, set_stock, stock_of
from engine.errors import ConfigError
from engine.model import OfferLink, StockApplyStatus, StockChange
from tests.warehouse.conftest import dialect_of

APPLIED = StockApplyStatus.APPLIED
ALREADY = StockApplyStatus.ALREADY_APPLIED
FAILED = StockApplyStatus.FAILED


@pytest.fixture
def sample(admin: Engine) -> Any:
    summary = create_sample_warehouse(admin, products=30, seed=5)
    for product_id in (1, 2, 3):
        set_stock(admin, product_id, 10)
    return summary


def applied_keys(admin: Engine) -> list[str]:
    with admin.connect() as connection:
        return sorted(connection.execute(text("SELECT " + _key(admin) + " FROM allegro_sync_applied")).scalars())


def _key(admin: Engine) -> str:
    return str(admin.dialect.identifier_preparer.quote("key"))


def test_decrement_is_applied_once_however_often_it_is_repeated(
    make_warehouse: Any, sample: Any, admin: Engine
) -> None:
    warehouse = make_warehouse()
    change = StockChange(key="cf-1:line-1", product_id="1", delta=-3)
    first = warehouse.apply_stock_changes([change])
    again = warehouse.apply_stock_changes([change, change])
    assert [r.status for r in first] == [APPLIED]
    assert [r.status for r in again] == [ALREADY, ALREADY]
    assert stock_of(admin, 1) == 7
    assert applied_keys(admin) == ["cf-1:line-1"]


def test_increment_uses_its_own_key(make_warehouse: Any, sample: Any, admin: Engine) -> None:
    warehouse = make_warehouse()
    results = warehouse.apply_stock_changes(
        [
            StockChange(key="cf-1:line-1", product_id="2", delta=-4),
            StockChange(key="cf-1:line-1:restore", product_id="2", delta=4),
        ]
    )
    assert [r.status for r in results] == [APPLIED, APPLIED]
    assert stock_of(admin, 2) == 10


def test_one_failing_change_does_not_block_the_others(make_warehouse: Any, sample: Any, admin: Engine) -> None:
    warehouse = make_warehouse()
    results = warehouse.apply_stock_changes(
        [
            StockChange(key="a", product_id="1", delta=-1),
            StockChange(key="b", product_id="999999", delta=-1),
            StockChange(key="c", product_id="2", delta=-2),
        ]
    )
    assert [r.status for r in results] == [APPLIED, FAILED, APPLIED]
    assert results[1].retryable is False
    assert (
        results[1].error is not None and "product 999999 not found by [warehouse].decrement_stock" in results[1].error
    )
    assert (stock_of(admin, 1), stock_of(admin, 2)) == (9, 8)
    assert applied_keys(admin) == ["a", "c"]  # the failed change left no key: it can be applied later


def test_broken_statement_stops_with_the_config_key_and_applies_nothing(
    make_warehouse: Any, sample: Any, admin: Engine
) -> None:
    warehouse = make_warehouse(
        increment_stock="UPDATE nie_ma_tabeli SET ilosc = ilosc + :quantity WHERE id = :product_id"
    )
    with pytest.raises(ConfigError) as raised:
        warehouse.apply_stock_changes(
            [StockChange(key="a", product_id="1", delta=-1), StockChange(key="b", product_id="2", delta=1)]
        )
    assert "[warehouse].increment_stock" in str(raised.value)
    assert "nie_ma_tabeli" in str(raised.value)
    assert stock_of(admin, 1) == 10 and applied_keys(admin) == []


def test_a_parameter_used_twice(make_warehouse: Any, sample: Any, admin: Engine) -> None:
    statement = (
        "UPDATE stany_magazynowe SET ilosc = CASE WHEN ilosc >= :quantity THEN ilosc - :quantity ELSE 0 END "
        "WHERE towar_id = :product_id AND 'x%' LIKE 'x%'"
    )
    warehouse = make_warehouse(decrement_stock=statement)
    results = warehouse.apply_stock_changes(
        [StockChange(key="a", product_id="1", delta=-4), StockChange(key="b", product_id="2", delta=-40)]
    )
    assert [r.status for r in results] == [APPLIED, APPLIED]
    assert (stock_of(admin, 1), stock_of(admin, 2)) == (6, 0)


def test_concurrent_application_from_two_processes_applies_once(
    make_warehouse: Any, sample: Any, admin: Engine
) -> None:
    first_inserted = threading.Event()

    def hold_before_commit(connection: Connection) -> None:
        first_inserted.set()
        threading.Event().wait(0.4)  # the second process now runs into the uncommitted key

    one = make_warehouse(before_commit=hold_before_commit)
    two = make_warehouse()
    change = StockChange(key="cf-9:line-1", product_id="3", delta=-2)
    outcomes: dict[str, Any] = {}

    def run_one() -> None:
        outcomes["one"] = one.apply_stock_changes([change])[0].status

    thread = threading.Thread(target=run_one)
    thread.start()
    assert first_inserted.wait(10)
    outcomes["two"] = two.apply_stock_changes([change])[0].status
    thread.join(10)
    assert outcomes == {"one": APPLIED, "two": ALREADY}
    assert stock_of(admin, 3) == 8


def test_many_threads_racing_on_the_same_keys_decrement_once(make_warehouse: Any, sample: Any, admin: Engine) -> None:
    warehouses = [make_warehouse() for _ in range(3)]
    changes = [StockChange(key=f"race-{i}", product_id="1", delta=-1) for i in range(5)]
    start = threading.Barrier(len(warehouses))
    results: list[Any] = []

    def run(warehouse: Any) -> None:
        start.wait(10)
        results.extend(warehouse.apply_stock_changes(changes))

    threads = [threading.Thread(target=run, args=(w,)) for w in warehouses]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    statuses = [r.status for r in results]
    assert statuses.count(APPLIED) == 5 and statuses.count(ALREADY) == 10, [r.error for r in results]
    assert stock_of(admin, 1) == 5


def _session_id(connection: Connection) -> int:
    if connection.dialect.name == "postgresql":
        return int(connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())
    return int(connection.exec_driver_sql("SELECT CONNECTION_ID()").scalar_one())


def _kill(admin: Engine, session_id: int) -> None:
    with admin.connect() as connection:
        if admin.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": session_id})
        else:
            connection.exec_driver_sql(f"KILL {session_id}")


def test_connection_killed_before_commit_leaves_nothing_half_applied(
    make_warehouse: Any, sample: Any, admin: Engine, warehouse_url: str
) -> None:
    if dialect_of(warehouse_url) == "sqlite":
        pytest.skip("SQLite has no server session to kill; see test_crash_before_commit_rolls_back_everything")
    killed: list[int] = []

    def kill_own_session(connection: Connection) -> None:
        killed.append(_session_id(connection))
        _kill(admin, killed[-1])

    warehouse = make_warehouse(before_commit=kill_own_session)
    changes = [StockChange(key="k1", product_id="1", delta=-2), StockChange(key="k2", product_id="2", delta=-3)]
    results = warehouse.apply_stock_changes(changes)
    assert [(r.status, r.retryable) for r in results] == [(FAILED, True), (FAILED, True)]
    assert len(killed) == 3  # the batch, then each change alone
    assert (stock_of(admin, 1), stock_of(admin, 2)) == (10, 10)
    assert applied_keys(admin) == []
    healthy = make_warehouse()
    assert [r.status for r in healthy.apply_stock_changes(changes)] == [APPLIED, APPLIED]
    assert (stock_of(admin, 1), stock_of(admin, 2)) == (8, 7)


def test_crash_before_commit_rolls_back_everything(make_warehouse: Any, sample: Any, admin: Engine) -> None:
    def crash(connection: Connection) -> None:
        raise KeyboardInterrupt  # the process dies between the UPDATE and the COMMIT

    warehouse = make_warehouse(before_commit=crash)
    with pytest.raises(KeyboardInterrupt):
        warehouse.apply_stock_changes([StockChange(key="k1", product_id="1", delta=-2)])
    assert stock_of(admin, 1) == 10 and applied_keys(admin) == []
    assert make_warehouse().apply_stock_changes([StockChange(key="k1", product_id="1", delta=-2)])[0].status == APPLIED
    assert stock_of(admin, 1) == 8


def test_pool_survives_all_its_connections_being_killed(
    make_warehouse: Any, sample: Any, admin: Engine, warehouse_url: str
) -> None:
    if dialect_of(warehouse_url) == "sqlite":
        pytest.skip("SQLite has no server connections to kill")
    warehouse = make_warehouse()
    assert warehouse.read_delta({}, None).changed
    with admin.connect() as connection:
        own = _session_id(connection)
        if admin.dialect.name == "postgresql":
            sessions = connection.execute(
                text("SELECT pid FROM pg_stat_activity WHERE application_name = current_setting('application_name')")
            ).scalars()
        else:
            sessions = connection.execute(
                text("SELECT id FROM information_schema.processlist WHERE db = DATABASE()")
            ).scalars()
        victims = [int(s) for s in sessions if int(s) != own]
    assert victims
    for victim in victims:
        _kill(admin, victim)
    assert warehouse.read_delta({}, None).changed
    assert warehouse.apply_stock_changes([StockChange(key="after", product_id="1", delta=-1)])[0].status == APPLIED
    assert stock_of(admin, 1) == 9


def test_applied_table_is_created_once_with_the_documented_columns(
    make_warehouse: Any, sample: Any, admin: Engine
) -> None:
    make_warehouse().ensure_applied_table()
    make_warehouse().ensure_applied_table()
    with admin.connect() as connection:
        columns = connection.execute(text("SELECT * FROM allegro_sync_applied WHERE 1 = 0")).keys()
        assert list(columns) == ["key", "product_id", "delta", "applied_at"]
        assert connection.execute(select(func.count()).select_from(text("allegro_sync_applied"))).scalar() == 0


def test_opting_out_of_the_applied_table_refuses_stock_changes(make_warehouse: Any, sample: Any, admin: Engine) -> None:
    warehouse = make_warehouse(applied_table="")
    warehouse.ensure_applied_table()
    with pytest.raises(ConfigError, match=r"\[warehouse\]\.applied_table is empty"):
        warehouse.apply_stock_changes([StockChange(key="a", product_id="1", delta=-1)])
    assert stock_of(admin, 1) == 10


def test_offer_links_are_written_back(make_warehouse: Any, sample: Any, admin: Engine) -> None:
    warehouse = make_warehouse()
    warehouse.write_offer_links(
        [
            OfferLink(product_id="1", offer_id="7700000001", status="ACTIVE", problem=None),
            OfferLink(product_id="2", offer_id=None, status=None, problem="category 'ZABAWKI' has no mapping"),
        ]
    )
    with admin.connect() as connection:
        rows = connection.execute(
            text("SELECT id, allegro_id, allegro_status, allegro_blad FROM towary WHERE id IN (1, 2) ORDER BY id")
        ).all()
    assert [tuple(r) for r in rows] == [
        (1, "7700000001", "ACTIVE", None),
        (2, None, None, "category 'ZABAWKI' has no mapping"),
    ]


def test_offer_link_statement_may_call_the_status_status(make_warehouse: Any, sample: Any, admin: Engine) -> None:
    warehouse = make_warehouse(offer_linked="UPDATE towary SET allegro_status = :status WHERE id = :product_id")
    warehouse.write_offer_links([OfferLink(product_id="3", offer_id="1", status="ENDED", problem=None)])
    with admin.connect() as connection:
        assert connection.execute(text("SELECT allegro_status FROM towary WHERE id = 3")).scalar() == "ENDED"


def test_without_offer_linked_write_back_is_a_no_op(make_warehouse: Any, sample: Any) -> None:
    make_warehouse(offer_linked=None).write_offer_links(
        [OfferLink(product_id="3", offer_id="1", status="ENDED", problem=None)]
    )


def test_a_locked_row_fails_retryably_and_the_other_changes_still_apply(
    make_warehouse: Any, sample: Any, admin: Engine, warehouse_url: str
) -> None:
    warehouse = make_warehouse(lock_timeout_seconds=0.5)
    warehouse.ensure_applied_table()
    changes = [StockChange(key="locked", product_id="1", delta=-1), StockChange(key="free", product_id="2", delta=-1)]
    with admin.connect() as holder:
        if admin.dialect.name == "sqlite":
            holder.exec_driver_sql("BEGIN IMMEDIATE")  # SQLite locks the whole file
        else:
            holder.begin()
            holder.execute(text("SELECT ilosc FROM stany_magazynowe WHERE towar_id = 1 FOR UPDATE"))
        results = warehouse.apply_stock_changes(changes)
        holder.rollback()
    locked, free = results
    assert (locked.status, locked.retryable) == (FAILED, True)
    assert locked.error is not None and "it will be retried" in locked.error
    if dialect_of(warehouse_url) == "sqlite":
        assert (free.status, free.retryable) == (FAILED, True)
        assert stock_of(admin, 2) == 10
    else:
        assert free.status == APPLIED
        assert stock_of(admin, 2) == 9
    assert stock_of(admin, 1) == 10
    assert [r.status for r in warehouse.apply_stock_changes(changes)] == [
        APPLIED,
        ALREADY if free.status == APPLIED else APPLIED,
    ]
    assert (stock_of(admin, 1), stock_of(admin, 2)) == (9, 9)


def test_a_missing_stock_statement_refuses_instead_of_guessing(make_warehouse: Any, sample: Any, admin: Engine) -> None:
    warehouse = make_warehouse(increment_stock=None)
    assert warehouse.apply_stock_changes([StockChange(key="d", product_id="1", delta=-1)])[0].status == APPLIED
    with pytest.raises(ConfigError, match=r"\[warehouse\]\.increment_stock is not set"):
        warehouse.apply_stock_changes([StockChange(key="i", product_id="1", delta=1)])
    assert stock_of(admin, 1) == 9


def test_a_change_the_database_refuses_fails_alone_and_for_good(
    make_warehouse: Any, sample: Any, admin: Engine
) -> None:
    # Product 2 makes the statement divide by zero: an error about the data, not the statement or the server
    # (SQLite quietly makes it NULL, which the NOT NULL column refuses).
    statement = (
        "UPDATE stany_magazynowe SET ilosc = ilosc - :quantity + 0 * (1 / (towar_id - 2)) WHERE towar_id = :product_id"
    )
    warehouse = make_warehouse(decrement_stock=statement)
    results = warehouse.apply_stock_changes(
        [
            StockChange(key="a", product_id="1", delta=-1),
            StockChange(key="b", product_id="2", delta=-1),
            StockChange(key="c", product_id="3", delta=-1),
        ]
    )
    assert [(r.status, r.retryable) for r in results] == [(APPLIED, False), (FAILED, False), (APPLIED, False)]
    assert results[1].error is not None and results[1].error.startswith("[warehouse].decrement_stock failed: ")
    assert (stock_of(admin, 1), stock_of(admin, 2), stock_of(admin, 3)) == (9, 10, 9)
    assert applied_keys(admin) == ["a", "c"]
