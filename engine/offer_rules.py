"""Reducer rules for offers: what Allegro's offer journal and reads say, and the outcomes of offer commands.

Part of the pure reducer (see `engine.reducer`): no clock, no I/O; times come from the events.
"""

from __future__ import annotations

from engine import planning
from engine.commands import Command
from engine.events import (
    CommandFailed,
    CommandSkipped,
    CommandSuperseded,
    OfferCreated,
    OfferEventObserved,
    OfferObserved,
    OfferPatched,
    OfferRejected,
    OffersUnread,
    PriceChanged,
    QuantityChanged,
)
from engine.model import OfferSnapshot, OfferStatus
from engine.orders import READ_PRECISION
from engine.quantity import RESTOCKABLE_ENDINGS
from engine.state import OfferState, ProductState, State

CHANGES_WORTH_A_READ = frozenset({"OFFER_STOCK_CHANGED", "OFFER_PRICE_CHANGED", "OFFER_ACTIVATED"})

# ---------------------------------------------------------------------------------------------- offers


def offer_event(state: State, event: OfferEventObserved, seq: int) -> list[Command]:
    info = event.offer_event
    offer = state.offers.get(info.offer_id)
    if offer is None:
        return []
    if info.type == "OFFER_ENDED" and not offer.status.buyable and offer.ended_by is None:
        # Someone re-activated it (see below) and it ended again, e.g. sold out: take the new reason.
        offer.ended_by = info.ended_by or "UNKNOWN"
        state.touch("offer", offer.offer_id)
        if offer.product_id is not None:
            planning.hold(state, state.products[offer.product_id], event.occurred_at)
    elif info.type == "OFFER_ENDED" and not offer.status.buyable:
        # Already ended in the model. An end of another kind after our own (e.g. the seller ending it while
        # our restock was in flight) is kept, so that it is never undone; our own end's echo is not.
        later = offer.baseline_at is None or event.occurred_at > offer.baseline_at + READ_PRECISION
        if info.ended_by and info.ended_by not in RESTOCKABLE_ENDINGS and later:
            offer.ended_by = info.ended_by
            state.touch("offer", offer.offer_id)
    elif info.type == "OFFER_ENDED":
        planning.end_observed(state, offer, info.ended_by or "UNKNOWN", event.occurred_at)
    elif info.type == "OFFER_ARCHIVED":
        offer.status = OfferStatus.ARCHIVED
        state.touch("offer", offer.offer_id)
    elif info.type in CHANGES_WORTH_A_READ:
        if info.type == "OFFER_ACTIVATED" and not offer.status.buyable and offer.inflight is None:
            # Activated by someone else after the end we know of: the old end reason no longer holds.
            offer.ended_by = None
        # The event carries no values: read the offer back through the outbox (crash-safe, batched, after
        # any operation in flight), so that a seller's panel edit is noticed without waiting for reconciliation.
        planning.needs_verify(state, offer, f"{info.type}: read the new stock, price and status")
    else:
        return []
    return planning.plan_products(state, {offer.product_id} if offer.product_id else set(), seq)


def offers_unread(state: State, event: OffersUnread, seq: int) -> list[Command]:
    touched: set[str] = set()
    for offer_id in event.offer_ids:
        offer = state.offers.get(offer_id)
        if offer is not None and offer.product_id is not None:
            planning.needs_verify(state, offer, f"its read after a journal event failed ({event.reason})")
            touched.add(offer.product_id)
    return planning.plan_products(state, touched, seq)


def offer_observed(state: State, event: OfferObserved, seq: int) -> list[Command]:
    seen = event.offer
    offer = state.offers.get(seen.offer_id)
    if offer is None:
        product = state.product_for(seen.external_id, None)
        offer = _new_offer(state, seen, product)
        return planning.plan_products(state, {product.product_id} if product else set(), seq)
    if event.why == "verify" and offer.inflight_kind == "verify_offer":
        offer.inflight = offer.inflight_kind = None
    if offer.inflight is not None:
        return []
    _apply_read(state, offer, seen)
    if event.why == "verify":
        offer.needs_verify, offer.verify_reason = False, ""
    return planning.plan_products(state, {offer.product_id} if offer.product_id else set(), seq)


def _new_offer(state: State, seen: OfferSnapshot, product: ProductState | None) -> OfferState:
    offer = OfferState(
        offer_id=seen.offer_id,
        product_id=None,
        status=seen.status,
        expected=seen.available if seen.status.buyable else 0,
        baseline_at=seen.read_at + READ_PRECISION,
        ended_by=seen.ended_by,
        price=seen.price,
    )
    state.offers[seen.offer_id] = offer
    state.link(offer, product.product_id if product else None)
    if product is not None and product.offer_id is None and product.creating is None:
        product.offer_id = offer.offer_id
        state.touch("product", product.product_id)
    return offer


