"""Order lines: each Allegro line is taken off warehouse stock exactly once and given back once if cancelled.

The unit of work is a line, keyed `checkoutForm.id:lineItem.id`. Decisions come from the line's status in
the projection, so a duplicated, reordered or late journal event changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from engine import planning
from engine.commands import ChangeStock, Command, command_id
from engine.model import OrderLine
from engine.state import (
    APPLIED,
    CANCELLED,
    DECREMENTING,
    RESTORED,
    RESTORING,
    SEEN,
    UNMAPPED,
    FormState,
    LineState,
    OfferState,
    State,
)

READ_PRECISION = timedelta(seconds=1)
"""Allegro's Date header has one-second precision: a purchase within that second counts as already read
(it over-counts exposure, the safe side)."""


def form_for(state: State, checkout_form_id: str) -> FormState:
    form = state.forms.get(checkout_form_id)
    if form is None:
        form = state.forms[checkout_form_id] = FormState(checkout_form_id=checkout_form_id)
        state.touch("form", checkout_form_id)
    return form


def see_lines(state: State, form: FormState, lines: tuple[OrderLine, ...]) -> set[str]:
    """Record lines seen for the first time as purchases; returns the products they touched."""
    touched: set[str] = set()
    for line in lines:
        key = f"{form.checkout_form_id}:{line.line_id}"
        if key in state.lines:
            continue
        product = state.product_for(line.external_id, line.offer_id)
        state.lines[key] = LineState(
            key=key,
            checkout_form_id=form.checkout_form_id,
            line_id=line.line_id,
            offer_id=line.offer_id,
            product_id=product.product_id if product else None,
            quantity=line.quantity,
            bought_at=line.bought_at,
            status=SEEN if product else UNMAPPED,
        )
        form.lines = (*form.lines, key)
        state.touch("line", key)
        state.touch("form", form.checkout_form_id)
        offer = state.offers.get(line.offer_id)
        if offer is not None:
            _consume(state, offer, line.quantity, line.bought_at)
        if product is not None:
            product.pending += line.quantity
            state.touch("product", product.product_id)
            touched.add(product.product_id)
    return touched


def _consume(state: State, offer: OfferState, quantity: int, bought_at: datetime | None) -> None:
    """A purchase took units off the offer: from E if it happened after our last read, else from the shadow."""
    after_read = offer.baseline_at is None or (bought_at is not None and bought_at >= offer.baseline_at)
    if after_read and offer.status.buyable:
        taken = min(quantity, offer.expected)
        offer.expected -= taken
        quantity -= taken
        if offer.expected == 0 and bought_at is not None and offer.inflight is None:
            # Allegro ends a sold-out offer itself (EMPTY_STOCK): no PATCH needed, and no GAIN may follow.
            # Not while an operation is in flight: an increase may have landed first.
            planning.end_observed(state, offer, "EMPTY_STOCK", bought_at)
    elif (
        offer.status.buyable
        and bought_at is not None
        and offer.baseline_at is not None
        and (bought_at >= offer.baseline_at - READ_PRECISION)
    ):
        # Bought in the very second of our last read: counted as already in it (the safe side), but read again.
        planning.needs_verify(state, offer, "a purchase fell in the second of the last read: read the offer again")
    offer.shadow -= min(offer.shadow, quantity)
    state.touch("offer", offer.offer_id)


def decrements(state: State, form: FormState) -> list[Command]:
    """Start the warehouse decrement of every line of the form that is due and not started."""
    if not state.policy.flows.orders:
        return []
    due = state.policy.decrement_on == "BOUGHT" or form.ready
    commands: list[Command] = []
    for key in form.lines:
        line = state.lines[key]
        if line.status == SEEN and not line.cancelled and due and line.product_id is not None:
            line.status = DECREMENTING
            state.touch("line", key)
            commands.append(
                _change(line, "sale", -line.quantity, f"Allegro order line {key}: take {line.quantity} off stock")
            )
    return commands


def cancel(state: State, form: FormState) -> tuple[list[Command], set[str]]:
    """The order was cancelled: release what was not taken off stock, give back what was."""
    commands: list[Command] = []
    touched: set[str] = set()
    form.cancelled = True
    state.touch("form", form.checkout_form_id)
    for key in form.lines:
        line = state.lines[key]
        if line.cancelled or line.status == UNMAPPED:
            continue
        line.cancelled = True
        state.touch("line", key)
        product = state.products.get(line.product_id) if line.product_id else None
        if line.status in (SEEN, DECREMENTING) and product is not None:
            product.pending -= line.quantity
            state.touch("product", product.product_id)
        if line.status == SEEN:
            line.status = CANCELLED
        elif line.status == APPLIED and state.policy.flows.orders:
            line.status = RESTORING
            commands.append(
                _change(line, "restore", line.quantity, f"order line {key} cancelled: give {line.quantity} back")
            )
        if product is not None:
            touched.add(product.product_id)
        offer = state.offers.get(line.offer_id)
        if offer is not None:
            planning.needs_verify(
                state, offer, f"order line {key} cancelled: read whether Allegro put the units back before any increase"
            )
    return commands, touched


def stock_applied(state: State, key: str, delta: int) -> list[Command]:
    """A warehouse change of a line ran: move the line on, and give back a sale cancelled meanwhile."""
    kind, _, line_key = key.partition(":")
    line = state.lines.get(line_key)
    if line is None:
        return []
    product = state.products.get(line.product_id) if line.product_id else None
    if product is not None and product.stock is not None:
        product.stock += delta
        state.touch("product", product.product_id)
    state.touch("line", line_key)
    if kind == "restore":
        line.status = RESTORED
        return []
    if line.status != DECREMENTING:
        return []
    if line.cancelled:
        line.status = RESTORING
        return [
            _change(
                line,
                "restore",
                line.quantity,
                f"order line {line_key} was cancelled: give {line.quantity} back",
            )
        ]
    line.status = APPLIED
    if product is not None:
        product.pending -= line.quantity
    return []


def _change(line: LineState, kind: str, delta: int, reason: str) -> ChangeStock:
    key = f"{kind}:{line.key}"
    assert line.product_id is not None
    return ChangeStock(
        id=command_id(ChangeStock.KIND, key, ""),
        reason=reason,
        key=key,
        product_id=line.product_id,
        delta=delta,
    )
