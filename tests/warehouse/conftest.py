"""One contract suite, three databases: SQLite (a temp file), MariaDB and PostgreSQL (a private database/schema)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from adapters.warehouse import SqlWarehouse, WarehouseConfig
from demo.sample import sample_sql
from tests.databases import MYSQL_CANDIDATES, PG_CANDIDATES

MYSQL_DEFAULT = MYSQL_CANDIDATES[0]
PG_DEFAULT = PG_CANDIDATES[0]
RUN_ID = uuid.uuid4().hex[:10]
PRIVATE = f"allegro_sync_test_{RUN_ID}"
RESETS: dict[str, Callable[[], None]] = {}


def _unreachable(name: str, url: str, env: str, error: Exception) -> None:
    shown = make_url(url).render_as_string(hide_password=True)
    message = f"{name} not reachable at {shown}: start it or set {env} ({type(error).__name__})"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def mariadb_url() -> Iterator[str]:
    """A private database on the MariaDB server, dropped at the end of the session."""
    base = os.environ.get("ALLEGRO_SYNC_MYSQL_URL", MYSQL_DEFAULT)
    admin = create_engine(base)
    try:
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {PRIVATE} CHARACTER SET utf8mb4"))
    except Exception as error:
        admin.dispose()
        _unreachable("MariaDB", base, "ALLEGRO_SYNC_MYSQL_URL", error)

    def reset() -> None:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE {PRIVATE}"))
            connection.execute(text(f"CREATE DATABASE {PRIVATE} CHARACTER SET utf8mb4"))

    RESETS["mysql"] = reset
    try:
        yield make_url(base).set(database=PRIVATE).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {PRIVATE}"))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A private schema on the PostgreSQL server (search_path set through the URL), dropped at the end."""
    base = os.environ.get("ALLEGRO_SYNC_PG_URL", PG_DEFAULT)
    admin = create_engine(base)
    try:
        with admin.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {PRIVATE}"))
    except Exception as error:
        admin.dispose()
        _unreachable("PostgreSQL", base, "ALLEGRO_SYNC_PG_URL", error)
    url = make_url(base).update_query_dict({"options": f"-csearch_path={PRIVATE}", "application_name": PRIVATE})

    def reset() -> None:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {PRIVATE} CASCADE"))
            connection.execute(text(f"CREATE SCHEMA {PRIVATE}"))

    RESETS["postgresql"] = reset
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {PRIVATE} CASCADE"))
        admin.dispose()


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("mariadb", marks=pytest.mark.mariadb),
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
def warehouse_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """The URL of an empty warehouse database for one test, on each backend in turn."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'warehouse.db'}"
    url: str = request.getfixturevalue(f"{request.param}_url")
    RESETS[dialect_of(url)]()  # a fresh, empty database (MariaDB) or schema (PostgreSQL) for each test
    return url


@pytest.fixture
def admin(warehouse_url: str) -> Iterator[Engine]:
    """A separate engine on the same database, for arranging data and killing sessions."""
    engine = create_engine(warehouse_url)
    yield engine
    engine.dispose()


def dialect_of(url: str) -> str:
    return make_url(url).get_backend_name()


def sample_config(url: str, **overrides: Any) -> WarehouseConfig:
    """The sample warehouse's configuration for `url`, with some keys replaced."""
    values: dict[str, Any] = dict(sample_sql(dialect_of(url)))
    values.update(overrides)
    return WarehouseConfig(url=url, **values)


@pytest.fixture
def open_warehouses() -> Iterator[list[SqlWarehouse]]:
    """Adapters made by a test, closed at its end (pools must not outlive the test)."""
    made: list[SqlWarehouse] = []
    yield made
    for warehouse in made:
        warehouse.close()


@pytest.fixture
def make_warehouse(warehouse_url: str, open_warehouses: list[SqlWarehouse]) -> Any:
    def make(**overrides: Any) -> SqlWarehouse:
        before_commit = overrides.pop("before_commit", None)
        warehouse = SqlWarehouse(sample_config(warehouse_url, **overrides), before_commit=before_commit)
        open_warehouses.append(warehouse)
        return warehouse

    return make
