"""The rate budget shared by every concurrent request: token buckets, a concurrency cap and 429 blocks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Protocol


class BudgetClock(Protocol):
    """Monotonic time and sleeping; tests inject a fake whose `sleep` only moves time forward."""

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class TokenBucket:
    """`per_minute` tokens a minute, at most `burst` at once (default: one second's worth).

    With `burst` small next to the rate, no sliding minute ever sees more than `per_minute + burst` takes.
    Waiters are served in arrival order (the lock is FIFO).
    """

    def __init__(self, per_minute: float, clock: BudgetClock, *, burst: float | None = None) -> None:
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        self.rate = per_minute / 60.0
        self.capacity = burst if burst is not None else max(1.0, self.rate)
        self._clock = clock
        self._tokens = self.capacity
        self._updated = clock.monotonic()
        self._lock = asyncio.Lock()
        self.taken = 0

    def _refill(self) -> None:
        now = self._clock.monotonic()
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    async def take(self) -> None:
        async with self._lock:
            while True:
                self._refill()
                if self._tokens >= 1.0 - 1e-9:  # float dust must not make us sleep 0 s forever
                    self._tokens = max(0.0, self._tokens - 1.0)
                    self.taken += 1
                    return
                await self._clock.sleep((1.0 - self._tokens) / self.rate)


class RateBudget:
    """One per process (per client id): every request takes a slot; 429s block everyone until the block ends.

    `extra` holds per-seller budgets by name (`offer_create`, `offer_patch`); a request naming one takes a
    token from it as well as from the global bucket.
    """

    def __init__(
        self,
        *,
        requests_per_minute: float,
        max_concurrency: int,
        extra: Mapping[str, float | None] | None = None,
        clock: BudgetClock | None = None,
    ) -> None:
        self.clock: BudgetClock = clock or SystemClock()
        self.requests = TokenBucket(requests_per_minute, self.clock)
        self.extra = {name: TokenBucket(rate, self.clock) for name, rate in (extra or {}).items() if rate}
        self._semaphore = asyncio.Semaphore(max_concurrency)
        self.blocked_until = 0.0
        self.in_flight = 0
        self.peak_in_flight = 0

    def block_for(self, seconds: float) -> None:
        """Nobody sends anything for `seconds` (a 429: hammering would only extend Allegro's block)."""
        self.blocked_until = max(self.blocked_until, self.clock.monotonic() + seconds)

    async def sleep(self, seconds: float) -> None:
        if seconds > 0:
            await self.clock.sleep(seconds)

    @asynccontextmanager
    async def slot(self, kind: str | None = None) -> AsyncIterator[None]:
        async with self._semaphore:
            while (wait := self.blocked_until - self.clock.monotonic()) > 0:
                await self.clock.sleep(wait)
            if kind is not None and kind in self.extra:
                await self.extra[kind].take()
            await self.requests.take()
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            try:
                yield
            finally:
                self.in_flight -= 1
