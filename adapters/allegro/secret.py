"""A string that never shows itself in repr, str, logs or tracebacks (client secret, tokens)."""

from __future__ import annotations


class Secret:
    """Wraps a sensitive value; only `reveal()` returns it, and only code that sends it should call that."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)
