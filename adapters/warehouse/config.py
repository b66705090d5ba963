"""The `[warehouse]` settings of the SQL adapter, as a frozen object, and `${VAR}` expansion of its URL."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from engine.errors import ConfigError

DEFAULT_APPLIED_TABLE = "allegro_sync_applied"

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class WarehouseConfig:
    """The `[warehouse]` section of config.toml; field names are the TOML keys.

    `url` may hold `${VAR}` placeholders (typically the password), expanded from the environment when the
    adapter connects. `applied_table` names the table of applied stock-change keys that the adapter keeps in
    the warehouse database (created on start-up if missing). Setting it to None or "" opts out of that
    table: the adapter then still reads products and writes offer links, but refuses to apply stock changes,
    because without the key table nothing makes a decrement exactly-once across crashes and retries.
    """

    url: str
    products_query: str
    decrement_stock: str | None = None
    """Required to apply decrements (orders); without it `apply_stock_changes` refuses with a ConfigError."""
    increment_stock: str | None = None
    """Required to apply increments (cancellations)."""
    stock_query: str | None = None
    offer_linked: str | None = None
    applied_table: str | None = DEFAULT_APPLIED_TABLE
    updated_at_overlap_seconds: float = 300
    """Rows with `updated_at > watermark - overlap` are read again: equal timestamps and late commits are not lost."""
    connect_timeout_seconds: float = 10.0
    statement_timeout_seconds: float | None = 60.0
    """A hint passed to the server (PostgreSQL statement_timeout, MariaDB max_statement_time); None: no limit."""
    lock_timeout_seconds: float = 10.0
    """How long a stock statement waits for a row or table lock before it fails as retryable."""

    def __post_init__(self) -> None:
        for key in ("url", "products_query"):
            if not str(getattr(self, key) or "").strip():
                raise ConfigError(
                    f"[warehouse].{key} is empty; it is required (see the README, 'Connect your warehouse')"
                )
        if self.updated_at_overlap_seconds < 0:
            raise ConfigError(
                f"[warehouse].updated_at_overlap_seconds is {self.updated_at_overlap_seconds}; expected 0 or more"
            )
        if self.connect_timeout_seconds <= 0 or self.lock_timeout_seconds <= 0:
            raise ConfigError("[warehouse] timeouts must be positive numbers of seconds")

    @property
    def uses_applied_table(self) -> bool:
        return bool(self.applied_table and self.applied_table.strip())

    @property
    def display_url(self) -> str:
        """The URL with the password hidden (placeholders are shown as written)."""
        return safe_url_text(self.url)

    def __repr__(self) -> str:
        return f"WarehouseConfig(url={self.display_url!r}, applied_table={self.applied_table!r})"


def safe_url_text(url: str | URL) -> str:
    """A URL for messages and logs: never the password."""
    try:
        parsed = url if isinstance(url, URL) else make_url(url)
    except ArgumentError:
        return "<unparseable [warehouse].url>"
    return parsed.render_as_string(hide_password=True)


def expand_url(url: str, environ: dict[str, str] | None = None) -> URL:
    """Parse `url` and replace `${VAR}` placeholders in each part by the environment variable's value.

    Placeholders are replaced after parsing, so a password may contain `@`, `/` or `:` unescaped.
    """
    env = os.environ if environ is None else environ
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(
            f"[warehouse].url is not a database URL ({safe_url_text(url)}); expected e.g. "
            "'mysql+pymysql://user:${WAREHOUSE_PASSWORD}@host:3306/db'"
        ) from exc

    def expand(part: str | None) -> str | None:
        if part is None or "${" not in part:
            return part

        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in env:
                raise ConfigError(
                    f"[warehouse].url refers to ${{{name}}}, which is not set in the environment; "
                    f"export {name} before starting allegro-sync"
                )
            return env[name]

        return _PLACEHOLDER.sub(one, part)

    query = {k: (expand(v) if isinstance(v, str) else v) for k, v in parsed.query.items()}
    return parsed.set(
        username=expand(parsed.username),
        password=expand(None if parsed.password is None else str(parsed.password)),
        host=expand(parsed.host),
        database=expand(parsed.database),
        query=query,  # type: ignore[arg-type]
    )
