"""Driver exceptions classified at the adapter boundary: retry later, fix the configuration, or skip one change."""

from __future__ import annotations

from enum import Enum

from sqlalchemy import exc as sa_exc

from engine.errors import ConfigError, RetryLater, SyncError


class Failure(Enum):
    RETRY = "retry"
    """The database is unreachable, restarting, or a lock/deadlock/timeout hit: the same thing may work later."""
    CONFIG = "config"
    """The configured SQL or URL is wrong (syntax, missing table or column, access denied)."""
    ITEM = "item"
    """This one statement failed on its data (constraint, out of range): retrying will not help."""
    DUPLICATE = "duplicate"
    """A unique key already exists (the applied-key table: the change was already applied)."""


_MYSQL_RETRY = {1040, 1053, 1205, 1213, 1317, 1927, 1969, 2002, 2003, 2005, 2006, 2013, 2014, 2055, 3024}
_MYSQL_CONFIG = {
    1044,
    1045,
    1046,
    1049,
    1052,
    1054,
    1060,
    1064,
    1109,
    1142,
    1143,
    1146,
    1149,
    1248,
    1305,
    1327,
    1630,
}
_MYSQL_DUPLICATE = {1062, 1586}
_MYSQL_ITEM = {1048, 1264, 1292, 1365, 1366, 1406, 1451, 1452, 1690, 3819, 4025}
_PG_RETRY_PREFIXES = ("08", "40", "53", "57", "55P03", "58")
_PG_CONFIG_PREFIXES = ("42", "28", "3D", "3F", "0A")
_SQLITE_RETRY = ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_IOERR", "SQLITE_PROTOCOL", "SQLITE_INTERRUPT")
_SQLITE_DUPLICATE = ("SQLITE_CONSTRAINT_PRIMARYKEY", "SQLITE_CONSTRAINT_UNIQUE")


def classify(error: BaseException) -> Failure:
    """What the caller should do about `error` (a SQLAlchemy exception wrapping a driver exception)."""
    if isinstance(error, sa_exc.TimeoutError):  # pool exhausted
        return Failure.RETRY
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return Failure.RETRY
        by_code = _by_code(error.orig)
        if by_code is not None:
            return by_code
        if isinstance(error, sa_exc.IntegrityError | sa_exc.DataError):
            return Failure.ITEM
        if isinstance(error, sa_exc.ProgrammingError | sa_exc.NotSupportedError):
            return Failure.CONFIG
        return Failure.RETRY
    if isinstance(error, sa_exc.StatementError | sa_exc.ArgumentError):
        return Failure.CONFIG
    return Failure.RETRY


def _by_code(orig: BaseException | None) -> Failure | None:
    if orig is None:
        return None
    sqlite_name = getattr(orig, "sqlite_errorname", None)
    if isinstance(sqlite_name, str):
        if sqlite_name.startswith(_SQLITE_DUPLICATE):
            return Failure.DUPLICATE
        if sqlite_name.startswith(_SQLITE_RETRY):
            return Failure.RETRY
        if sqlite_name.startswith(("SQLITE_CONSTRAINT", "SQLITE_MISMATCH", "SQLITE_TOOBIG")):
            return Failure.ITEM
        return Failure.CONFIG  # SQLITE_ERROR (syntax, no such table/column), READONLY, CANTOPEN, AUTH
    sqlstate = getattr(orig, "sqlstate", None)
    module = type(orig).__module__
    if module.startswith("psycopg"):
        if not isinstance(sqlstate, str):
            # A connection-level failure; a refused login or a missing database will not heal by waiting.
            text = str(orig).lower()
            if "authentication failed" in text or ("database" in text and "does not exist" in text):
                return Failure.CONFIG
            return Failure.RETRY
        if sqlstate == "23505":
            return Failure.DUPLICATE
        if sqlstate.startswith(_PG_RETRY_PREFIXES):
            return Failure.RETRY
        if sqlstate.startswith(_PG_CONFIG_PREFIXES):
            return Failure.CONFIG
        if sqlstate.startswith(("22", "23", "P0")):
            return Failure.ITEM
        return None
    if module.startswith("pymysql") and orig.args and isinstance(orig.args[0], int):
        code = orig.args[0]
        if code in _MYSQL_DUPLICATE:
            return Failure.DUPLICATE
        if code in _MYSQL_RETRY:
            return Failure.RETRY
        if code in _MYSQL_CONFIG:
            return Failure.CONFIG
        if code in _MYSQL_ITEM:
            return Failure.ITEM
        return None
    return None


def database_message(error: BaseException) -> str:
    """The database's own message, without SQLAlchemy's statement and parameter dump."""
    if isinstance(error, sa_exc.DBAPIError) and error.orig is not None:
        orig = error.orig
        if orig.args and isinstance(orig.args[0], int) and len(orig.args) > 1:  # PyMySQL: (code, text)
            return f"({orig.args[0]}) {orig.args[1]}"
        return str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    if isinstance(error, sa_exc.StatementError):
        return str(error.orig if error.orig is not None else error).split("\n")[0]
    return str(error).split("\n")[0] or type(error).__name__


def to_engine_error(error: BaseException, *, key: str, database: str, secret: str | None = None) -> SyncError:
    """Translate a driver error met while running `[warehouse].<key>` into RetryLater or ConfigError.

    `database` is the URL with its password hidden; `secret` (the password) is scrubbed from the message
    in case a driver echoes it.
    """
    message = database_message(error)
    if classify(error) is Failure.RETRY:
        text = (
            f"warehouse database {database} is unavailable while running [warehouse].{key}: {message}; "
            "check that the server is running and reachable (allegro-sync retries on the next cycle)"
        )
        result: SyncError = RetryLater(_scrub(text, secret))
    elif key == "url":
        text = (
            f"[warehouse].url: cannot use database {database}: {message}; fix the URL in config.toml "
            "(or the environment variable it refers to) or the database user's rights"
        )
        result = ConfigError(_scrub(text, secret))
    else:
        hint = _hint(message)
        text = f"[warehouse].{key} failed on {database}: {message}{hint}; fix the statement in config.toml"
        result = ConfigError(_scrub(text, secret))
    return result


def _hint(message: str) -> str:
    lowered = message.lower()
    if "condition" in lowered and ("syntax" in lowered or "1064" in lowered):
        return " (`condition` is a reserved word in MySQL/MariaDB: write AS `condition`)"
    return ""


def _scrub(text: str, secret: str | None) -> str:
    return text.replace(secret, "***") if secret else text
