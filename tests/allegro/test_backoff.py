"""Retry-After parsing and the wait after 429 and 5xx."""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.allegro.backoff import exponential, parse_retry_after, rate_limited_wait, server_error_wait


def test_retry_after_in_seconds_and_as_http_date() -> None:
    assert parse_retry_after("5") == 5.0
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-3") == 0.0


def test_429_without_retry_after_waits_the_whole_block() -> None:
    assert rate_limited_wait(None, minimum_seconds=60) == 60
    assert rate_limited_wait(7.0, minimum_seconds=60) == 7.0


def test_exponential_backoff_is_capped() -> None:
    waits = [exponential(n, base_seconds=0.5, max_seconds=3) for n in range(1, 6)]
    assert waits == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert server_error_wait(10.0, 1, base_seconds=0.5, max_seconds=3) == 10.0
    assert server_error_wait(None, 2, base_seconds=0.5, max_seconds=3) == 1.0
