"""Turning frozen dataclasses into JSON-able dicts and back, guided by their type hints.

Decimals travel as strings, datetimes as ISO-8601 UTC strings, tuples as lists, enums by value, nested
dataclasses as dicts. Used for event payloads, command payloads and projection rows, so that a value read
back from the ledger is equal to the one written.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any, TypeVar, Union, get_args, get_origin

T = TypeVar("T")


def to_plain(value: Any) -> Any:
    """A JSON-able copy of `value` (dataclasses, tuples, Decimal, datetime, enums, dicts, scalars)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return format_time(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in _fields(type(value))}
    if isinstance(value, tuple | list):
        return [to_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, float):
        return value
    raise TypeError(f"cannot encode {type(value).__name__} in a ledger payload")


def from_plain(cls: type[T], data: Any) -> T:
    """Rebuild an instance of dataclass `cls` from `to_plain` output (unknown keys are ignored)."""
    hints = _hints(cls)  # type: ignore[arg-type]
    kwargs = {f.name: _decode(hints[f.name], data[f.name]) for f in _fields(cls) if f.name in data}  # type: ignore[arg-type]
    return cls(**kwargs)


def format_time(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: every time in the ledger is timezone-aware")
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _decode(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        inner = [a for a in get_args(hint) if a is not type(None)]
        return _decode(inner[0], value) if len(inner) == 1 else value
    if origin is tuple:
        args = get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], v) for v in value)
        return tuple(_decode(a, v) for a, v in zip(args, value, strict=True))
    if origin is dict:
        _, vt = get_args(hint)
        return {k: _decode(vt, v) for k, v in value.items()}
    if origin is not None:
        return value
    if hint is Decimal:
        return Decimal(value)
    if hint is datetime:
        return parse_time(value)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint(value)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return from_plain(hint, value)
    return value


@cache
def _fields(cls: type) -> tuple[dataclasses.Field[Any], ...]:
    return dataclasses.fields(cls)


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)
