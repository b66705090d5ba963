"""The ledger's schema version: `upgrade` (alembic upgrade head), `current_revision` and the head check."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from adapters.ledger.connect import create_ledger_engine, driver_reason, ledger_url, redact
from engine.errors import RetryLater, StopEngine

# migrations/ sits next to adapters/, in the checkout and in an installed wheel alike.
MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(url: str | None = None) -> Config:
    """An alembic Config for the packaged migrations, independent of the working directory."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        # ConfigParser interpolation: a literal % in a password must be doubled.
        config.set_main_option("sqlalchemy.url", ledger_url(url).render_as_string(False).replace("%", "%%"))
    return config


def head_revision() -> str:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    return ",".join(sorted(heads))


def upgrade(url: str) -> None:
    """Bring the ledger at `url` to the newest revision (creating a SQLite file if there is none).

    Raises StopEngine, naming the ledger without its password, when the database cannot be reached or written.
    """
    try:
        command.upgrade(alembic_config(url), "head")
    except DBAPIError as exc:
        raise StopEngine(f"ledger {redact(url)} cannot be upgraded: {driver_reason(exc)}") from exc


def current_revision(url: str) -> str | None:
    """The ledger's alembic revision, or None for an empty database (a missing SQLite file is not created)."""
    engine = create_ledger_engine(url)
    try:
        return revision_of(engine)
    finally:
        engine.dispose()


def revision_of(engine: Engine) -> str | None:
    if _missing_sqlite_file(engine):
        return None
    try:
        with engine.connect() as connection:
            heads = MigrationContext.configure(connection).get_current_heads()
    except DBAPIError as exc:
        raise RetryLater(f"ledger {redact(engine.url)} cannot be read: {driver_reason(exc)}") from exc
    return ",".join(sorted(heads)) if heads else None


def check_at_head(engine: Engine) -> None:
    """Raise StopEngine unless the ledger behind `engine` is at the newest revision."""
    found = revision_of(engine)
    expected = head_revision()
    if found != expected:
        ledger = redact(engine.url)
        raise StopEngine(
            f"ledger {ledger} is at revision {found or '<none>'}, expected {expected}: run `allegro-sync db upgrade`"
        )


def _missing_sqlite_file(engine: Engine) -> bool:
    """A SQLite ledger whose file does not exist yet: an empty ledger, found without creating the file."""
    database = engine.url.database
    if engine.url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return False
    return not Path(database).exists()
