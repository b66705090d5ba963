"""The scheduler: first cycle at once, never two at a time, failures logged, stops after the cycle in flight."""

from __future__ import annotations

import asyncio
import logging
import os
import signal

import pytest

from engine.errors import RetryLater
from engine.scheduler import run_scheduler

pytestmark = pytest.mark.anyio


async def test_first_cycle_runs_at_once_and_stop_returns_the_count() -> None:
    stop = asyncio.Event()
    ran = asyncio.Event()

    async def job() -> None:
        ran.set()
        stop.set()

    started = await asyncio.wait_for(run_scheduler(job, 3600, stop=stop, handle_signals=False), 5)
    assert ran.is_set() and started == 1


async def test_a_slow_cycle_is_never_run_twice_at_once() -> None:
    stop = asyncio.Event()
    running = 0
    most = 0
    finished = 0

    async def slow_job() -> None:
        nonlocal running, most, finished
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.35)  # far longer than the 0.05 s interval
        running -= 1
        finished += 1
        if finished == 3:
            stop.set()

    await asyncio.wait_for(run_scheduler(slow_job, 0.05, stop=stop, handle_signals=False), 10)
    assert most == 1
    assert finished == 3


async def test_a_failing_cycle_is_logged_and_the_next_one_runs(caplog: pytest.LogCaptureFixture) -> None:
    stop = asyncio.Event()
    calls = 0

    async def job() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RetryLater("allegro: 503 from GET /order/events; will retry")
        if calls == 2:
            raise ValueError("boom")
        stop.set()

    with caplog.at_level(logging.ERROR, logger="allegro_sync.scheduler"):
        await asyncio.wait_for(run_scheduler(job, 0.05, stop=stop, handle_signals=False), 10)
    assert calls == 3
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "cycle failed: allegro: 503 from GET /order/events; will retry; the next cycle runs in 0.05 s",
        "cycle failed with an unexpected error; the next cycle runs in 0.05 s",
    ]
    assert caplog.records[0].exc_info is None  # a known error: no traceback
    assert caplog.records[1].exc_info is not None


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_signal_stops_after_the_cycle_in_flight(sig: signal.Signals) -> None:
    before = signal.getsignal(sig)
    in_cycle = asyncio.Event()
    events: list[str] = []

    async def job() -> None:
        events.append("start")
        in_cycle.set()
        await asyncio.sleep(0.3)
        events.append("end")

    async def send_sigterm_mid_cycle() -> None:
        await in_cycle.wait()
        os.kill(os.getpid(), sig)

    sender = asyncio.create_task(send_sigterm_mid_cycle())
    started = await asyncio.wait_for(run_scheduler(job, 0.05), 10)
    await sender
    assert events == ["start", "end"]  # the running cycle completed and no new one started
    assert started == 1
    assert signal.getsignal(sig) == before  # our handler is gone again
