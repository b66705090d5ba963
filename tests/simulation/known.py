"""Engine bugs the simulation found and the lead engineer has been told about, by their signature.

Each entry recognises the violations one bug causes. A seed whose violations are all recognised is an
expected failure; remove an entry once its bug is fixed (its seeds then pass, or show what else is wrong).
"""

from __future__ import annotations

from collections.abc import Callable

from tests.simulation.world import Result, Violation

KNOWN: dict[str, tuple[str, Callable[[Violation], bool]]] = {}
"""Open bugs by signature. B1-B12 (verify reads deduplicated, form.ready not persisted, stale create quantity,
ambiguous purchase never re-verified, sold out assumed with a GAIN in flight, late folding of outcomes,
unsent increases sent stale, a decrease before the owed read, an absolute PATCH re-sent by the client, an
adopted ended offer never restocked) are fixed; their seeds run in test_regressions.py."""

UNSIGNED: dict[str, str] = {
    "B13-restock-resent-with-its-planned-quantity": (
        "engine/allegro_writes.py _patch_once / engine/planning.py: a restock_offer carries the quantity of "
        "its planning. When its answer is lost (504) or the offer is still processing (409), the command is "
        "retried later with the same absolute stock: the read-first guard only checks that the offer is not "
        "buyable, not that the quantity is still the target. Meanwhile the first PATCH may have been applied "
        "and sold out (seed 71: buyers took 4, W fell to 0, the retry PATCHed 4 + ACTIVE) or other channels "
        "sold (seed 167: planned 8 at W 9, re-sent at W 7 - buffer 1 = 6): S1. The restock payload needs "
        "the same send-time admission as increases (target now, and nothing when it is 0)"
    ),
}
"""Bugs whose violations look like any other S1 breach; the seeds they explain are listed below."""

KNOWN_SEEDS: dict[tuple[int, int, bool], str] = {
    (71, 1, True): "B13-restock-resent-with-its-planned-quantity",
    (116, 1, True): "B13-restock-resent-with-its-planned-quantity",
    (167, 1, True): "B13-restock-resent-with-its-planned-quantity",
    (308, 1, True): "B13-restock-resent-with-its-planned-quantity",
    (331, 1, True): "B13-restock-resent-with-its-planned-quantity",
}
"""(seed, crash weight, extra faults) of seeds whose violations have no signature of their own, with the bug
that explains them (diagnosed by reading the seed's ledger timeline)."""


def classify(result: Result) -> tuple[list[Violation], set[str]]:
    """(violations no known bug explains, names of the known bugs seen)."""
    unknown: list[Violation] = []
    seen: set[str] = set()
    explained_by_seed = KNOWN_SEEDS.get((result.seed, result.crash_weight, result.extra_faults))
    for violation in result.violations:
        names = [name for name, (_, matches) in KNOWN.items() if matches(violation)]
        if names:
            seen.update(names)
        elif explained_by_seed is not None and result.strategy == "ours":
            seen.add(explained_by_seed)
        else:
            unknown.append(violation)
    return unknown, seen
