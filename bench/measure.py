"""Small measuring helpers: CPU and wall clocks, peak memory, warehouse transactions, a cycle's request count."""

from __future__ import annotations

import os
import resource
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from bench.world import Emulator, Requests
from engine.context import Context
from engine.cycle import CycleReport, run_once


@dataclass(slots=True)
class Clocks:
    wall: float = 0.0
    cpu: float = 0.0


@contextmanager
def clocks() -> Iterator[Clocks]:
    result = Clocks()
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield result
    finally:
        result.wall = time.perf_counter() - wall
        result.cpu = time.process_time() - cpu


@contextmanager
def profiled(name: str) -> Iterator[None]:
    """cProfile around a scenario's measured part when `python -m bench --profile NAME` asked for it: writes
    bench-NAME.prof in the working directory and prints the top functions to stderr."""
    if not name or os.environ.get("BENCH_PROFILE") != name:
        yield
        return
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        target = Path(f"bench-{name}.prof").resolve()
        profiler.dump_stats(target)
        print(f"profile of {name} written to {target}", file=sys.stderr)
        stats = pstats.Stats(profiler, stream=sys.stderr)
        stats.sort_stats("cumulative").print_stats(35)
        stats.sort_stats("tottime").print_stats(25)


def peak_rss_mb() -> float:
    """This process's peak resident set size: VmHWM from /proc/self/status (Linux), which starts afresh at
    exec; `ru_maxrss` does not (a child forked from a big parent inherits its peak), so it is the fallback."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


class CommitCounter:
    """Counts committed transactions per database file (SQLAlchemy `commit` events on every Engine)."""

    def __init__(self) -> None:
        self.by_database: Counter[str] = Counter()
        event.listen(Engine, "commit", self._commit)

    def _commit(self, connection: Connection) -> None:
        self.by_database[str(connection.engine.url.database)] += 1

    def close(self) -> None:
        event.remove(Engine, "commit", self._commit)


@dataclass(slots=True)
class CycleFigures:
    """One measured cycle: the engine's report plus what the emulator counted while it ran."""

    report: CycleReport
    requests: Requests

    def as_dict(self) -> dict[str, Any]:
        return {
            "wall_s": round(self.report.duration_seconds, 3),
            "cpu_s": round(self.report.cpu_seconds, 3),
            "requests": self.requests.total,
            "requests_by_route": dict(sorted(self.requests.by_route.items())),
            "http_429": self.requests.sent_429,
            "events_in": dict(self.report.events_in),
            "commands_out": dict(self.report.commands_out),
            "errors": self.report.errors,
        }


async def measured_cycle(ctx: Context, emulator: Emulator) -> CycleFigures:
    before = emulator.requests()
    report = await run_once(ctx)
    if report.stopped:
        raise RuntimeError(f"the cycle stopped: {report.stopped}")
    return CycleFigures(report=report, requests=Requests.since(before, emulator.requests()))


@dataclass(slots=True)
class Series:
    values: list[float] = field(default_factory=list)

    def summary(self, digits: int = 4) -> dict[str, float]:
        if not self.values:
            return {}
        return {
            "median": round(statistics.median(self.values), digits),
            "max": round(max(self.values), digits),
            "min": round(min(self.values), digits),
        }
