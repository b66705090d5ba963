"""Engine bugs the simulation found and the lead engineer has been told about, by their signature.

Each entry recognises the violations one bug causes. A seed whose violations are all recognised is an
expected failure; remove an entry once its bug is fixed (its seeds then pass, or show what else is wrong).
"""

from __future__ import annotations

from collections.abc import Callable

from tests.simulation.world import Result, Violation

KNOWN: dict[str, tuple[str, Callable[[Violation], bool]]] = {
    "B11-absolute-patch-resent-by-the-client": (
        "adapters/allegro/offers.py patch_offer sends its Call as idempotent (the default), so the caller "
        "re-sends a PATCH whose answer was lost (504 after the write) or failed with a 5xx. For a restock "
        "`{stock N, ACTIVE}` the first attempt already activated the offer: the retry is an absolute stock "
        "on a buyable offer and gives back whatever was bought in between (S3). The engine's read-first "
        "guard in allegro_writes._patch_once is bypassed because the retry happens inside the client",
        lambda v: v.invariant == "S3" and v.message.startswith("PATCH stock"),
    ),
}
"""Open bugs by signature. B1-B6 (verify reads deduplicated, form.ready not persisted, stale create quantity,
ambiguous purchase never re-verified, sold out assumed with a GAIN in flight, late folding of outcomes) are
fixed; their seeds run in test_regressions.py."""

UNSIGNED: dict[str, str] = {
    "B9-unsent-increase-holds-the-slot": (
        "engine/planning.py + engine/dispatch.py: an increase planned but not yet executed occupies the "
        "offer's one in-flight slot. Newer news (the warehouse falling, a seller raising the offer in the "
        "panel) cannot produce a decrease until it finishes, and after a crash the pending increase is sent "
        "as planned, without admission against the newer state: the offer exposes the increase on top of "
        "what it should have lost for a whole command latency (S1)"
    ),
    "B12-own-offer-adopted-ended-is-never-restocked": (
        "engine/allegro_writes.py send_creates + engine/offer_rules.py: killed after the POST that created "
        "the offer but before OfferCreated was stored; buyers empty it (EMPTY_STOCK); the restarted engine "
        "re-sends the create, adopts the offer from GET /sale/offers, which carries no endedBy, so the "
        "model has ended_by None, the end is not restockable and the offer stays ENDED while the warehouse "
        "has stock (C1, undersell). An offer adopted for the engine's own CreateOffer, or any ended offer "
        "of unknown cause, needs its endedBy read from /sale/product-offers/{id}"
    ),
    "B10-decrease-before-the-owed-read": (
        "engine/planning.py: when an offer owes a verification read, the decrease goes out first, computed "
        "from the unverified model; the read then shows units the seller added in the panel, and the rest of "
        "the correction waits for the first decrease to finish (one op in flight): two command latencies "
        "instead of one (S1). Reading first costs one GET and no latency"
    ),
}
"""Bugs whose violations look like any other S1 breach; the seeds they explain are listed below."""

KNOWN_SEEDS: dict[tuple[int, int], str] = {
    (113, 1): "B10-decrease-before-the-owed-read",
    (260, 1): "B10-decrease-before-the-owed-read",
    (339, 1): "B10-decrease-before-the-owed-read",
    (56, 5): "B9-unsent-increase-holds-the-slot",
    (93, 5): "B9-unsent-increase-holds-the-slot",
    (219, 5): "B9-unsent-increase-holds-the-slot",
    (272, 5): "B12-own-offer-adopted-ended-is-never-restocked",
}
"""(seed, crash weight) of seeds whose violations have no signature of their own, with the bug that explains
them (diagnosed by reading the seed's ledger timeline)."""


def classify(result: Result) -> tuple[list[Violation], set[str]]:
    """(violations no known bug explains, names of the known bugs seen)."""
    unknown: list[Violation] = []
    seen: set[str] = set()
    explained_by_seed = KNOWN_SEEDS.get((result.seed, result.crash_weight))
    for violation in result.violations:
        names = [name for name, (_, matches) in KNOWN.items() if matches(violation)]
        if names:
            seen.update(names)
        elif explained_by_seed is not None and result.strategy == "ours":
            seen.add(explained_by_seed)
        else:
            unknown.append(violation)
    return unknown, seen
