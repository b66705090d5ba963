"""Engine bugs the simulation found and the lead engineer has been told about, by their signature.

Each entry recognises the violations one bug causes. A seed whose violations are all recognised is an
expected failure; remove an entry once its bug is fixed (its seeds then pass, or show what else is wrong).
"""

from __future__ import annotations

from collections.abc import Callable

from tests.simulation.world import Result, Violation

KNOWN: dict[str, tuple[str, Callable[[Violation], bool]]] = {
    "B1-verify-read-deduplicated": (
        "engine/ingest.py record_reads: a second verification of an unchanged offer within the same Date "
        "second gets the same source key, the ledger drops it, and `needs_verify` is never cleared",
        lambda v: v.invariant == "DRAIN" and "verify True" in v.message and "sent" not in v.message,
    ),
    "B2-form-ready-not-persisted": (
        "engine/reducer.py _order_event/_checkout_form set form.ready without state.touch('form', ...)",
        lambda v: v.invariant == "REPLAY" and "differs in ready" in v.message,
    ),
}

KNOWN_SEEDS: dict[int, str] = {}
"""Seeds whose violations have no signature of their own, with the bug that explains them."""


def classify(result: Result) -> tuple[list[Violation], set[str]]:
    """(violations no known bug explains, names of the known bugs seen)."""
    unknown: list[Violation] = []
    seen: set[str] = set()
    explained_by_seed = KNOWN_SEEDS.get(result.seed)
    for violation in result.violations:
        names = [name for name, (_, matches) in KNOWN.items() if matches(violation)]
        if names:
            seen.update(names)
        elif explained_by_seed is not None and result.strategy == "ours":
            seen.add(explained_by_seed)
        else:
            unknown.append(violation)
    return unknown, seen
