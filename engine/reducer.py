"""The business rules: `reduce(state, event, seq) -> (state, commands)`.

Pure: no clock, no randomness, no I/O, no logging; times come from the events and command ids from
`seq`, so folding the same ledger always gives the same state and the same commands. The state is passed
linearly (the caller hands it over and uses the returned one) so that a large projection is updated in
place instead of copied per event.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine import orders, planning
from engine.commands import Command, VerifyOffer, command_id
from engine.events import (
    CategoryObserved,
    CheckoutFormObserved,
    CommandFailed,
    CommandRetried,
    CursorReset,
    Event,
    JournalResynced,
    OfferCreated,
    OfferEventObserved,
    OfferObserved,
    OfferPatched,
    OfferRejected,
    OrderEventObserved,
    OrderJournalCovered,
    PlanApproved,
    PolicyChanged,
    PriceChanged,
    ProductObserved,
    ProductRemoved,
    ProductRowRejected,
    ProductStockObserved,
    QuantityChanged,
    StockApplied,
)
from engine.model import OfferSnapshot, OfferStatus
from engine.orders import READ_PRECISION
from engine.state import OfferState, ProductState, State

Handler = Callable[[State, Any, int], list[Command]]
CANCELLING = frozenset({"BUYER_CANCELLED", "AUTO_CANCELLED"})


def reduce(state: State, event: Event, seq: int) -> tuple[State, list[Command]]:
    return state, _HANDLERS[type(event)](state, event, seq)


def _plan(state: State, product_ids: set[str] | list[str], seq: int) -> list[Command]:
    commands: list[Command] = []
    for pid in sorted(product_ids):
        product = state.products.get(pid)
        if product is not None:
            commands += planning.plan_product(state, product, seq)
    return commands


def _product(state: State, product_id: str, external_id: str | None = None) -> ProductState:
    product = state.products.get(product_id)
    if product is None:
        product = state.products[product_id] = ProductState(
            product_id=product_id, external_id=external_id or product_id
        )
        state.by_external[product.external_id] = product_id
    elif external_id is not None and external_id != product.external_id:
        state.by_external.pop(product.external_id, None)
        product.external_id = external_id
        state.by_external[external_id] = product_id
    state.touch("product", product_id)
    return product


# ---------------------------------------------------------------------------------------------- warehouse


def _product_observed(state: State, event: ProductObserved, seq: int) -> list[Command]:
    row = event.product
    product = _product(state, row.product_id, row.external_id)
    product.row, product.stock, product.row_hash = row, row.stock, row.row_hash
    product.removed, product.unknown = False, None
    return planning.plan_product(state, product, seq)


def _stock_observed(state: State, event: ProductStockObserved, seq: int) -> list[Command]:
    product = _product(state, event.product_id)
    product.stock = event.stock
    return planning.plan_product(state, product, seq)


def _product_removed(state: State, event: ProductRemoved, seq: int) -> list[Command]:
    product = _product(state, event.product_id)
    product.removed = True
    return planning.plan_product(state, product, seq)


def _row_rejected(state: State, event: ProductRowRejected, seq: int) -> list[Command]:
    product = _product(state, event.problem.product_id)
    product.row_hash = event.problem.row_hash
    product.problems = event.problem.problems
    product.unknown = "; ".join(event.problem.problems)
    return planning.write_back(state, product, seq, problem=product.unknown)


# ---------------------------------------------------------------------------------------------- orders


def _order_event(state: State, event: OrderEventObserved, seq: int) -> list[Command]:
    order = event.order
    form = orders.form_for(state, order.checkout_form_id)
    touched = orders.see_lines(state, form, order.lines)
    if order.type == "READY_FOR_PROCESSING" and not form.ready:
        form.ready = True
    commands: list[Command] = []
    if order.type in CANCELLING and not form.cancelled:
        cancelled, more = orders.cancel(state, form, seq)
        commands += cancelled
        touched |= more
    return commands + orders.decrements(state, form) + _plan(state, touched, seq)


def _checkout_form(state: State, event: CheckoutFormObserved, seq: int) -> list[Command]:
    snapshot = event.form
    form = orders.form_for(state, snapshot.checkout_form_id)
    touched = orders.see_lines(state, form, snapshot.lines)
    if snapshot.status == "READY_FOR_PROCESSING":
        form.ready = True
    commands: list[Command] = []
    if snapshot.status == "CANCELLED" and not form.cancelled:
        cancelled, more = orders.cancel(state, form, seq)
        commands += cancelled
        touched |= more
    return commands + orders.decrements(state, form) + _plan(state, touched, seq)


def _covered(state: State, event: OrderJournalCovered, seq: int) -> list[Command]:
    if state.covered_until is not None and state.covered_until >= event.occurred_at:
        return []
    state.covered_until = event.occurred_at
    state.touch("meta", "journal")
    released = {pid for pid in state.held if state.products[pid].hold_until <= event.occurred_at}  # type: ignore[operator]
    for pid in released:
        product = state.products[pid]
        product.hold_until = None
        state.held.discard(pid)
        state.touch("product", pid)
        for offer in state.offers_of(product):
            if offer.shadow:
                offer.shadow = 0
                state.touch("offer", offer.offer_id)
    return _plan(state, released, seq)


def _stock_applied(state: State, event: StockApplied, seq: int) -> list[Command]:
    commands = orders.stock_applied(state, event.key, event.delta)
    return commands + _plan(state, {event.product_id}, seq)


# ---------------------------------------------------------------------------------------------- offers


def _offer_event(state: State, event: OfferEventObserved, seq: int) -> list[Command]:
    info = event.offer_event
    offer = state.offers.get(info.offer_id)
    if offer is None:
        return []
    if info.type == "OFFER_ENDED":
        planning.end_observed(state, offer, info.ended_by or "UNKNOWN", event.occurred_at)
    elif info.type == "OFFER_ARCHIVED":
        offer.status = OfferStatus.ARCHIVED
        state.touch("offer", offer.offer_id)
    else:
        return []
    return _plan(state, {offer.product_id} if offer.product_id else set(), seq)


def _offer_observed(state: State, event: OfferObserved, seq: int) -> list[Command]:
    seen = event.offer
    offer = state.offers.get(seen.offer_id)
    if offer is None:
        product = state.product_for(seen.external_id, None)
        offer = _new_offer(state, seen, product)
        return _plan(state, {product.product_id} if product else set(), seq)
    if offer.inflight is not None:
        return []
    _apply_read(state, offer, seen)
    if event.why == "verify":
        offer.needs_verify = False
    return _plan(state, {offer.product_id} if offer.product_id else set(), seq)


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
    """Free the offer's slot; a pending verification goes first."""
    if offer.inflight == command_id_:
        offer.inflight = offer.inflight_kind = None
    state.touch("offer", offer.offer_id)
    if offer.needs_verify and offer.inflight is None:
        return [
            VerifyOffer(
                id=command_id(VerifyOffer.KIND, offer.offer_id, str(seq)),
                reason="the last operation failed or an order was cancelled: read the offer before any increase",
                offer_id=offer.offer_id,
            )
        ]
    return _plan(state, {offer.product_id} if offer.product_id else set(), seq)


