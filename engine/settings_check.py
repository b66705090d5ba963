"""Validation primitives for `engine.settings`: read one TOML table, collect one message per mistake.

Every message has the form `<where>: <what was found>; expected <what is expected>`, where `<where>` is
`[section].key` (or `[section].table.key` inside inline tables). Nothing here raises until
`Checker.raise_if_any()`, so the user sees every mistake at once.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final
from urllib.parse import quote, urlsplit

from engine.errors import ConfigError

_MISSING: Final = object()
_PLACEHOLDER: Final = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_USERINFO_PASSWORD: Final = re.compile(r"^(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^:/@?#]*:)[^@/?#]*@")
_SECRET_LIKE: Final = re.compile(r"secret|password|passwd|pwd|token(?!_file)|api_key|apikey", re.I)
_GENERIC_SECRET_HINT: Final = (
    "remove it and pass it through the environment (ALLEGRO_CLIENT_SECRET, or ${VAR} inside a database URL)"
)


def _quoted(text: str) -> str:
    """`text` in double quotes, with anything unprintable escaped so a message stays on one line."""
    quoted = json.dumps(text, ensure_ascii=False)
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in quoted)


def found(value: object) -> str:
    """A short TOML-like rendering of a found value for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _quoted(value if len(value) <= 60 else value[:57] + "...")
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return f"a {type(value).__name__}"


def mask_url(url: str, secrets: Iterable[str] = ()) -> str:
    """`url` with its user-info password and every given secret value replaced by `***`."""
    masked = _USERINFO_PASSWORD.sub(r"\g<head>***@", url)
    for value in secrets:
        if value:
            masked = masked.replace(value, "***")
    return masked