def _apply_read(state: State, offer: OfferState, seen: OfferSnapshot) -> None:
    """Reconcile the model with a quiescent read: more than expected is accepted at once; less is held as
    shadow until the order journal explains it."""
    state.touch("offer", offer.offer_id)
    offer.price = seen.price
    baseline = seen.read_at + READ_PRECISION
    if seen.status == OfferStatus.ARCHIVED:
        offer.status = OfferStatus.ARCHIVED
    elif offer.status.buyable and not seen.status.buyable:
        planning.end_observed(state, offer, seen.ended_by or "UNKNOWN", seen.read_at)
    elif seen.status.buyable:
        if not offer.status.buyable:
            offer.expected, offer.ended_by = seen.available, None
        elif seen.available < offer.expected:
            offer.shadow += offer.expected - seen.available
            offer.expected = seen.available
            if offer.product_id is not None:
                planning.hold(state, state.products[offer.product_id], seen.read_at)
        else:
            offer.expected = seen.available
        offer.status, offer.baseline_at = seen.status, baseline
    else:
        offer.status = seen.status
        offer.ended_by = seen.ended_by or offer.ended_by


# ---------------------------------------------------------------------------------------------- outcomes


def _finish(state: State, offer: OfferState, command_id_: str, seq: int) -> list[Command]:
    """Free the offer's slot and plan what comes next (a pending verification among it)."""
    if offer.inflight == command_id_:
        offer.inflight = offer.inflight_kind = None
    state.touch("offer", offer.offer_id)
    return planning.plan_products(state, {offer.product_id} if offer.product_id else set(), seq)


def offer_created(state: State, event: OfferCreated, seq: int) -> list[Command]:
    product = state.ensure_product(event.product_id)
    if product.creating == event.command_id:
        product.creating = None
    offer = state.offers.get(event.offer.offer_id)
    if offer is None:
        offer = _new_offer(state, event.offer, product)
    else:
        _apply_read(state, offer, event.offer)
        state.link(offer, product.product_id)
    product.offer_id, product.problems = offer.offer_id, ()
    offer.content_hash = "" if event.adopted else event.content_hash
    if event.adopted and offer.status == OfferStatus.ENDED and offer.ended_by in (None, "UNKNOWN"):
        # Found ended while creating it (e.g. ours from before a crash, since sold out); the offer list
        # says nothing of why. The warehouse marks the product for listing: it may be restocked.
        offer.ended_by = "adopted"
    return planning.write_back(state, product, seq, offer=offer) + planning.plan_product(state, product, seq)


def offer_rejected(state: State, event: OfferRejected, seq: int) -> list[Command]:
    product = state.ensure_product(event.product_id)
    if product.creating == event.command_id:
        product.creating = None
    product.problems, product.rejected_hash = event.problems, product.row_hash
    return planning.write_back(state, product, seq, problem="; ".join(event.problems))


def quantity_changed(state: State, event: QuantityChanged, seq: int) -> list[Command]:
    offer = state.offers.get(event.offer_id)
    if offer is None:
        return []
    if event.succeeded and offer.status.buyable:
        offer.expected += event.delta
    elif not event.succeeded:
        planning.needs_verify(state, offer, "the last operation on it failed: read it back first")
    return _finish(state, offer, event.command_id, seq)


def price_changed(state: State, event: PriceChanged, seq: int) -> list[Command]:
    offer = state.offers.get(event.offer_id)
    if offer is None:
        return []
    if event.succeeded:
        offer.price = event.price
    return _finish(state, offer, event.command_id, seq)


def offer_patched(state: State, event: OfferPatched, seq: int) -> list[Command]:
    offer = state.offers.get(event.offer_id)
    if offer is None:
        return []
    seen = event.offer
    if event.purpose in ("zero", "unlist"):
        planning.end_observed(state, offer, event.purpose, seen.read_at)
        if offer.status == OfferStatus.ENDED:
            offer.ended_by = event.purpose if offer.ended_by in (None, "UNKNOWN", "EMPTY_STOCK") else offer.ended_by
    elif event.purpose == "restock" and not seen.status.buyable and event.requested > 0:
        # Activated and emptied again before the answer was recorded: its units may be sold unseen.
        offer.status, offer.expected = OfferStatus.ACTIVE, event.requested
        planning.end_observed(state, offer, seen.ended_by or "EMPTY_STOCK", seen.read_at)
    elif event.purpose == "restock":
        prior = offer.ended_by
        offer.status = seen.status
        offer.ended_by = None if seen.status.buyable else seen.ended_by or prior
        offer.expected = seen.available if seen.status.buyable else 0
        offer.baseline_at = seen.read_at + READ_PRECISION
    else:
        offer.content_hash = event.content_hash
    return _finish(state, offer, event.command_id, seq)


def command_failed(state: State, event: CommandFailed, seq: int) -> list[Command]:
    return _release(state, event.command_id, event.target, event.error, seq)


def command_superseded(state: State, event: CommandSuperseded, seq: int) -> list[Command]:
    offer = state.offers.get(event.target)
    if offer is None:
        return []
    return _finish(state, offer, event.command_id, seq)


def command_skipped(state: State, event: CommandSkipped, seq: int) -> list[Command]:
    return _release(state, event.command_id, event.target, f"skipped by an operator: {event.reason}", seq)


def _release(state: State, command_id_: str, target: str, error: str, seq: int) -> list[Command]:
    """A command will not complete: free its offer (read back first) or its product's listing."""
    offer = state.offers.get(target)
    if offer is not None and offer.inflight == command_id_:
        planning.needs_verify(state, offer, "the last operation on it failed: read it back first")
        return _finish(state, offer, command_id_, seq)
    product = state.products.get(target)
    if product is not None and product.creating == command_id_:
        product.creating = None
        product.problems, product.rejected_hash = (error,), product.row_hash
        state.touch("product", product.product_id)
    return []
