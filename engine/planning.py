"""Deciding what one product needs now: an offer, an end, a quantity operation, a price or a content update.

Called by the reducer after anything about a product changed. Pure: it reads the state, updates the
bookkeeping of what it started (commands in flight) and returns the commands.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from engine import listing, quantity
from engine.commands import (
    ChangePrice,
    ChangeQuantity,
    Command,
    CreateOffer,
    EndOffer,
    RestockOffer,
    UpdateOffer,
    VerifyOffer,
    WriteBack,
    command_id,
)
from engine.model import OfferStatus
from engine.state import OfferState, ProductState, State


def hold_active(state: State, product: ProductState) -> bool:
    if product.hold_until is None:
        return False
    return state.covered_until is None or state.covered_until < product.hold_until


def is_listed(product: ProductState) -> bool:
    return product.row is not None and product.row.list and not product.removed


EDITS = frozenset({UpdateOffer.KIND, ChangePrice.KIND})
"""Operations that change no stock."""


def plan_products(state: State, product_ids: set[str] | list[str], cause: int) -> list[Command]:
    commands: list[Command] = []
    for pid in sorted(product_ids):
        product = state.products.get(pid)
        if product is not None:
            commands += plan_product(state, product, cause)
    return commands


def plan_product(state: State, product: ProductState, cause: int) -> list[Command]:
    policy = state.policy
    listed = is_listed(product)
    primary = state.offers.get(product.offer_id) if product.offer_id is not None else None
    if primary is not None and primary.status == OfferStatus.ARCHIVED:
        product.offer_id, primary = None, None
        state.touch("product", product.product_id)
    if primary is None:
        if listed and product.creating is None and policy.flows.listing:
            return _list(state, product, cause)
        return []
    if primary.inflight is not None:
        if primary.inflight_kind in EDITS and listed and policy.flows.stock:
            # A title or price edit changes no stock: a decrease or an end must not wait behind it.
            command = _quantity(state, product, primary, cause, decrease_only=True)
            return [command] if command is not None else []
        return []
    if not listed:
        if primary.status.buyable and policy.end_when_unlisted and policy.flows.listing:
            why = "removed from the warehouse query" if product.removed else "no longer marked for listing"
            return [
                _start(
                    state,
                    primary,
                    EndOffer(
                        id=command_id(EndOffer.KIND, primary.offer_id, str(cause)),
                        reason=f"product {product.product_id} {why}: end offer {primary.offer_id}",
                        offer_id=primary.offer_id,
                        purpose="unlist",
                    ),
                )
            ]
        return []
    if primary.needs_verify:
        # A read costs one GET and no command latency: reading first means the next write is computed from
        # what Allegro really shows (a seller's panel edit, units put back after a cancellation).
        return [
            _start(
                state,
                primary,
                VerifyOffer(
                    id=command_id(VerifyOffer.KIND, primary.offer_id, str(cause)),
                    reason=primary.verify_reason or "read the offer back before any increase",
                    offer_id=primary.offer_id,
                ),
            )
        ]
    if policy.flows.stock:
        command = _quantity(state, product, primary, cause)
        if command is not None:
            return [command]
    row = product.row
    assert row is not None
    if policy.flows.price and row.price is not None and primary.price != row.price:
        return [
            _start(
                state,
                primary,
                ChangePrice(
                    id=command_id(ChangePrice.KIND, primary.offer_id, str(cause)),
                    reason=f"warehouse price {row.price}; Allegro shows {primary.price}",
                    offer_id=primary.offer_id,
                    price=row.price,
                ),
            )
        ]
    wanted = listing.content_hash(row, policy)
    if policy.flows.listing and wanted != primary.content_hash:
        return [
            _start(
                state,
                primary,
                UpdateOffer(
                    id=command_id(UpdateOffer.KIND, primary.offer_id, str(cause)),
                    reason="title, description, images or parameters changed in the warehouse",
                    offer_id=primary.offer_id,
                    patch=listing.content(row, policy),
                    content_hash=wanted,
                ),
            )
        ]
    return []


def _list(state: State, product: ProductState, cause: int) -> list[Command]:
    row = product.row
    assert row is not None
    if product.rejected_hash == product.row_hash:
        return []
    problems = listing.problems(row, state.policy, state.categories)
    state.touch("product", product.product_id)
    if problems:
        product.problems, product.rejected_hash = problems, product.row_hash
        return write_back(state, product, cause, problem="; ".join(problems))
    goal = quantity.target(product, state.offers_of(product), state.policy)
    available = 0 if goal is None or product.unknown else goal.available
    command = CreateOffer(
        id=command_id(CreateOffer.KIND, product.product_id, str(cause)),
        reason=f"product {product.product_id} is marked for listing and has no offer; "
        + (goal.explanation if goal else "stock unknown: listed inactive"),
        product_id=product.product_id,
        external_id=product.external_id,
        ean=row.ean,
        body=listing.offer_body(row, state.policy, available),
        content_hash=listing.content_hash(row, state.policy),
    )
    product.creating, product.problems = command.id, ()
    return [command]


def _quantity(
    state: State, product: ProductState, offer: OfferState, cause: int, *, decrease_only: bool = False
) -> Command | None:
    goal = quantity.target(product, state.offers_of(product), state.policy)
    if goal is None:
        return None
    hold = hold_active(state, product) or product.unknown is not None
    decision = quantity.decide(product, offer, goal, state.policy, hold=hold, listed=True, decrease_only=decrease_only)
    if decision is None:
        return None
    cid = command_id(decision.kind, offer.offer_id, str(cause))
    command: Command
    if decision.kind == "gain":
        command = ChangeQuantity(id=cid, reason=decision.reason, offer_id=offer.offer_id, delta=decision.value)
    elif decision.kind == "end":
        command = EndOffer(id=cid, reason=decision.reason, offer_id=offer.offer_id, purpose="zero")
    else:
        command = RestockOffer(id=cid, reason=decision.reason, offer_id=offer.offer_id, available=decision.value)
    return _start(state, offer, command)


def _start(state: State, offer: OfferState, command: Command) -> Command:
    offer.inflight, offer.inflight_kind = command.id, type(command).KIND
    state.touch("offer", offer.offer_id)
    return command


def write_back(
    state: State,
    product: ProductState,
    cause: int,
    *,
    offer: OfferState | None = None,
    problem: str | None = None,
) -> list[Command]:
    if not state.policy.write_back:
        return []
    return [
        WriteBack(
            id=command_id(WriteBack.KIND, product.product_id, str(cause)),
            reason="report the offer link back to the warehouse",
            product_id=product.product_id,
            offer_id=offer.offer_id if offer else None,
            status=offer.status.value if offer else None,
            problem=problem,
        )
    ]


def needs_verify(state: State, offer: OfferState, reason: str) -> None:
    """Read the offer back before its next write. Only the offer the engine manages is verified: the
    seller's other offers for the product are read, never written."""
    product = state.products.get(offer.product_id) if offer.product_id is not None else None
    if product is None or product.offer_id != offer.offer_id:
        return
    if not offer.needs_verify:
        offer.needs_verify, offer.verify_reason = True, reason
        state.touch("offer", offer.offer_id)


def end_observed(state: State, offer: OfferState, ended_by: str, at: datetime) -> None:
    """The offer stopped being buyable: hold its units as shadow until the journal covers the end."""
    if not offer.status.buyable:
        return
    offer.shadow += offer.expected
    offer.expected = 0
    offer.status = OfferStatus.ENDED
    offer.ended_by = ended_by
    offer.baseline_at = at
    state.touch("offer", offer.offer_id)
    if offer.product_id is not None:
        hold(state, state.products[offer.product_id], at)


def hold(state: State, product: ProductState, at: datetime) -> None:
    until = at + timedelta(seconds=state.policy.journal_grace_seconds)
    if product.hold_until is None or product.hold_until < until:
        product.hold_until = until
        state.held.add(product.product_id)
        state.touch("product", product.product_id)
