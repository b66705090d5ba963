"""Every seed the world simulation found failing, run explicitly, with what it caught.

A seed stays here after its bug is fixed: it then simply passes. While the bug is open it is a strict
xfail naming the bug (tests/simulation/known.py has the diagnosis), so the fix turns it into an XPASS
that fails until the marker is removed.
"""

from __future__ import annotations

import pytest

from tests.simulation.test_world import run_ours

REGRESSIONS: list[tuple[int, int, str, str]] = [
    # seed, crash weight, open bug (or "" once fixed), what it caught. B1-B6 were fixed in 0ff55fd.
    (0, 1, "", "needs_verify never cleared: the offer is never restocked although the warehouse has stock"),
    (7, 1, "", "B1 again under the crash points of 9382fa4 (seed 0 no longer reaches it)"),
    (20, 1, "", "verify read while a GAIN is in flight is ignored; the re-verify in the same second is dropped"),
    (3, 1, "", "replay --verify reports a READY_FOR_PROCESSING form whose stored projection still says not ready"),
    (30, 1, "", "an offer created after a 5xx retry shows 8 while the warehouse holds 4 (S1)"),
    (61, 1, "", "a purchase 0.x s after a restock read is taken as included: Allegro shows 7, model and target 10"),
    (80, 1, "", "same, after a restock PATCH: Allegro shows 1, model 2, target 2; nothing re-reads it"),
    (15, 1, "", "PATCH stock 7 + ACTIVE on an ACTIVE offer after a purchase emptied the model during a GAIN +6 (S3)"),
    (44, 1, "", "other channels took 4 units right after a GAIN +4 executed; the GAIN -4 went out a cycle late (S1)"),
    (81, 1, "", "same: exposure 5 > W 5 - buffer 2 for a whole cycle after the engine had read the new stock"),
    (86, 1, "", "W fell to 0 while a GAIN -3 was in flight; after it executed the END waited one more cycle (S1)"),
    (
        174,
        1,
        "",
        "killed after the offer journal page was stored, before its /parts read-back: a seller's ACTIVATE "
        "was never read (ACTIVE with 1 at W 0, S1 and C1); seen on the tree before 0ff55fd, passes since",
    ),
    (
        113,
        1,
        "",
        "panel 1 then 6 on SKU-4 while a GAIN +5 was in flight: GAIN -3 from the model, then -2 after "
        "the read, exposure 4 > W 4 - buffer 2 between them",
    ),
    (
        56,
        5,
        "",
        "a seller cancellation restored W to 2 and planned GAIN +1; killed; another channel sold 1; the "
        "restarted engine sent the +1 anyway (A 2 > W 1)",
    ),
    (93, 5, "", "GAIN +2 planned before the seller typed 6 in the panel went out after it: A 8 > W 6 - buffer 2"),
    (219, 5, "", "GAIN +2 for a delivery killed before it was sent; other channels took 4; the restart sent the +2"),
    (260, 1, "", "a cancellation Allegro restocked + other channels' sale: GAIN -2 from the model, -1 after the read"),
    (339, 1, "", "same staircase (-1, -1, -1) while Allegro had put cancelled units back"),
    (272, 5, "", "POST answered, engine killed; buyers emptied the offer; adopted ENDED, never restocked at W 2"),
]


EXTRA_FAULT_REGRESSIONS: list[tuple[int, int, str, str]] = [
    # seed (profile with extra_faults=True), crash weight, open bug, what it caught
    (5, 1, "", "restock PATCH {stock 3, ACTIVE}: 504 after the write, re-sent by the client onto the ACTIVE offer"),
    (21, 1, "", "same with stock 11"),
    (71, 1, "", "restock {4, ACTIVE} re-sent after 504/409 although buyers had emptied the offer and W was 0"),
    (167, 1, "", "restock {8, ACTIVE} planned at W 9, re-sent after other channels took 2 (target 6)"),
    (
        323,
        1,
        "",
        "restock {1, ACTIVE} processed late; a buyer took the unit (EMPTY_STOCK) before the engine saw the "
        "answer; the model says ENDED by nobody and never restocks although W is 4",
    ),
    (315, 1, "", "same, W 5"),
    (234, 5, "", "same with crashes, W 1"),
    (
        219,
        5,
        "",
        "an update_offer PATCH kept answering 504/409; other channels took 4 (target 0) and the END "
        "waited behind it for many cycles with 2 units exposed",
    ),
    (427, 1, "", "restock {3, ACTIVE} answered 504; the seller ended the offer; the retry re-activated it"),
    (320, 5, "", "restock {1, ACTIVE} planned at W 3, answer lost; other channels took 3; 1 unit shown at W 0"),
    (489, 5, "", "same: restock {1, ACTIVE} at W 2, other channels took 1, buffer 1 (target 0)"),
]


def _case(seed: int, weight: int, bug: str, caught: str) -> object:
    marks = [pytest.mark.xfail(strict=True, reason=bug)] if bug else []
    name = f"seed{seed}" if weight == 1 else f"seed{seed}-crashes{weight}"
    return pytest.param(seed, weight, caught, id=name, marks=marks)


@pytest.mark.anyio
@pytest.mark.parametrize(("seed", "weight", "caught"), [_case(*r) for r in REGRESSIONS])
async def test_regression_seed_keeps_every_invariant(seed: int, weight: int, caught: str) -> None:
    result = await run_ours(seed, crash_weight=weight)
    assert not result.violations, f"{caught}\n{result.report()}"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("seed", "weight", "caught"),
    [
        pytest.param(
            seed,
            weight,
            caught,
            id=f"seed{seed}-extra" + ("" if weight == 1 else f"-crashes{weight}"),
            marks=[pytest.mark.xfail(strict=True, reason=bug)] if bug else [],
        )
        for seed, weight, bug, caught in EXTRA_FAULT_REGRESSIONS
    ],
)
async def test_extra_fault_regression_seed_keeps_every_invariant(seed: int, weight: int, caught: str) -> None:
    result = await run_ours(seed, crash_weight=weight, extra_faults=True)
    assert not result.violations, f"{caught}\n{result.report()}"
