"""Start-up validation and error classification: messages name the config key and the fix, never the password."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from adapters.warehouse import SqlWarehouse, WarehouseConfig
from adapters.warehouse.config import expand_url
from demo import create_sample_warehouse
from demo.sample import SAMPLE_SQL
from engine.errors import ConfigError, RetryLater
from engine.model import KnownProduct, StockChange
from tests.warehouse.conftest import dialect_of

SECRET = "s3cr3t-Pa55w0rd"


@pytest.fixture
def sample(admin: Engine) -> Any:
    return create_sample_warehouse(admin, products=25, seed=9)


def test_sample_configuration_validates(make_warehouse: Any, sample: Any) -> None:
    make_warehouse().start()


def test_missing_column_is_named(make_warehouse: Any, sample: Any) -> None:
    warehouse = make_warehouse(products_query="SELECT id AS product_id, nazwa AS title FROM towary")
    with pytest.raises(ConfigError) as raised:
        warehouse.validate()
    assert str(raised.value).startswith(
        "[warehouse].products_query: missing column 'stock'; expected a SELECT returning at least product_id and stock"
    )


def test_mistyped_column_is_named(make_warehouse: Any, sample: Any) -> None:
    warehouse = make_warehouse(products_query="SELECT id AS product_id, nazwa AS stock FROM towary")
    with pytest.raises(ConfigError, match=r"column 'stock' holds .* in every sampled row; expected whole numbers"):
        warehouse.validate()


def test_a_statement_that_is_not_a_select_is_refused_before_connecting(warehouse_url: str) -> None:
    with pytest.raises(ConfigError, match=r"\[warehouse\]\.products_query is not a SELECT \(it starts with 'DELETE'\)"):
        SqlWarehouse(WarehouseConfig(url=warehouse_url, **{**SAMPLE_SQL, "products_query": "DELETE FROM towary"}))


def test_missing_table_names_the_key_and_the_database_message(make_warehouse: Any, sample: Any) -> None:
    warehouse = make_warehouse(products_query="SELECT id AS product_id, 1 AS stock FROM towary_stare")
    with pytest.raises(ConfigError) as raised:
        warehouse.validate()
    message = str(raised.value)
    assert message.startswith("[warehouse].products_query failed on ")
    assert "towary_stare" in message and "fix the statement in config.toml" in message


def test_statement_without_its_parameters_is_refused(warehouse_url: str) -> None:
    with pytest.raises(ConfigError, match=r"\[warehouse\]\.decrement_stock does not use :quantity"):
        SqlWarehouse(
            WarehouseConfig(
                url=warehouse_url, **{**SAMPLE_SQL, "decrement_stock": "UPDATE t SET a = 0 WHERE id = :product_id"}
            )
        )


def test_reserved_word_condition_as_a_column(make_warehouse: Any, admin: Engine) -> None:
    condition = admin.dialect.identifier_preparer.quote("condition")
    with admin.begin() as connection:
        connection.execute(
            text(
                f"CREATE TABLE produkty (id INTEGER PRIMARY KEY, {condition} CHAR(1), "
                "stock INTEGER, updated_at INTEGER)"
            )
        )
        connection.execute(
            text(f"INSERT INTO produkty (id, {condition}, stock, updated_at) VALUES (1, 'N', 5, 100), (2, 'U', 1, 200)")
        )
    warehouse = make_warehouse(
        products_query=f"SELECT id AS product_id, {condition}, stock, updated_at FROM produkty",
        stock_query="SELECT id AS product_id, stock FROM produkty",
        decrement_stock="UPDATE produkty SET stock = stock - :quantity WHERE id = :product_id",
        increment_stock="UPDATE produkty SET stock = stock + :quantity WHERE id = :product_id",
        offer_linked=None,
    )
    warehouse.validate()
    first = warehouse.read_delta({}, None)
    assert [(r.product_id, r.condition) for r in first.changed] == [("1", "N"), ("2", "U")]
    assert first.watermark == "int:200"
    with admin.begin() as connection:
        connection.execute(text(f"UPDATE produkty SET {condition} = 'U', updated_at = 300 WHERE id = 1"))
    known = {r.product_id: _known(r) for r in first.changed}
    delta = warehouse.read_delta(known, first.watermark)
    assert [(r.product_id, r.condition) for r in delta.changed] == [("1", "U")]
    assert delta.watermark == "int:300"


def _known(row: Any) -> KnownProduct:
    return KnownProduct(row_hash=row.row_hash, stock=row.stock)


@pytest.mark.mariadb
def test_unquoted_condition_on_mariadb_gets_a_hint(mariadb_url: str) -> None:
    query = "SELECT 1 AS product_id, 1 AS stock, 'N' AS condition"
    warehouse = SqlWarehouse(WarehouseConfig(url=mariadb_url, **{**SAMPLE_SQL, "products_query": query}))
    try:
        with pytest.raises(ConfigError, match="write AS `condition`"):
            warehouse.validate()
    finally:
        warehouse.close()


@pytest.mark.parametrize(
    "url",
    [
        f"mysql+pymysql://shop:{SECRET}@127.0.0.1:1/shop",
        f"postgresql+psycopg://shop:{SECRET}@127.0.0.1:1/shop",
    ],
    ids=["mariadb", "postgres"],
)
def test_unreachable_database_is_retry_later_without_the_password(url: str) -> None:
    warehouse = SqlWarehouse(WarehouseConfig(url=url, **SAMPLE_SQL, connect_timeout_seconds=2))
    try:
        with pytest.raises(RetryLater) as raised:
            warehouse.read_delta({}, None)
        with pytest.raises(RetryLater) as applying:
            warehouse.apply_stock_changes([StockChange(key="a", product_id="1", delta=-1)])
    finally:
        warehouse.close()
    for error in (raised.value, applying.value):
        message = str(error)
        assert SECRET not in message and SECRET not in repr(error)
        assert "127.0.0.1:1" in message and "***" in message
        assert "check that the server is running" in message
    assert SECRET not in repr(warehouse) and SECRET not in repr(warehouse.config)


def test_password_from_the_environment_never_reaches_messages(
    warehouse_url: str, sample: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    if dialect_of(warehouse_url) == "sqlite":
        pytest.skip("SQLite URLs carry no password")
    monkeypatch.setenv("WAREHOUSE_TEST_PASSWORD", SECRET)
    url = make_url(warehouse_url).set(password="${WAREHOUSE_TEST_PASSWORD}").render_as_string(hide_password=False)
    config = WarehouseConfig(
        url=url, **{**SAMPLE_SQL, "products_query": "SELECT x AS product_id, 1 AS stock FROM brak"}
    )
    warehouse = SqlWarehouse(config)
    try:
        with pytest.raises((ConfigError, RetryLater)) as raised:
            warehouse.validate()
    finally:
        warehouse.close()
    assert SECRET not in str(raised.value) and SECRET not in repr(raised.value)
    assert SECRET not in repr(config) and "${WAREHOUSE_TEST_PASSWORD}" not in str(raised.value)


def test_url_placeholders_are_expanded_per_part() -> None:
    url = expand_url(
        "mysql+pymysql://${DB_USER}:${DB_PASSWORD}@db.example.invalid:3306/${DB_NAME}",
        {"DB_USER": "shop", "DB_PASSWORD": "p@ss/w:rd", "DB_NAME": "sklep"},
    )
    assert (url.username, url.password, url.host, url.database) == ("shop", "p@ss/w:rd", "db.example.invalid", "sklep")
    with pytest.raises(
        ConfigError, match=r"\$\{DB_PASSWORD\}, which is not set in the environment; export DB_PASSWORD"
    ):
        expand_url("mysql+pymysql://shop:${DB_PASSWORD}@db/sklep", {})


def test_config_repr_hides_a_literal_password() -> None:
    config = WarehouseConfig(url=f"postgresql+psycopg://shop:{SECRET}@db/sklep", **SAMPLE_SQL)
    assert SECRET not in repr(config)
    assert config.display_url == "postgresql+psycopg://shop:***@db/sklep"


def test_sqlite_file_in_a_missing_folder_is_a_url_problem(tmp_path: Any) -> None:
    warehouse = SqlWarehouse(WarehouseConfig(url=f"sqlite:///{tmp_path}/nie/ma/warehouse.db", **SAMPLE_SQL))
    try:
        with pytest.raises(ConfigError, match=r"^\[warehouse\]\.url: cannot use database sqlite:///.*fix the URL"):
            warehouse.read_delta({}, None)
    finally:
        warehouse.close()


@pytest.mark.postgres
def test_missing_postgres_database_is_a_url_problem(postgres_url: str) -> None:
    url = make_url(postgres_url).set(database="allegro_sync_no_such_db").render_as_string(hide_password=False)
    warehouse = SqlWarehouse(WarehouseConfig(url=url, **SAMPLE_SQL))
    try:
        with pytest.raises(ConfigError, match=r"^\[warehouse\]\.url: cannot use database .*allegro_sync_no_such_db"):
            warehouse.validate()
    finally:
        warehouse.close()


def test_a_broken_stock_statement_is_found_at_start_up_without_running_it(
    make_warehouse: Any, sample: Any, admin: Engine
) -> None:
    make_warehouse().validate()  # the sample's statements are fine, and EXPLAIN changes nothing:
    with admin.connect() as connection:
        assert connection.execute(text("SELECT SUM(ilosc) FROM stany_magazynowe")).scalar() == sum(
            connection.execute(text("SELECT ilosc FROM stany_magazynowe")).scalars()
        )
    broken = make_warehouse(decrement_stock="UPDATE stany SET ilosc = ilosc - :quantity WHERE towar_id = :product_id")
    with pytest.raises(ConfigError, match=r"^\[warehouse\]\.decrement_stock failed on .*stany"):
        broken.validate()
    misspelt = make_warehouse(offer_linked="UPDATE towary SET allegro_idd = :offer_id WHERE id = :product_id")
    with pytest.raises(ConfigError, match=r"^\[warehouse\]\.offer_linked failed on .*allegro_idd"):
        misspelt.validate()
