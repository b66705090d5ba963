"""How long to wait before retrying: `Retry-After` when Allegro gives one, else capped exponential backoff."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from a `Retry-After` header (delta-seconds or an HTTP date); None when absent or unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


def exponential(attempt: int, *, base_seconds: float, max_seconds: float) -> float:
    """0.5, 1, 2, 4 ... seconds for attempts 1, 2, 3, 4 ..., never above `max_seconds`."""
    return float(min(max_seconds, base_seconds * (2 ** max(0, attempt - 1))))


def rate_limited_wait(retry_after: float | None, *, minimum_seconds: float) -> float:
    """A 429 blocks the client id for a minute: honour Retry-After, else wait the whole minute."""
    return retry_after if retry_after is not None else minimum_seconds


def server_error_wait(retry_after: float | None, attempt: int, *, base_seconds: float, max_seconds: float) -> float:
    backoff = exponential(attempt, base_seconds=base_seconds, max_seconds=max_seconds)
    return max(backoff, retry_after) if retry_after is not None else backoff
