"""`allegro-sync run`: the cycle on an APScheduler 3.x interval; SIGTERM/SIGINT stop after the cycle in flight.

APScheduler gives the interval, `max_instances=1` (a slow cycle is never run twice at once) and `coalesce`
(missed runs collapse into one). The schedule lives in memory: one process per account (design section 12).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from engine.errors import SyncError

log = logging.getLogger("allegro_sync.scheduler")

JOB_ID = "cycle"


class _Cycles:
    """Wraps the job: never lets it raise into APScheduler, and knows whether a cycle is in flight."""

    def __init__(self, job: Callable[[], Awaitable[object]], stop: asyncio.Event, poll_seconds: float) -> None:
        self.job, self.stop, self.poll_seconds = job, stop, poll_seconds
        self.idle = asyncio.Event()
        self.idle.set()
        self.started = 0

    async def run(self) -> None:
        if self.stop.is_set():  # a run APScheduler had already released when the stop came
            return
        self.idle.clear()
        self.started += 1
        try:
            await self.job()
        except SyncError as exc:
            log.error("cycle failed: %s; the next cycle runs in %g s", exc, self.poll_seconds)
        except Exception:
            log.exception("cycle failed with an unexpected error; the next cycle runs in %g s", self.poll_seconds)
        finally:
            self.idle.set()


async def run_scheduler(
    job: Callable[[], Awaitable[object]],
    poll_seconds: float,
    *,
    stop: asyncio.Event | None = None,
    handle_signals: bool = True,
) -> int:
    """Run `job` now and then every `poll_seconds` until `stop` is set or SIGTERM/SIGINT arrives.

    Stopping lets the cycle in flight finish and starts no new one; then this returns the number of cycles
    started. Exceptions of the job are logged and the schedule goes on.
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    cycles = _Cycles(job, stop, poll_seconds)
    installed = _install_signal_handlers(loop, stop) if handle_signals else []
    scheduler = AsyncIOScheduler(timezone=UTC, event_loop=loop)
    scheduler.add_job(
        cycles.run,  # a coroutine function, so APScheduler awaits it on the loop
        trigger="interval",
        seconds=poll_seconds,
        id=JOB_ID,
        name="allegro-sync cycle",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
        next_run_time=datetime.now(UTC),
    )
    scheduler.start()
    try:
        await stop.wait()
        scheduler.pause()  # no new cycle starts from here on
        if not cycles.idle.is_set():
            log.info("stopping after the cycle in flight")
            await cycles.idle.wait()
    finally:
        # AsyncIOExecutor.shutdown cancels running jobs, so it is only reached once the cycle is done
        # (or when this coroutine itself is cancelled).
        scheduler.shutdown(wait=False)
        for sig in installed:
            loop.remove_signal_handler(sig)
    log.info("scheduler stopped after %d cycle(s)", cycles.started)
    return cycles.started


def _install_signal_handlers(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> list[signal.Signals]:
    installed: list[signal.Signals] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # not the main thread
            loop.add_signal_handler(sig, _request_stop, sig, stop)
            installed.append(sig)
    return installed


def _request_stop(sig: signal.Signals, stop: asyncio.Event) -> None:
    if not stop.is_set():
        log.info("%s received: stopping after the cycle in flight", sig.name)
    stop.set()
