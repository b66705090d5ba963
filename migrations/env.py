"""Alembic environment: the ledger's metadata, the URL from `-x url=`, the caller or the environment."""

from __future__ import annotations

import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection

from adapters.ledger.coltypes import render_item
from adapters.ledger.connect import create_ledger_engine
from adapters.ledger.tables import metadata

config = context.config

# The `alembic` command line logs through alembic.ini; programmatic callers keep their own logging.
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def ledger_url() -> str:
    """`-x url=...` first, then the URL set by `adapters.ledger.schema.upgrade`, then the environment."""
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    url = url or os.environ.get("ALLEGRO_SYNC_STATE_URL")
    if not url:
        raise SystemExit(
            "no ledger URL: run `allegro-sync db upgrade`, or `alembic -x url=sqlite:///state.db upgrade head`, "
            "or set ALLEGRO_SYNC_STATE_URL"
        )
    return url


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=True,
        render_item=render_item,
        # Our SQLite connections BEGIN explicitly (adapters/ledger/connect.py), so DDL there is transactional
        # too: a migration that fails half-way leaves nothing behind.
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    context.configure(
        url=ledger_url(),
        target_metadata=metadata,
        render_as_batch=True,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    engine = create_ledger_engine(ledger_url())
    try:
        with engine.connect() as connection:
            run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
