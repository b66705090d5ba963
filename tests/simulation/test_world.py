"""The world simulation in CI: 200 seeds, 40 crash-heavy seeds, 40 seeds with extra faults; the teeth.

Each seed builds a small world (2-4 SKUs, 20-40 steps of purchases, payments, cancellations, deliveries,
other channels' sales, seller-panel edits, emulator faults, clock jumps and engine crashes interleaved with
cycles), checks S1, S2 and S3 after every step, then drains and checks X1, C1, invariant 4, Q1 and the replay.

    ALLEGRO_SYNC_SIM_SEEDS=5000 pytest -m slow tests/simulation -k campaign   # seeds 200.., four modes
    python -m tests.simulation.show SEED [--crash-weight 5] [--extra-faults]  # replay one seed and explain it

A seed whose only violations are engine bugs already reported (`known.py`) is marked xfail naming them;
any other violation fails the test with the seed, the step, the SKU and the last steps of the run.
"""

from __future__ import annotations

import os

import pytest

from tests.simulation.checks import finish
from tests.simulation.engine_strategy import EngineStrategy
from tests.simulation.fixed_strategy import FixedStrategy
from tests.simulation.known import classify
from tests.simulation.world import Result, run_seed

CI_SEEDS = 200
CRASH_HEAVY_SEEDS = 40
CRASH_HEAVY_WEIGHT = 5
"""A second campaign where a crash is five times as likely a step (kill -9 mid-dispatch, restart)."""


EXTRA_FAULT_SEEDS = 40
"""A third campaign with lost answers after registration, PATCHes still processing, asynchronous creation, 429s."""


async def run_ours(seed: int, *, crash_weight: int = 1, extra_faults: bool = False) -> Result:
    world, result = await run_seed(seed, EngineStrategy, crash_weight=crash_weight, extra_faults=extra_faults)
    try:
        await finish(world)
    finally:
        await world.close()
    return result


async def judge_chunk(chunk: int, *, crash_weight: int = 1, extra_faults: bool = False) -> None:
    """20 seeds per test item, so that a failure names its seed and the report stays readable."""
    failures: list[str] = []
    known: set[str] = set()
    for seed in range(chunk * 20, chunk * 20 + 20):
        result = await run_ours(seed, crash_weight=crash_weight, extra_faults=extra_faults)
        unknown, bugs = classify(result)
        known |= bugs
        if unknown:
            failures.append(result.report())
    if failures:
        pytest.fail("\n\n".join(failures), pytrace=False)
    if known:
        pytest.xfail(f"known engine bugs: {', '.join(sorted(known))}")


@pytest.mark.anyio
@pytest.mark.parametrize("chunk", range(CI_SEEDS // 20))
async def test_world_seeds_keep_every_invariant(chunk: int) -> None:
    await judge_chunk(chunk)


@pytest.mark.anyio
@pytest.mark.parametrize("chunk", range(CRASH_HEAVY_SEEDS // 20))
async def test_crash_heavy_world_seeds_keep_every_invariant(chunk: int) -> None:
    await judge_chunk(chunk, crash_weight=CRASH_HEAVY_WEIGHT)


@pytest.mark.anyio
@pytest.mark.parametrize("chunk", range(EXTRA_FAULT_SEEDS // 20))
async def test_extra_fault_world_seeds_keep_every_invariant(chunk: int) -> None:
    await judge_chunk(chunk, extra_faults=True)


@pytest.mark.slow
@pytest.mark.anyio
async def test_world_campaign() -> None:
    """ALLEGRO_SYNC_SIM_SEEDS=5000 pytest -m slow tests/simulation -k campaign"""
    count = int(os.environ.get("ALLEGRO_SYNC_SIM_SEEDS", "1000"))
    failures, known = [], set()
    for seed in range(CI_SEEDS, CI_SEEDS + count):
        for weight, extra in ((1, False), (CRASH_HEAVY_WEIGHT, False), (1, True), (CRASH_HEAVY_WEIGHT, True)):
            result = await run_ours(seed, crash_weight=weight, extra_faults=extra)
            unknown, bugs = classify(result)
            known |= bugs
            if unknown:
                failures.append(f"seed {seed} (crash weight {weight}, extra faults {extra}): {unknown[0]}")
    assert not failures, "\n".join(failures)


@pytest.mark.anyio
async def test_fixed_strategy_breaks_safety_where_ours_holds() -> None:
    """Teeth: the peers' FIXED-per-change push oversells on a meaningful share of the same seeds."""
    broken = []
    for seed in range(60):
        world, result = await run_seed(seed, FixedStrategy)
        await world.close()
        if result.of("S1"):
            broken.append(seed)
    assert len(broken) >= 6, f"the FIXED strategy broke S1 on only {broken}: the simulation has no teeth"
    for seed in broken[:6]:
        ours = await run_ours(seed)
        assert not ours.of("S1"), ours.report()


@pytest.mark.anyio
@pytest.mark.parametrize(("crash_weight", "extra_faults"), [(1, False), (5, True)])
async def test_a_seed_replays_step_for_step(crash_weight: int, extra_faults: bool) -> None:
    """A failing seed is only a regression test if it reproduces: same steps, same clock, same requests."""
    runs = []
    for _ in range(2):
        world, result = await run_seed(11, EngineStrategy, crash_weight=crash_weight, extra_faults=extra_faults)
        try:
            await finish(world)
            runs.append((result.log, [str(v) for v in result.violations], dict(world.emu.stats.by_route)))
        finally:
            await world.close()
    assert runs[0] == runs[1]
