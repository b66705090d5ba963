"""Admission of increases at send time: an increase planned earlier must still fit the newest state.

The reducer admits an increase against the state it planned from. If the command could not go out then (a
crash, a backoff, a request Allegro never received), the warehouse may have fallen since: before sending
such an increase the dispatcher checks it again, and drops it when it no longer fits.
"""

from __future__ import annotations

from engine import planning, quantity
from engine.context import Context
from engine.fold import state_of
from engine.ports import CommandRecord


def restock_now(ctx: Context, offer_id: str) -> int:
    """What a restock of this (ended) offer may publish now: the target of the moment, 0 while on hold."""
    state = state_of(ctx)
    offer = state.offers.get(offer_id)
    product = state.products.get(offer.product_id) if offer is not None and offer.product_id else None
    if product is None or planning.hold_active(state, product) or product.unknown:
        return 0
    if offer is not None and offer.ended_by not in quantity.RESTOCKABLE_ENDINGS | {"unlist", None}:
        return 0  # ended by the seller or Allegro meanwhile: never undone
    goal = quantity.target(product, state.offers_of(product), state.policy)
    return 0 if goal is None else goal.available


def stale_increase(ctx: Context, command: CommandRecord) -> str | None:
    """Why this unexecuted increase no longer fits (None when it still does, or it is not an increase)."""
    if command.kind not in ("change_quantity", "restock_offer"):
        return None
    increase = int(command.payload.get("delta", command.payload.get("available", 0)))
    if increase <= 0:
        return None
    state = state_of(ctx)
    offer = state.offers.get(command.target)
    product = state.products.get(offer.product_id) if offer is not None and offer.product_id else None
    if offer is None or product is None:
        return None
    goal = quantity.target(product, state.offers_of(product), state.policy)
    now = offer.expected if command.kind == "change_quantity" else 0
    if goal is not None and now + increase <= goal.available and not planning.hold_active(state, product):
        return None
    target = goal.available if goal is not None else "unknown"
    return f"the increase of {increase} no longer fits: Allegro shows {now}, the target is now {target}"
