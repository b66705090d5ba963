"""The emulator's movable clock: real UTC time plus an offset advanced by the control API."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from email.utils import formatdate


class Clock:
    """Every time the emulator reads (retention, token expiry, command delays) comes from here."""

    __slots__ = ("offset_seconds",)

    def __init__(self, offset_seconds: float = 0.0) -> None:
        self.offset_seconds = offset_seconds

    def now(self) -> float:
        """Seconds since the epoch on the emulator's clock."""
        return time.time() + self.offset_seconds

    def advance(self, seconds: float) -> None:
        self.offset_seconds += seconds


def iso(epoch_seconds: float) -> str:
    """ISO-8601 UTC with milliseconds, as Allegro writes times: `2019-06-26T15:26:43.891Z`."""
    moment = datetime.fromtimestamp(epoch_seconds, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def http_date(epoch_seconds: float) -> str:
    """RFC 7231 date for the `Date` header."""
    return formatdate(epoch_seconds, usegmt=True)


def parse_iso(text: str) -> float | None:
    """Epoch seconds of an ISO-8601 time with a zone, or None when it cannot be read."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
