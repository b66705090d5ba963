"""Every seed the world simulation found failing, run explicitly, with what it caught.

A seed stays here after its bug is fixed: it then simply passes. While the bug is open it is a strict
xfail naming the bug (tests/simulation/known.py has the diagnosis), so the fix turns it into an XPASS
that fails until the marker is removed.
"""

from __future__ import annotations

import pytest

from tests.simulation.test_world import run_ours

REGRESSIONS: list[tuple[int, str, str]] = [
    # seed, open bug (or "" once fixed), what it caught. B1-B6 were fixed in the engine; the seeds stay.
    (0, "", "needs_verify never cleared: the offer is never restocked although the warehouse has stock"),
    (20, "", "verify read while a GAIN is in flight is ignored; the re-verify in the same second is dropped"),
    (3, "", "replay --verify reports a READY_FOR_PROCESSING form whose stored projection still says not ready"),
    (30, "", "an offer created after a 5xx retry shows 8 while the warehouse holds 4 (S1)"),
    (61, "", "a purchase 0.x s after a restock read is taken as included: Allegro shows 7, model and target 10"),
    (80, "", "same, after a restock PATCH: Allegro shows 1, model 2, target 2; nothing re-reads it"),
    (15, "", "PATCH stock 7 + ACTIVE on an ACTIVE offer after a purchase emptied the model during a GAIN +6 (S3)"),
    (44, "", "other channels took 4 units right after a GAIN +4 executed; the GAIN -4 went out a cycle late (S1)"),
    (81, "", "same: exposure 5 > W 5 - buffer 2 for a whole cycle after the engine had read the new stock"),
    (86, "", "W fell to 0 while a GAIN -3 was in flight; after it executed the END waited one more cycle (S1)"),
]


def _case(seed: int, bug: str, caught: str) -> object:
    marks = [pytest.mark.xfail(strict=True, reason=bug)] if bug else []
    return pytest.param(seed, caught, id=f"seed{seed}", marks=marks)


@pytest.mark.anyio
@pytest.mark.parametrize(("seed", "caught"), [_case(*r) for r in REGRESSIONS])
async def test_regression_seed_keeps_every_invariant(seed: int, caught: str) -> None:
    result = await run_ours(seed)
    assert not result.violations, f"{caught}\n{result.report()}"
