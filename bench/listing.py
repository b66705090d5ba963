"""Scenario 4: the initial listing, under Allegro's limits and without them.

With limits: the emulator refuses more than `creation_limit` offer creations a minute per seller (429) and
more than 9,000 requests a minute per client id; the client is told the same limits through its knobs
(`offer_creations_per_minute`, `requests_per_minute`), which `[allegro]` in config.toml cannot set today.
Without limits: both are off and only the 50 ms latency and the client's concurrency (`max_concurrency`,
16 by default) bound the rate.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bench.measure import measured_cycle, profiled
from bench.world import NO_LIMIT, Emulator, World, until_quiet
from engine.cycle import run_once

LATENCY_MS = 50


async def _list(
    folder: Path, products: int, faults: dict[str, Any], knobs: dict[str, Any], profile: str = ""
) -> dict[str, Any]:
    emulator = Emulator()
    try:
        emulator.faults(latency_ms=0, client_rate_limit_per_minute=NO_LIMIT)
        world = World(folder, emulator, products)
        emulator.faults(latency_ms=LATENCY_MS, **faults)
        stamps: list[float] = []
        async with world.context(**knobs) as ctx:
            before = emulator.requests()
            started = time.perf_counter()
            with profiled(profile):
                report = await run_once(ctx, progress=lambda n: stamps.extend([time.perf_counter()] * n))
            wall = time.perf_counter() - started
            after = emulator.requests()
            follow = await measured_cycle(ctx, emulator)
            await until_quiet(ctx, emulator)
        routes = {k: after["by_route"].get(k, 0) - before["by_route"].get(k, 0) for k in after["by_route"]}
        created = routes.get("POST /sale/product-offers", 0)
        window = stamps[-1] - stamps[0] if len(stamps) > 1 else 0.0
        return {
            "offers_created": created,
            "cycle_wall_s": round(wall, 2),
            "cycle_cpu_s": round(report.cpu_seconds, 2),
            "offers_per_s": round(created / wall, 1) if wall else None,
            "offers_per_s_first_to_last": round((len(stamps) - 1) / window, 1) if window else None,
            "first_offer_after_s": round(stamps[0] - started, 2) if stamps else None,
            "requests": after["total"] - before["total"],
            "requests_by_route": {k: v for k, v in sorted(routes.items()) if v},
            "http_429": after["sent_429"] - before["sent_429"],
            "errors": report.errors[:5],
            "next_cycle": follow.as_dict(),
        }
    finally:
        emulator.stop()


async def run(folder: Path, products: int, creation_limit: int, emit: Any) -> None:
    limited = await _list(
        folder / "limited",
        products,
        {"client_rate_limit_per_minute": 9000, "offer_creation_limit_per_minute": creation_limit},
        {"offer_creations_per_minute": creation_limit, "requests_per_minute": 9000},
    )
    free = await _list(
        folder / "unlimited",
        products,
        {
            "client_rate_limit_per_minute": NO_LIMIT,
            "offer_creation_limit_per_minute": None,
            "seller_offer_edits_per_minute": None,
            "seller_offer_reads_per_minute": None,
        },
        {"requests_per_minute": NO_LIMIT, "offer_creations_per_minute": None},
        "listing",
    )
    emit(
        {
            "scenario": "listing",
            "products": products,
            "latency_ms": LATENCY_MS,
            "creation_limit_per_minute": creation_limit,
            "client_limit_per_minute": 9000,
            "limited": limited,
            "fraction_of_creation_limit": round(
                limited["offers_created"] / limited["cycle_wall_s"] * 60 / creation_limit, 3
            ),
            "fraction_of_creation_limit_while_creating": round(
                (limited["offers_per_s_first_to_last"] or 0) * 60 / creation_limit, 3
            ),
            "unlimited": free,
            "unlimited_offers_per_s": free["offers_per_s"],
            "max_concurrency": 16,
        }
    )
