"""Parsers of single raw column values (text, price, stock, yes/no flag, image list): a value or the problem with it."""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

_TRUE = frozenset({"1", "t", "tak", "y", "yes", "true", "on", "prawda"})
_FALSE = frozenset({"0", "n", "nie", "no", "false", "off", "f", "falsz", "fałsz", ""})
FLAGS = {**dict.fromkeys(_TRUE, True), **dict.fromkeys(_FALSE, False)}
"""Lower-cased yes/no spellings and their meaning."""
_IMAGE_PART = re.compile(r"[^\s,]+")
_DIGITS = "; use digits with '.' or ',' as the decimal separator"
_UNITS = "; products_query must return a whole number of units"


def text_value(value: Any) -> str | None:
    """Trimmed text; empty strings and NULL become None."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "replace").strip() or None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip() or None


def price_value(value: Any) -> tuple[Decimal | None, str | None]:
    """A price as Decimal (',' accepted as the decimal separator), or the problem with it."""
    if value is None:
        return None, None
    if isinstance(value, bool):
        return None, f"price {value!r} is not a number{_DIGITS}"
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            return None, f"price {value!r} is not a number{_DIGITS}"
        number = Decimal(repr(value))
    else:
        raw = text_value(value)
        if raw is None:
            return None, None
        compact = raw.replace(" ", "").replace("\u00a0", "")
        if "," in compact:
            if "." in compact or compact.count(",") > 1:
                return None, f"price {raw!r} is ambiguous; use one decimal separator and no thousands separator"
            compact = compact.replace(",", ".")
        try:
            number = Decimal(compact)
        except (InvalidOperation, ValueError):
            return None, f"price {raw!r} is not a number{_DIGITS}"
    if not number.is_finite():
        return None, f"price {value!r} is not a number{_DIGITS}"
    if number < 0:
        return None, f"price {number} is negative; correct the price in the warehouse"
    return number, None


def stock_value(value: Any) -> tuple[int | None, str | None]:
    """A stock as a non-negative int, or the problem with it."""
    if value is None:
        return None, "stock is empty (NULL); products_query must return a whole number for every product"
    if isinstance(value, bool):
        return None, f"stock {value!r} is not a whole number{_UNITS}"
    number: int | None = None
    if isinstance(value, int):
        number = value
    elif isinstance(value, Decimal | float):
        if (isinstance(value, float) and math.isfinite(value) and value.is_integer()) or (
            isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value()
        ):
            number = int(value)
    else:
        raw = text_value(value)
        if raw is None:
            return None, "stock is empty; products_query must return a whole number for every product"
        try:
            number = int(raw)
        except ValueError:
            try:
                parsed = Decimal(raw.replace(",", "."))
                if parsed.is_finite() and parsed == parsed.to_integral_value():
                    number = int(parsed)
            except (InvalidOperation, ValueError):
                number = None
    if number is None:
        shown = text_value(value) if not isinstance(value, float) else repr(value)
        return None, f"stock {shown!r} is not a whole number{_UNITS}"
    if number < 0:
        return None, f"stock {number} is negative; correct it in the warehouse (0 or more units)"
    return number, None


def flag_value(value: Any) -> tuple[bool, str | None]:
    """The `list` flag: 1/T/tak/yes/true are true; 0/N/nie/no/false/empty/NULL are false."""
    if value is None:
        return False, None
    if isinstance(value, bool):
        return value, None
    if isinstance(value, int):
        return value != 0, None
    if isinstance(value, Decimal | float):
        if (isinstance(value, Decimal) and not value.is_finite()) or (
            isinstance(value, float) and not math.isfinite(value)
        ):
            return False, f"list {value!r} is not a yes/no value; use 1/0, T/N, tak/nie or yes/no"
        return value != 0, None
    if isinstance(value, bytes | bytearray) and len(value) == 1 and value[0] in (0, 1):  # MySQL BIT(1)
        return value[0] == 1, None
    raw = text_value(value)
    lowered = (raw or "").lower()
    if lowered in _TRUE:
        return True, None
    if lowered in _FALSE:
        return False, None
    return False, f"list {raw!r} is not a yes/no value; use 1/0, T/N, tak/nie or yes/no"


def images_value(value: Any) -> tuple[str, ...]:
    """Image URLs separated by commas and/or whitespace."""
    raw = value if type(value) is str else text_value(value)
    if not raw:
        return ()
    return tuple(_IMAGE_PART.findall(raw))
