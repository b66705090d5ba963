"""Property: any JSON object payload and any aware timestamp read back from the SQL ledger equal what went in."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import produce_migrations, render_python_code
from alembic.runtime.migration import MigrationContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from adapters.ledger import SqlLedger
from adapters.ledger.coltypes import render_item
from adapters.ledger.connect import create_ledger_engine
from adapters.ledger.tables import metadata

from .builders import new_event

text = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)  # JSON cannot carry lone surrogates
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | text
)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4)
)
payloads = st.dictionaries(text, json_values, max_size=6)
instants = st.datetimes(
    min_value=datetime(1970, 1, 2),
    max_value=datetime(9998, 12, 30),
    timezones=st.integers(-1439, 1439).map(lambda minutes: timezone(timedelta(minutes=minutes))),
)
counter = itertools.count()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def sql_ledger(request: pytest.FixtureRequest) -> Iterator[SqlLedger]:
    if request.param == "sqlite":
        engine = create_ledger_engine(request.getfixturevalue("sqlite_url"))
        yield SqlLedger(engine)
        engine.dispose()
    else:
        pg: Engine = request.getfixturevalue("pg_ledger_engine")
        yield SqlLedger(pg)  # the session's engine; disposed by its fixture


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=payloads, occurred_at=instants)
def test_payloads_and_timestamps_read_back_unchanged(
    sql_ledger: SqlLedger, payload: dict[str, Any], occurred_at: datetime
) -> None:
    [stored] = sql_ledger.append([new_event(f"prop-{next(counter)}", payload=payload, occurred_at=occurred_at)])

    [read] = list(sql_ledger.events(after_seq=stored.seq - 1, until_seq=stored.seq))

    assert read == stored
    assert read.payload == payload
    assert read.occurred_at == occurred_at and read.occurred_at.tzinfo is UTC


def test_autogenerate_writes_timestamps_as_plain_sqlalchemy_types(tmp_path: Path) -> None:
    engine = create_ledger_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"render_item": render_item})
            operations = produce_migrations(context, metadata).upgrade_ops
            assert operations is not None
            code = render_python_code(operations, render_item=render_item)
    finally:
        engine.dispose()

    assert 'sa.String(32).with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql")' in code
    assert "UtcDateTime" not in code