def is_loopback(host: str) -> bool:
    """Whether a listening address stays on this machine (the metrics endpoint and the emulator warn if not)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def sql_head(sql: str) -> str:
    """The first keyword of a statement, upper-cased, after comments, blanks and opening parentheses."""
    text = re.sub(r"--[^\n]*|/\*.*?\*/", " ", sql, flags=re.S).lstrip(" \t\r\n(")
    match = re.match(r"[A-Za-z]+", text)
    return match.group(0).upper() if match else ""


def expand_placeholders(template: str, env: Mapping[str, str]) -> tuple[str, list[str], list[str]]:
    """Replace `${VAR}` from `env` (percent-encoded in user-info): (url, values used, missing names)."""
    values: list[str] = []
    missing: list[str] = []
    scheme_end = template.find("://")
    netloc_start = scheme_end + 3 if scheme_end >= 0 else 0
    netloc_end = len(template)
    for stop in "/?#":
        index = template.find(stop, netloc_start)
        if index >= 0:
            netloc_end = min(netloc_end, index)
    userinfo_end = template.rfind("@", netloc_start, netloc_end) if scheme_end >= 0 else -1

    def replace(match: re.Match[str]) -> str:
        value = env.get(match.group(1))
        if value is None:
            missing.append(match.group(1))
            return match.group(0)
        encoded = quote(value, safe="") if match.start() < userinfo_end else value
        values.extend({value, encoded})
        return encoded

    return _PLACEHOLDER.sub(replace, template), values, missing


def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _quoted(key)


def _range_text(kind: str, minimum: float | None, maximum: float | None, exclusive_minimum: bool) -> str:
    parts = []
    if minimum is not None:
        parts.append(f"{'>' if exclusive_minimum else '>='} {minimum:g}")
    if maximum is not None:
        parts.append(f"<= {maximum:g}")
    return f"{kind} {' and '.join(parts)}".strip()


class Checker:
    """Collects problems across the whole file; `raise_if_any` raises one `ConfigError` with all of them."""

    def __init__(self, *, env: Mapping[str, str], base: Path) -> None:
        self.env = env
        self.base = base
        self.problems: list[str] = []

    def add(self, message: str) -> None:
        self.problems.append(message)

    def raise_if_any(self) -> None:
        if self.problems:
            raise ConfigError("\n".join(self.problems))

    def top_level(self, raw: Mapping[str, Any], known: tuple[str, ...]) -> None:
        for key, value in raw.items():
            if not isinstance(value, dict):
                self.add(f"{_key(key)}: found a key outside any section; expected it in a section like [engine]")
            elif key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                hint = (
                    f"did you mean [{close[0]}]?" if close else "expected one of " + ", ".join(f"[{k}]" for k in known)
                )
                self.add(f"[{_key(key)}]: unknown section; {hint}")

    def section(
        self,
        raw: Mapping[str, Any],
        name: str,
        known: tuple[str, ...],
        *,
        required: bool = False,
        forbidden: Mapping[str, str] | None = None,
    ) -> Section:
        value = raw.get(name, _MISSING)
        if value is _MISSING and required:
            self.add(f"[{name}]: missing; expected a [{name}] section (see the shipped config.toml)")
        section = Section(self, name, f"[{name}]", value if isinstance(value, dict) else {}, known, forbidden)
        section.absent = value is _MISSING and required  # one message for the section, not one per key
        return section

    def subsection(self, parent: Section, key: str, *, open_keys: bool = False, known: tuple[str, ...] = ()) -> Section:
        value = parent.raw.get(key, {})
        name = f"{parent.name}.{_key(key)}"
        if not isinstance(value, dict):
            self.add(f"{parent.where(key)}: found {found(value)}; expected a table [{name}]")
            value = {}
        return Section(self, name, f"[{name}]", value, None if open_keys else known, None)


class Section:
    """One TOML table; typed readers return a usable placeholder after recording a problem."""

    def __init__(
        self,
        check: Checker,
        name: str,
        label: str,
        raw: Mapping[str, Any],
        known: tuple[str, ...] | None,
        forbidden: Mapping[str, str] | None,
    ) -> None:
        self.check, self.name, self.label, self.raw = check, name, label, raw
        self.absent = False
        if known is not None:
            self._reject_unknown(known, forbidden or {})

    def _reject_unknown(self, known: tuple[str, ...], forbidden: Mapping[str, str]) -> None:
        for key in self.raw:
            if key in forbidden:
                self.check.add(f"{self.where(key)}: secrets are not read from config.toml; {forbidden[key]}")
            elif key in known:
                continue
            elif _SECRET_LIKE.search(key):
                self.check.add(f"{self.where(key)}: secrets are not read from config.toml; {_GENERIC_SECRET_HINT}")
            else:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f"did you mean {close[0]}?" if close else f"expected one of {', '.join(known)}"
                self.check.add(f"{self.where(key)}: unknown key; {hint}")

    def where(self, key: str) -> str:
        return f"{self.label}.{_key(key)}"

    def problem(self, message: str) -> None:
        self.check.add(f"{self.label}: {message}")

    def names(self) -> list[str]:
        return list(self.raw)

    def _bad(self, key: str, value: object, expected: str) -> None:
        self.check.add(f"{self.where(key)}: found {found(value)}; expected {expected}")

    def _missing(self, key: str, expected: str) -> None:
        if not self.absent:
            self.check.add(f"{self.where(key)}: missing; expected {expected}")

    def key_matches(self, key: str, pattern: str, expected: str) -> bool:
        if re.fullmatch(pattern, key):
            return True
        self.check.add(f"{self.where(key)}: found key {found(key)}; expected {expected}")
        return False

    def text(self, key: str, *, default: str | None = None, pattern: str | None = None, expected: str) -> str:
        value = self.raw.get(key, _MISSING)
        if value is _MISSING:
            if default is None:
                self._missing(key, expected)
            return default or ""
        if not isinstance(value, str) or (pattern is None and not value.strip()):
            self._bad(key, value, expected)
            return ""
        if pattern is not None and not re.fullmatch(pattern, value):
            self._bad(key, value, expected)
        return value

    def optional_text(self, key: str, *, required: bool = False, expected: str) -> str | None:
        if key not in self.raw:
            if required:
                self._missing(key, expected)
            return None
        return self.text(key, expected=expected)

    def flag(self, key: str, default: bool) -> bool:
        value = self.raw.get(key, default)
        if not isinstance(value, bool):
            self._bad(key, value, "true or false")
            return default
        return value

    def choice(self, key: str, choices: tuple[str, ...], *, default: str | None) -> str:
        expected = "one of " + ", ".join(f'"{c}"' for c in choices)
        value = self.raw.get(key, _MISSING)
        if value is _MISSING:
            if default is None:
                self._missing(key, expected)
            return default or ""
        if value not in choices:
            self._bad(key, value, expected)
            return ""
        assert isinstance(value, str)
        return value

    def number(
        self,
        key: str,
        default: float,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        exclusive_minimum: bool = False,
    ) -> float:
        value = self.raw.get(key, default)
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if ok and minimum is not None:
            ok = value > minimum if exclusive_minimum else value >= minimum
        if ok and maximum is not None:
            ok = value <= maximum
        if not ok:
            self._bad(key, value, _range_text("a number", minimum, maximum, exclusive_minimum))
            return default
        return float(value)

    def integer(self, key: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
        value = self.raw.get(key, default)
        ok = isinstance(value, int) and not isinstance(value, bool)
        ok = ok and (minimum is None or value >= minimum) and (maximum is None or value <= maximum)
        if not ok:
            self._bad(key, value, _range_text("a whole number", minimum, maximum, False))
            return default
        return int(value)

    def optional_integer(self, key: str, *, minimum: int, maximum: int) -> int | None:
        return self.integer(key, minimum, minimum=minimum, maximum=maximum) if key in self.raw else None

    def path(self, key: str, *, default: str) -> Path:
        text = self.text(key, default=default, expected="a path (relative to the config file's folder)")
        return self.check.base / Path(text or default).expanduser()

    def http_url(self, key: str, *, default: str | None, https_only: bool, expected: str) -> str:
        if key not in self.raw:
            if default is None:
                self._missing(key, expected)
            return default or ""
        value = self.text(key, expected=expected)
        parts = urlsplit(value)
        schemes = ("https",) if https_only else ("http", "https")
        if parts.scheme not in schemes or not parts.hostname or parts.query or parts.fragment:
            self._bad(key, value, expected)
            return ""
        return value.rstrip("/")

    def database_url(self, key: str, *, default: str | None, schemes: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
        examples = {
            "sqlite": "sqlite:///state.db",
            "mysql": "mysql+pymysql://user:${DB_PASSWORD}@host/db",
            "postgresql": "postgresql+psycopg://user:${PGPASSWORD}@host/db",
        }
        expected = "a database URL such as " + " or ".join(examples[s] for s in schemes if s in examples)
        template = self.text(key, default=default, expected=expected)
        if not template:
            return "", ()
        url, values, missing = expand_placeholders(template, self.check.env)
        for name in missing:
            self.check.add(
                f"{self.where(key)}: environment variable {name} is not set; expected it to hold the value "
                f"written as ${{{name}}} in the URL"
            )
        match = re.fullmatch(r"([A-Za-z]+)(\+\w+)?://(.*)", url, flags=re.S)
        scheme = match.group(1).lower() if match else ""
        scheme = "mysql" if scheme == "mariadb" else "postgresql" if scheme == "postgres" else scheme
        if not match or scheme not in schemes:
            self._bad(key, mask_url(template), expected)
            return "", ()
        if scheme == "sqlite":
            return self._sqlite(match.group(0), match.group(3)), tuple(values)
        if not missing and not urlsplit(url).hostname and "host=" not in url and "unix_socket=" not in url:
            self._bad(key, mask_url(template, values), expected + " (with a host)")
        return url, tuple(values)

    def _sqlite(self, url: str, rest: str) -> str:
        path, sep, query = rest.removeprefix("/").partition("?")
        if path in ("", ":memory:") or Path(path).is_absolute():
            return url
        head = url[: url.index("://") + 3]
        return f"{head}/{(self.check.base / path).as_posix()}{sep}{query}"

    def sql(
        self,
        key: str,
        *,
        expected: str,
        heads: tuple[str, ...] = (),
        columns: tuple[str, ...] = (),
        params: tuple[str, ...] = (),
        optional: bool = False,
    ) -> str | None:
        if key not in self.raw:
            if not optional:
                self._missing(key, expected)
            return None
        value = self.text(key, expected=expected)
        if not value:
            return None
        if heads and sql_head(value) not in heads:
            self._bad(key, value, expected)
            return None
        for column in columns if "*" not in value else ():
            if not re.search(rf"\b{column}\b", value, flags=re.I):
                self.check.add(f"{self.where(key)}: returns no column {column}; expected {expected} (... AS {column})")
        for param in params:
            if not re.search(rf":{param}\b", value):
                self.check.add(f"{self.where(key)}: does not use :{param}; expected {expected}")
        return value

    def inline_table(self, key: str, known: tuple[str, ...], *, required: bool) -> Section | None:
        value = self.raw.get(key, _MISSING)
        expected = "a table with " + ", ".join(known)
        if value is _MISSING:
            if required:
                self._missing(key, expected)
            return None
        if not isinstance(value, dict):
            self._bad(key, value, expected)
            return None
        return Section(self.check, self.name, self.where(key), value, known, None)

    def string_map(self, *, pattern: str, expected: str) -> Mapping[str, str]:
        result: dict[str, str] = {}
        for key, value in self.raw.items():
            if isinstance(value, str) and re.fullmatch(pattern, value):
                result[key] = value
            else:
                self._bad(key, value, expected)
        return MappingProxyType(result)

    def text_list(self, key: str, *, expected: str) -> tuple[str, ...]:
        value = self.raw.get(key, [])
        if (
            not isinstance(value, list)
            or (key in self.raw and not value)
            or not all(isinstance(v, str) and v for v in value)
        ):
            self._bad(key, value, expected)
            return ()
        return tuple(value)

    def sub_string_map(self, key: str, *, expected: str) -> Mapping[str, str] | None:
        value = self.raw.get(key, _MISSING)
        if value is _MISSING:
            return None
        if not isinstance(value, dict) or not all(isinstance(v, str) and v for v in value.values()):
            self._bad(key, value, expected)
            return None
        return MappingProxyType(dict(value))
