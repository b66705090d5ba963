"""Quantity planning without overselling (stock-sync.md section 6), as pure functions of one product.

ATP = max(0, W - P - shadow - buffer), 0 below the zero threshold, capped by `max_published`. On a buyable
offer only relative GAIN writes are used; 0 is reached by ending the offer; an ended offer is restocked by
one absolute PATCH (nobody can buy it meanwhile) once the order journal has covered its end. Decreases go
out at once; an increase waits for holds and verifications. One operation in flight per offer.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.model import OfferStatus
from engine.policy import Policy
from engine.state import OfferState, ProductState

RESTOCKABLE_ENDINGS = frozenset({"EMPTY_STOCK", "zero", "adopted"})
"""Ends the engine may undo on restock: sold out on Allegro, ended by us at 0, or found ended (of unknown
cause) when adopting an offer for a product marked for listing."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    atp: int
    available: int
    """What the managed offer should show: ATP less what the seller's other offers of the product expose."""
    explanation: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    offer_id: str
    kind: str
    """gain, end or restock."""
    value: int
    reason: str


def target(product: ProductState, offers: list[OfferState], policy: Policy) -> Target | None:
    """The target for the product's managed offer, or None while the warehouse stock is unknown."""
    if product.stock is None:
        return None
    shadow = sum(o.shadow for o in offers)
    atp = max(0, product.stock - product.pending - shadow - policy.buffer)
    note = ""
    if 0 < atp < policy.zero_threshold:
        atp, note = 0, f" (below zero_threshold {policy.zero_threshold})"
    if atp > policy.max_published:
        atp, note = policy.max_published, f" (capped at max_published {policy.max_published})"
    others = sum(o.expected for o in offers if o.offer_id != product.offer_id and o.status.buyable)
    available = max(0, atp - others)
    explanation = (
        f"stock {product.stock} - {product.pending} pending - {shadow} shadow - buffer {policy.buffer} = {atp}{note}"
    )
    if others:
        explanation += f"; {others} exposed on other offers with this external id"
    return Target(atp=atp, available=available, explanation=explanation)


def decide(
    product: ProductState,
    offer: OfferState,
    goal: Target,
    policy: Policy,
    *,
    hold: bool,
    listed: bool,
    decrease_only: bool = False,
) -> Decision | None:
    """The one quantity operation to start on the managed offer now, if any (`decrease_only`: while a
    content or price edit is in flight, which a decrease may overtake)."""
    if offer.inflight is not None and not decrease_only:
        return None
    wanted = goal.available
    shows = f"{goal.explanation}; Allegro shows {offer.expected} ({offer.status.value})"
    if offer.status.buyable:
        if wanted == 0:
            return Decision(offer_id=offer.offer_id, kind="end", value=0, reason=f"{shows}: end at 0")
        if wanted < offer.expected:
            delta = wanted - offer.expected
            return Decision(offer_id=offer.offer_id, kind="gain", value=delta, reason=f"{shows}: GAIN {delta}")
        if wanted > offer.expected and not hold and not offer.needs_verify and not decrease_only:
            delta = wanted - offer.expected
            return Decision(offer_id=offer.offer_id, kind="gain", value=delta, reason=f"{shows}: GAIN +{delta}")
        return None
    if wanted < 1 or hold or offer.needs_verify or not listed or decrease_only:
        return None
    restockable = (
        offer.status == OfferStatus.ENDED
        and policy.reactivate_on_restock
        and (offer.ended_by in RESTOCKABLE_ENDINGS or offer.ended_by == "unlist")
    )
    activatable = offer.status == OfferStatus.INACTIVE and policy.offer_defaults.publish
    if restockable or activatable:
        return Decision(
            offer_id=offer.offer_id,
            kind="restock",
            value=wanted,
            reason=f"{shows}: restock to {wanted} and activate",
        )
    return None