def _offer_created(state: State, event: OfferCreated, seq: int) -> list[Command]:
    product = _product(state, event.product_id)
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
    return planning.write_back(state, product, seq, offer=offer) + planning.plan_product(state, product, seq)


def _offer_rejected(state: State, event: OfferRejected, seq: int) -> list[Command]:
    product = _product(state, event.product_id)
    if product.creating == event.command_id:
        product.creating = None
    product.problems, product.rejected_hash = event.problems, product.row_hash
    return planning.write_back(state, product, seq, problem="; ".join(event.problems))


def _quantity_changed(state: State, event: QuantityChanged, seq: int) -> list[Command]:
    offer = state.offers.get(event.offer_id)
    if offer is None:
        return []
    if event.succeeded and offer.status.buyable:
        offer.expected += event.delta
    elif not event.succeeded:
        offer.needs_verify = True
    return _finish(state, offer, event.command_id, seq)


def _price_changed(state: State, event: PriceChanged, seq: int) -> list[Command]:
    offer = state.offers.get(event.offer_id)
    if offer is None:
        return []
    if event.succeeded:
        offer.price = event.price
    return _finish(state, offer, event.command_id, seq)


def _offer_patched(state: State, event: OfferPatched, seq: int) -> list[Command]:
    offer = state.offers.get(event.offer_id)
    if offer is None:
        return []
    seen = event.offer
    if event.purpose in ("zero", "unlist"):
        planning.end_observed(state, offer, event.purpose, seen.read_at)
        if offer.status == OfferStatus.ENDED:
            offer.ended_by = event.purpose if offer.ended_by in (None, "UNKNOWN", "EMPTY_STOCK") else offer.ended_by
    elif event.purpose == "restock":
        offer.status, offer.ended_by = seen.status, None
        offer.expected = seen.available if seen.status.buyable else 0
        offer.baseline_at = seen.read_at + READ_PRECISION
    else:
        offer.content_hash = event.content_hash
    return _finish(state, offer, event.command_id, seq)


