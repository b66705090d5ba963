"""The ledger's schema version: `upgrade` (alembic upgrade head), `current_revision` and the head check."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from adapters.ledger.connect import create_ledger_engine, ledger_url, redact
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
    """Bring the ledger at `url` to the newest revision (creating a SQLite file if there is none)."""
    command.upgrade(alembic_config(url), "head")


def current_revision(url: str) -> str | None:
    """The ledger's alembic revision, or None for an empty database."""
    engine = create_ledger_engine(url)
    try:
        return revision_of(engine)
    finally:
        engine.dispose()


def revision_of(engine: Engine) -> str | None:
    try:
        with engine.connect() as connection:
            heads = MigrationContext.configure(connection).get_current_heads()
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else type(exc.orig).__name__
        raise RetryLater(f"ledger {redact(engine.url)} cannot be read: {reason}") from exc
    return ",".join(sorted(heads)) if heads else None


def check_at_head(engine: Engine) -> None:
    """Raise StopEngine unless the ledger behind `engine` is at the newest revision."""
    url = redact(engine.url)
    # A missing SQLite file is an empty ledger: say so without creating the file.
    found = None if _missing_sqlite_file(engine) else revision_of(engine)
    expected = head_revision()
    if found != expected:
        raise StopEngine(
            f"ledger {url} is at revision {found or '<none>'}, expected {expected}: run `allegro-sync db upgrade`"
        )


def _missing_sqlite_file(engine: Engine) -> bool:
    database = engine.url.database
    if engine.url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return False
    return not Path(database).exists()
