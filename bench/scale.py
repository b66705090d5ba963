"""Scenario 6: scale. The warehouse read and diff at 100,000 products, peak memory, and the idle cycle at
1,000, 10,000 and 100,000 products.

Linking 100,000 products to offers through the emulator would take far longer than the bench may run, so
the scale worlds run with `[flows] listing = false`: the first cycle ingests every product into the ledger
(ProductObserved events folded into the projection), no offer is created, and the idle cycles that follow
do what any idle cycle does (the two journal reads, the warehouse query and the diff against the
projection's 100,000 known rows). What this does not measure: per-offer state in memory (the 10,000-product
idle scenario covers linked offers) and anything that writes to Allegro.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.measure import Series, clocks, measured_cycle, peak_rss_mb, profiled
from bench.steady import LATENCY_MS, _live_world
from bench.warehouse_read import fold as fold_known
from bench.world import NO_LIMIT, Emulator, World
from demo.sample import stany_magazynowe, towary

IDLE_CYCLES = 3


def warehouse_figures(world: World) -> dict[str, Any]:
    """`SqlWarehouse.read_delta` alone (no ledger, no Allegro): first read, idle read, a read after 100
    stock changes and 10 edited products (what bench/warehouse_read.py printed before)."""
    from sqlalchemy import create_engine, func, update

    from adapters.warehouse import SqlWarehouse
    from engine.bootstrap import warehouse_config

    config = warehouse_config(world.settings)
    warehouse = SqlWarehouse(config)
    try:
        with clocks() as first_spent:
            first = warehouse.read_delta({}, None)
        known = fold_known({}, first)
        idle = Series()
        for _ in range(3):
            with clocks() as spent:
                delta = warehouse.read_delta(known, first.watermark)
            assert not (delta.changed or delta.stock_changed or delta.removed or delta.rejected)
            idle.values.append(spent.cpu)
        engine = create_engine(world.warehouse_url)
        with engine.begin() as connection:
            connection.execute(
                update(stany_magazynowe)
                .where(stany_magazynowe.c.towar_id <= 100)
                .values(ilosc=stany_magazynowe.c.ilosc + 1)
            )
            connection.execute(
                update(towary)
                .where(towary.c.id.between(200, 209))
                .values(nazwa=towary.c.nazwa + " v2", zmodyfikowano=func.current_timestamp())
            )
        engine.dispose()
        with clocks() as busy_spent:
            busy = warehouse.read_delta(known, first.watermark)
    finally:
        warehouse.close()
    return {
        "first_read_cpu_s": round(first_spent.cpu, 3),
        "idle_read_diff_cpu_s": idle.summary(3),
        "busy_read_diff_cpu_s": round(busy_spent.cpu, 3),
        "busy_changed": len(busy.changed),
        "busy_stock_changed": len(busy.stock_changed),
    }


def current_rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)


async def ingest_point(folder: Path, emulator: Emulator, products: int) -> dict[str, Any]:
    """Create the world and run its first cycle (every product is new: the initial import)."""
    emulator.faults(latency_ms=0, client_rate_limit_per_minute=NO_LIMIT)
    world = World(folder, emulator, products, listing=False)
    _live_world(emulator, LATENCY_MS)
    async with world.context() as ctx:
        first = await measured_cycle(ctx, emulator)
    return {
        "products": products,
        "first_ingest_cpu_s": first.report.cpu_seconds,
        "first_ingest_wall_s": first.report.duration_seconds,
        "first_ingest_events": sum(first.report.events_in.values()),
    }


async def idle_in_fresh_process(folder: Path, base_url: str) -> dict[str, Any]:
    """Runs in a child process: a restarted engine (projection loaded from the ledger), then idle cycles.
    Its peak RSS is what a long-running engine needs for this many products, without the initial import."""
    world = World(folder, None, 0)
    emulator = Emulator.attach(base_url)
    try:
        async with world.context() as ctx:
            with clocks() as startup:
                await measured_cycle(ctx, emulator)
            rows = world.ledger_rows()
            cpu, wall, requests = Series(), Series(), Series()
            for _ in range(IDLE_CYCLES):
                with profiled("scale"):
                    figures = await measured_cycle(ctx, emulator)
                cpu.values.append(figures.report.cpu_seconds)
                wall.values.append(figures.report.duration_seconds)
                requests.values.append(figures.requests.total)
            added = sum(world.ledger_rows().values()) - sum(rows.values())
            gc.collect()
            rss = current_rss_mb()
    finally:
        emulator.control.close()
    return {
        "startup_cycle_cpu_s": round(startup.cpu, 3),
        "idle_requests_per_cycle": requests.summary(1)["median"],
        "idle_cpu_s_per_cycle": cpu.summary(3),
        "idle_wall_s_per_cycle": wall.summary(3),
        "idle_ledger_rows_added": added,
        "engine_rss_mb_after_idle": rss,
        "engine_peak_rss_mb": peak_rss_mb(),
    }


def _idle_child(folder: Path, base_url: str) -> dict[str, Any]:
    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])))
    done = subprocess.run(
        [sys.executable, "-m", "bench.scale", str(folder), base_url],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"the idle child failed (exit {done.returncode})")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


async def run(folder: Path, sizes: list[int], emit: Any) -> None:
    emulator = Emulator()
    points = []
    try:
        for products in sizes:
            point = await ingest_point(folder / f"p{products}", emulator, products)
            gc.collect()
            point["import_process_peak_rss_mb"] = peak_rss_mb()
            point.update(_idle_child(folder / f"p{products}", emulator.base_url))
            points.append(point)
    finally:
        emulator.stop()
    largest = sizes[-1]
    reads = warehouse_figures(World(folder / f"p{largest}", None, largest))
    base = points[0]
    emit(
        {
            "scenario": "scale",
            "products": largest,
            "warehouse": reads,
            "idle_series": points,
            "cpu_growth": {
                str(p["products"]): round(
                    p["idle_cpu_s_per_cycle"]["median"] / base["idle_cpu_s_per_cycle"]["median"], 1
                )
                for p in points
            },
            "peak_rss_mb": points[-1]["engine_peak_rss_mb"],
            "import_peak_rss_mb": points[-1]["import_process_peak_rss_mb"],
            "note": "scale worlds run with [flows] listing = false: products are in the ledger, no offers. "
            "peak_rss_mb: a restarted engine process at the largest size (projection loaded, idle cycles); "
            "import_peak_rss_mb: the process that ran the first cycle of every size (the initial import)",
        }
    )


if __name__ == "__main__":
    print(json.dumps(asyncio.run(idle_in_fresh_process(Path(sys.argv[1]), sys.argv[2]))))
