"""The rate budget: token buckets, the concurrency cap and 429 blocks, on a fake clock."""

from __future__ import annotations

import asyncio

import pytest

from adapters.allegro.budget import RateBudget, TokenBucket

from .fakes import FakeClock

pytestmark = pytest.mark.anyio


async def test_bucket_allows_a_burst_then_paces_at_the_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(600, clock, burst=5)  # 10 per second
    for _ in range(5):
        await bucket.take()
    assert clock.sleeps == []
    await bucket.take()
    assert clock.sleeps == [pytest.approx(0.1)]


async def test_no_sliding_minute_exceeds_the_budget() -> None:
    clock = FakeClock()
    budget = RateBudget(requests_per_minute=9000 * 0.95, max_concurrency=50, clock=clock)
    stamps: list[float] = []

    async def one() -> None:
        async with budget.slot():
            stamps.append(clock.monotonic())

    await asyncio.gather(*(one() for _ in range(20000)))
    assert len(stamps) == 20000
    stamps.sort()
    start = 0
    worst = 0
    for end, stamp in enumerate(stamps):
        while stamps[start] <= stamp - 60.0:
            start += 1
        worst = max(worst, end - start + 1)
    assert worst <= 9000
    assert worst >= 8500  # and the budget is actually used, not wasted


async def test_concurrency_is_capped() -> None:
    budget = RateBudget(requests_per_minute=1e9, max_concurrency=3)

    async def one() -> None:
        async with budget.slot():
            await asyncio.sleep(0.001)

    await asyncio.gather(*(one() for _ in range(20)))
    assert budget.peak_in_flight == 3


async def test_a_block_holds_every_request_until_it_ends() -> None:
    clock = FakeClock()
    budget = RateBudget(requests_per_minute=1e6, max_concurrency=4, clock=clock)
    budget.block_for(60)
    sent: list[float] = []

    async def one() -> None:
        async with budget.slot():
            sent.append(clock.monotonic())

    await asyncio.gather(one(), one())
    assert sent and min(sent) >= 1060.0


async def test_offer_creation_has_its_own_budget() -> None:
    clock = FakeClock()
    budget = RateBudget(requests_per_minute=1e6, max_concurrency=4, extra={"offer_create": 60}, clock=clock)
    for _ in range(3):
        async with budget.slot("offer_create"):
            pass
    assert clock.monotonic() == pytest.approx(1002.0)  # burst 1, then one a second
    async with budget.slot():
        pass
    assert clock.monotonic() == pytest.approx(1002.0)  # ordinary calls are not held back
