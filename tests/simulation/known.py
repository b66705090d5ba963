"""Engine bugs the simulation found and the lead engineer has been told about, by their signature.

Each entry recognises the violations one bug causes. A seed whose violations are all recognised is an
expected failure; remove an entry once its bug is fixed (its seeds then pass, or show what else is wrong).
"""

from __future__ import annotations

from collections.abc import Callable

from tests.simulation.world import Result, Violation

KNOWN: dict[str, tuple[str, Callable[[Violation], bool]]] = {}
"""Open bugs by signature. B1-B13 (verify reads deduplicated, form.ready not persisted, stale create quantity,
ambiguous purchase never re-verified, sold out assumed with a GAIN in flight, late folding of outcomes,
unsent increases sent stale, a decrease before the owed read, an absolute PATCH re-sent by the client, an
adopted ended offer never restocked, a restock retried with its planned quantity) are fixed; their seeds
run in test_regressions.py."""

UNSIGNED: dict[str, str] = {
    "B14-restocked-offer-emptied-before-the-answer-stays-ended": (
        "engine/offer_rules.py (OfferPatched, purpose restock) and the OFFER_ENDED handling during an "
        "operation: the restock PATCH is processed late (504 / 202 still processing); Allegro activates the "
        "offer, a buyer takes the last units and Allegro ends it (EMPTY_STOCK) before the engine records the "
        "outcome. The OFFER_ENDED event arrives while the restock is in flight and its endedBy is not kept; "
        "the PATCH's read-back and the verification show ENDED without endedBy, the model stores ended_by "
        "None, and quantity.decide never restocks an end of unknown cause: ENDED with stock in the "
        "warehouse for good (C1, undersell). An end observed for an offer our own restock was activating "
        "is restockable (EMPTY_STOCK), or the event's endedBy should survive the in-flight operation"
    ),
    "B15-content-update-blocks-the-end": (
        "engine/planning.py: an UpdateOffer (title/description/parameters PATCH) takes the offer's one "
        "in-flight slot like a stock operation. When its PATCH keeps failing (504, 409 still processing) "
        "and backs off, the END or decrease that other channels' sales require waits behind it for many "
        "cycles (S1). A content edit changes no stock: a decrease/END should never wait for it (or pre-empt "
        "it, as the design allows for the to-zero PATCH)"
    ),
}
"""Bugs whose violations look like any other S1 breach; the seeds they explain are listed below."""

KNOWN_SEEDS: dict[tuple[int, int, bool], str] = {
    (315, 1, True): "B14-restocked-offer-emptied-before-the-answer-stays-ended",
    (323, 1, True): "B14-restocked-offer-emptied-before-the-answer-stays-ended",
    (234, 5, True): "B14-restocked-offer-emptied-before-the-answer-stays-ended",
    (243, 5, True): "B14-restocked-offer-emptied-before-the-answer-stays-ended",
    (219, 5, True): "B15-content-update-blocks-the-end",
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
