"""Engine bugs the simulation found and the lead engineer has been told about, by their signature.

Each entry recognises the violations one bug causes. A seed whose violations are all recognised is an
expected failure; remove an entry once its bug is fixed (its seeds then pass, or show what else is wrong).
"""

from __future__ import annotations

from collections.abc import Callable

from tests.simulation.world import Result, Violation

KNOWN: dict[str, tuple[str, Callable[[Violation], bool]]] = {}
"""Open bugs by signature. B1-B17 are fixed (verify reads deduplicated, form.ready not persisted, stale
create quantity, ambiguous purchase never re-verified, sold out assumed with a GAIN in flight, late folding of
outcomes, unsent increases sent stale, a decrease before the owed read, an absolute PATCH re-sent by the
client, an adopted ended offer never restocked, a restock retried with its planned quantity, a restock
emptied before its answer, an edit holding the slot an end needs, a restock retry undoing a seller's end, a
lost restock answer waiting out its backoff); their seeds run in test_regressions.py."""

UNSIGNED: dict[str, str] = {}
"""Bugs whose violations look like any other S1 breach; the seeds they explain are listed below."""

KNOWN_SEEDS: dict[tuple[int, int, bool], str] = {}
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
