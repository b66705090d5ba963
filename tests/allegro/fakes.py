"""Test doubles of time: a monotonic clock whose `sleep` only moves time forward (optionally the emulator's too)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


class FakeClock:
    """`sleep(s)` returns at once, records `s` and advances `now`; `on_sleep` may move other clocks along."""

    def __init__(
        self, start: float = 1000.0, on_sleep: Callable[[float], Awaitable[None] | None] | None = None
    ) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self.on_sleep = on_sleep

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)
        if self.on_sleep is not None:
            result = self.on_sleep(seconds)
            if result is not None:
                await result
        await asyncio.sleep(0)
