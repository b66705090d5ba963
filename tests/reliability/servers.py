"""Warehouse (or ledger) databases on real servers for the campaigns: a schema of our own on the local
PostgreSQL, a database of our own on the local MariaDB, or a MariaDB server of the test's own."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from tests.databases import MYSQL_CANDIDATES, PG_CANDIDATES
from tests.reliability.private_mariadb import PrivateMariaDB, missing

SERVERS = {  # server: (environment variable, default URLs, pytest marker)
    "postgres": ("ALLEGRO_SYNC_PG_URL", PG_CANDIDATES, pytest.mark.postgres),
    "mariadb": ("ALLEGRO_SYNC_MYSQL_URL", MYSQL_CANDIDATES, pytest.mark.mariadb),
    "mariadb-private": ("", (), pytest.mark.mariadb),
}


@dataclass(slots=True)
class ServerWarehouse:
    """A schema (PostgreSQL) or database (MariaDB) of our own on a local server. Our connections are told
    apart from everybody else's (PostgreSQL: an application_name of our own; MariaDB: the database they
    use), so that killing them never touches another session."""

    kill: Callable[[], int]
    url: str
    killed: int = 0
    killed_in_transaction: int = 0
    private: PrivateMariaDB | None = None
    """Set when the server is the test's own (it can be killed and started again)."""

    def kill_ours(self) -> int:
        count = self.kill()
        self.killed += count
        return count


@contextmanager
def server_warehouse(server: str) -> Iterator[ServerWarehouse]:
    from sqlalchemy.engine import make_url

    if server == "mariadb-private":
        yield from _private_mariadb()
        return
    variable, candidates, _ = SERVERS[server]
    problems = []
    for candidate in [os.environ[variable]] if os.environ.get(variable) else candidates:
        url = make_url(candidate)
        name = f"reliability_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        try:
            opened = _pg_schema(url, name) if server == "postgres" else _mariadb_database(url, name)
            warehouse = next(opened)
        except Exception as exc:  # the driver's own connection error, whatever its class
            problems.append(str(exc).strip().splitlines()[0])
            continue
        try:
            yield warehouse
        finally:
            opened.close()
        return
    message = f"{server} is not reachable ({variable}): {problems}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def _pg_schema(server: Any, name: str) -> Iterator[ServerWarehouse]:
    import psycopg

    admin = psycopg.connect(
        server.set(drivername="postgresql").render_as_string(hide_password=False), autocommit=True, connect_timeout=3
    )
    admin.execute(f'CREATE SCHEMA "{name}"')

    def kill() -> int:
        sql = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s"
        return len(admin.execute(sql, (name,)).fetchall())

    url = server.update_query_dict({"options": f"-csearch_path={name}", "application_name": name})
    try:
        yield ServerWarehouse(kill, url.render_as_string(hide_password=False))
    finally:
        admin.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        admin.close()


def _mariadb_database(server: Any, name: str) -> Iterator[ServerWarehouse]:
    import pymysql

    admin = pymysql.connect(
        host=server.host,
        port=server.port or 3306,
        user=server.username,
        password=server.password or "",
        database=server.database,
        autocommit=True,
        connect_timeout=3,
    )
    with admin.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")

    def kill() -> int:
        with admin.cursor() as cursor:
            cursor.execute("SELECT ID FROM information_schema.PROCESSLIST WHERE DB = %s", (name,))
            ids = [row[0] for row in cursor.fetchall()]
            for connection_id in ids:
                try:
                    cursor.execute(f"KILL CONNECTION {int(connection_id)}")
                except pymysql.err.OperationalError:
                    continue  # it ended on its own meanwhile
        return len(ids)

    try:
        yield ServerWarehouse(kill, server.set(database=name).render_as_string(hide_password=False))
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()


def _private_mariadb() -> Iterator[ServerWarehouse]:
    reason = missing()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    private = PrivateMariaDB()
    try:
        private.start()
        yield ServerWarehouse(lambda: 0, private.url, private=private)
    finally:
        private.close()
