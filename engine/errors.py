"""The engine's error classes, grouped by what the caller does next (retry, skip, stop, resync).

Adapters translate driver and HTTP exceptions into these at their boundary; the pure core never sees a
driver or HTTP exception. Every message names the object and the fix, and never contains a secret.
"""

from __future__ import annotations


class SyncError(Exception):
    """Base class of every error the engine knows how to handle."""


class RetryLater(SyncError):
    """A transient failure (network, timeout, 429, 5xx, lock wait): try the same thing again later.

    `retry_after_seconds` is the server's hint (Retry-After) or the adapter's own minimum wait.
    """

    def __init__(self, message: str, *, retry_after_seconds: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class SkipItem(SyncError):
    """This one item cannot be processed (a bad row, a rejected offer): record why and carry on."""

    def __init__(self, message: str, *, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems or (message,)


class StopEngine(SyncError):
    """Only an operator can fix this (bad configuration, revoked token): stop writing and say how."""


class Resync(SyncError):
    """A cursor fell out of its journal's retention: run a full reconciliation, then move the cursor."""


class ConfigError(StopEngine):
    """The configuration is invalid; the message names the key, what was found and what is expected."""
