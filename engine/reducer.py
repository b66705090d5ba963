"""The business rules: `reduce(state, event, seq) -> (state, commands)`.

Pure: no clock, no randomness, no I/O, no logging; times come from the events and command ids from
`seq`, so folding the same ledger always gives the same state and the same commands. The state is passed
linearly (the caller hands it over and uses the returned one) so that a large projection is updated in
place instead of copied per event.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine import offer_rules, orders, planning
from engine.commands import Command
from engine.events import (
    CategoryObserved,
    CheckoutFormObserved,
    CommandFailed,
    CommandRetried,
    CommandSkipped,
    CommandSuperseded,
    CursorReset,
    Event,
    JournalResynced,
    OfferCreated,
    OfferEventObserved,
    OfferObserved,
    OfferPatched,
    OfferRejected,
    OffersUnread,
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
from engine.state import State

Handler = Callable[[State, Any, int], list[Command]]
CANCELLING = frozenset({"BUYER_CANCELLED", "AUTO_CANCELLED"})


def reduce(state: State, event: Event, seq: int) -> tuple[State, list[Command]]:
    return state, _HANDLERS[type(event)](state, event, seq)


# ---------------------------------------------------------------------------------------------- warehouse


def _product_observed(state: State, event: ProductObserved, seq: int) -> list[Command]:
    row = event.product
    owner = state.external_id_owner(row.external_id, row.product_id)
    product = state.ensure_product(row.product_id, row.external_id)
    product.row, product.stock, product.row_hash = state.shared_row(product, row), row.stock, row.row_hash
    product.removed, product.unknown = False, None
    if owner is not None:
        # One external id, two products: the offer's "sygnatura" could not tell their sales apart.
        product.problems = (
            f"product {row.product_id}: external id '{row.external_id}' is also used by product {owner}; "
            "give each product its own external id (sygnatura)",
        )
        product.rejected_hash = row.row_hash
        return planning.write_back(state, product, seq, problem=product.problems[0])
    return planning.plan_product(state, product, seq)


def _stock_observed(state: State, event: ProductStockObserved, seq: int) -> list[Command]:
    product = state.ensure_product(event.product_id)
    product.stock = event.stock
    return planning.plan_product(state, product, seq)


def _product_removed(state: State, event: ProductRemoved, seq: int) -> list[Command]:
    product = state.ensure_product(event.product_id)
    product.removed = True
    return planning.plan_product(state, product, seq)


def _row_rejected(state: State, event: ProductRowRejected, seq: int) -> list[Command]:
    product = state.ensure_product(event.problem.product_id)
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
        state.touch("form", form.checkout_form_id)
    commands: list[Command] = []
    if order.type in CANCELLING and not form.cancelled:
        cancelled, more = orders.cancel(state, form)
        commands += cancelled
        touched |= more
    return commands + orders.decrements(state, form) + planning.plan_products(state, touched, seq)


def _checkout_form(state: State, event: CheckoutFormObserved, seq: int) -> list[Command]:
    snapshot = event.form
    form = orders.form_for(state, snapshot.checkout_form_id)
    touched = orders.see_lines(state, form, snapshot.lines)
    if snapshot.status == "READY_FOR_PROCESSING" and not form.ready:
        form.ready = True
        state.touch("form", form.checkout_form_id)
    commands: list[Command] = []
    if snapshot.status == "CANCELLED" and not form.cancelled:
        cancelled, more = orders.cancel(state, form)
        commands += cancelled
        touched |= more
    return commands + orders.decrements(state, form) + planning.plan_products(state, touched, seq)


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
    return planning.plan_products(state, released, seq)


def _stock_applied(state: State, event: StockApplied, seq: int) -> list[Command]:
    commands = orders.stock_applied(state, event.key, event.delta)
    return commands + planning.plan_products(state, {event.product_id}, seq)


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
    return planning.plan_products(state, chosen, seq)


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
    OfferEventObserved: offer_rules.offer_event,
    OfferObserved: offer_rules.offer_observed,
    CategoryObserved: _category,
    PolicyChanged: _policy,
    OfferCreated: offer_rules.offer_created,
    OfferRejected: offer_rules.offer_rejected,
    QuantityChanged: offer_rules.quantity_changed,
    PriceChanged: offer_rules.price_changed,
    OfferPatched: offer_rules.offer_patched,
    StockApplied: _stock_applied,
    CommandFailed: offer_rules.command_failed,
    CursorReset: _audit_only,
    JournalResynced: _audit_only,
    OffersUnread: offer_rules.offers_unread,
    CommandSuperseded: offer_rules.command_superseded,
    CommandRetried: _audit_only,
    CommandSkipped: offer_rules.command_skipped,
    PlanApproved: _audit_only,
}