def _command_failed(state: State, event: CommandFailed, seq: int) -> list[Command]:
    offer = state.offers.get(event.target)
    if offer is not None and offer.inflight == event.command_id:
        offer.needs_verify = True
        return _finish(state, offer, event.command_id, seq)
    product = state.products.get(event.target)
    if product is not None and product.creating == event.command_id:
        product.creating = None
        product.problems, product.rejected_hash = (event.error,), product.row_hash
        state.touch("product", product.product_id)
    return []


# ---------------------------------------------------------------------------------------------- configuration


def _category(state: State, event: CategoryObserved, seq: int) -> list[Command]:
    state.categories[event.category_id] = event.parameters
    state.touch("category", event.category_id)
    return _replan_all(state, seq, only_category=event.category_id)


def _policy(state: State, event: PolicyChanged, seq: int) -> list[Command]:
    state.policy = event.policy
    state.touch("meta", "policy")
    return _replan_all(state, seq, only_category=None)


def _replan_all(state: State, seq: int, *, only_category: str | None) -> list[Command]:
    chosen: list[str] = []
    for product in state.products.values():
        if only_category is not None and (
            product.row is None or state.policy.category_for(product.row.category) != only_category
        ):
            continue
        product.rejected_hash = None
        chosen.append(product.product_id)
    return _plan(state, chosen, seq)


def _audit_only(state: State, event: Event, seq: int) -> list[Command]:
    return []


_HANDLERS: dict[type[Event], Handler] = {
    ProductObserved: _product_observed,
    ProductStockObserved: _stock_observed,
    ProductRemoved: _product_removed,
    ProductRowRejected: _row_rejected,
    OrderEventObserved: _order_event,
    CheckoutFormObserved: _checkout_form,
    OrderJournalCovered: _covered,
    OfferEventObserved: _offer_event,
    OfferObserved: _offer_observed,
    CategoryObserved: _category,
    PolicyChanged: _policy,
    OfferCreated: _offer_created,
    OfferRejected: _offer_rejected,
    QuantityChanged: _quantity_changed,
    PriceChanged: _price_changed,
    OfferPatched: _offer_patched,
    StockApplied: _stock_applied,
    CommandFailed: _command_failed,
    CursorReset: _audit_only,
    JournalResynced: _audit_only,
    CommandRetried: _audit_only,
    PlanApproved: _audit_only,
}
