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
    "B4-ambiguous-purchase-never-reverified": (
        "engine/orders.py _consume: a purchase within READ_PRECISION after a baseline read is counted as "
        "already in the read (safe for exposure) but nothing ever re-reads the offer, so E stays above "
        "Allegro's quantity for good and the offer shows less than ATP (C1)",
        lambda v: v.invariant == "C1" and _model_above_allegro(v.message),
    ),
    "B5-sold-out-assumed-with-increase-in-flight": (
        "engine/orders.py _consume ends the offer in the model (EMPTY_STOCK) when a purchase takes E to 0 "
        "although a GAIN increase is in flight; the GAIN's success is then ignored and the later restock "
        "PATCHes an absolute stock onto an offer that is ACTIVE (S3)",
        lambda v: v.invariant == "S3" and v.message.startswith("PATCH stock"),
    ),
}

UNSIGNED: dict[str, str] = {
    "B3-stale-create-quantity": (
        "engine/planning.py _list puts the ATP of the moment into CreateOffer.body; a create retried later "
        "(RetryLater after a 5xx, backoff 30 s) publishes that stale quantity although the warehouse fell "
        "meanwhile: the new offer exposes more than W - buffer until a GAIN corrects it"
    ),
    "B6-outcomes-of-a-cycle-not-folded": (
        "engine/cycle.py _cycle leaves the follow-up loop when dispatch attempted nothing new, but "
        "poll_batches may just have recorded outcomes (QuantityChanged): they are folded only next cycle, "
        "so the decrease (or END) that other channels' sales require waits one more poll interval"
    ),
}
"""Bugs whose violations look like any other S1 breach; the seeds they explain are listed below."""

KNOWN_SEEDS: dict[int, str] = {
    30: "B3-stale-create-quantity",
    44: "B6-outcomes-of-a-cycle-not-folded",
    81: "B6-outcomes-of-a-cycle-not-folded",
    86: "B6-outcomes-of-a-cycle-not-folded",
}
"""Seeds whose violations have no signature of their own, with the bug that explains them (diagnosed by
reading the seed's ledger timeline)."""


def _model_above_allegro(message: str) -> bool:
    if "model expects" not in message:
        return False
    expected = int(message.split("model expects ")[1].split(",")[0])
    shows = int(message.split("Allegro shows ")[1].split()[0])
    return expected > shows


def classify(result: Result) -> tuple[list[Violation], set[str]]:
    """(violations no known bug explains, names of the known bugs seen)."""
    unknown: list[Violation] = []
    seen: set[str] = set()
    explained_by_seed = KNOWN_SEEDS.get(result.seed)
    b4_skus = {v.sku for v in result.violations if KNOWN["B4-ambiguous-purchase-never-reverified"][1](v)}
    for violation in result.violations:
        names = [name for name, (_, matches) in KNOWN.items() if matches(violation)]
        if not names and violation.invariant == "C1" and violation.sku in b4_skus:
            names = ["B4-ambiguous-purchase-never-reverified"]
        if names:
            seen.update(names)
        elif explained_by_seed is not None and result.strategy == "ours":
            seen.add(explained_by_seed)
        else:
            unknown.append(violation)
    return unknown, seen
