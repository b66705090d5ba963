"""Reading fields out of Allegro's JSON: each reader names the missing or wrong field (`MalformedAnswer`)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import orjson

from adapters.allegro.errors import MalformedAnswer

Json = dict[str, Any]
_MISSING = object()


def json_body(response: httpx.Response) -> Json:
    """The body as a JSON object, or MalformedAnswer naming the body."""
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError as exc:
        raise MalformedAnswer("(body)", f"is not JSON ({exc})") from exc
    if not isinstance(body, dict):
        raise MalformedAnswer("(body)", f"is a {type(body).__name__}, expected an object")
    return body


def _walk(data: Json, path: str) -> Any:
    value: Any = data
    for part in path.split("."):
        if not isinstance(value, dict):
            return _MISSING
        value = value.get(part, _MISSING)
        if value is _MISSING or value is None:
            return _MISSING
    return value


def optional(data: Json, path: str) -> Any:
    value = _walk(data, path)
    return None if value is _MISSING else value


def required(data: Json, path: str) -> Any:
    value = _walk(data, path)
    if value is _MISSING:
        raise MalformedAnswer(path, "is missing")
    return value


def text(data: Json, path: str) -> str:
    value = required(data, path)
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MalformedAnswer(path, f"is {value!r}, expected a string")
    return str(value)


def optional_text(data: Json, path: str) -> str | None:
    return None if _walk(data, path) is _MISSING else text(data, path)


def integer(data: Json, path: str) -> int:
    value = required(data, path)
    if isinstance(value, bool):
        raise MalformedAnswer(path, f"is {value!r}, expected an integer")
    try:
        number = int(value) if isinstance(value, int | str) else None
    except ValueError:
        number = None
    if number is None:
        raise MalformedAnswer(path, f"is {value!r}, expected an integer")
    return number


def optional_integer(data: Json, path: str) -> int | None:
    return None if _walk(data, path) is _MISSING else integer(data, path)


def amount(data: Json, path: str) -> Decimal | None:
    """A money amount (Allegro sends strings; numbers are accepted too); None when absent."""
    value = _walk(data, path)
    if value is _MISSING:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise MalformedAnswer(path, f"is {value!r}, expected a decimal amount")
    try:
        result = Decimal(str(value))
    except InvalidOperation as exc:
        raise MalformedAnswer(path, f"is {value!r}, expected a decimal amount") from exc
    if not result.is_finite():
        raise MalformedAnswer(path, f"is {value!r}, expected a finite amount")
    return result


def moment(data: Json, path: str) -> datetime:
    value = text(data, path)
    try:
        result = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise MalformedAnswer(path, f"is {value!r}, expected an ISO-8601 time") from exc
    return result if result.tzinfo else result.replace(tzinfo=UTC)


def optional_moment(data: Json, path: str) -> datetime | None:
    return None if _walk(data, path) is _MISSING else moment(data, path)


def items(data: Json, path: str) -> list[Json]:
    """A required array of objects."""
    value = required(data, path)
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise MalformedAnswer(path, "is not an array of objects")
    return value


def optional_items(data: Json, path: str) -> list[Json]:
    return [] if _walk(data, path) is _MISSING else items(data, path)


def server_time(response: httpx.Response) -> datetime:
    """Allegro's clock: the RFC 7231 `Date` header of the answer.

    An answer without `Date` (only seen in-process, where no server adds one) falls back to our UTC clock;
    an unreadable `Date` is a MalformedAnswer.
    """
    header = response.headers.get("date")
    if header is None:
        return datetime.now(UTC)
    try:
        result = parsedate_to_datetime(header)
    except (TypeError, ValueError) as exc:
        raise MalformedAnswer("Date (header)", f"is {header!r}, expected an RFC 7231 date") from exc
    return result if result.tzinfo else result.replace(tzinfo=UTC)
