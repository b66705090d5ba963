"""Property tests of the reducer over a small universe (two products with offers, three checkout forms):
random sequences of order events (duplicated, reordered), sweep snapshots, warehouse readings, journal
coverage and dispatch outcomes (applied once, or applied again as `already`) never make it raise, never make
pending negative, never decrement or restore a line twice, and fold the same way twice (design.md 1 and 5)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import events as ev
from engine.commands import ChangeStock, Command
from engine.model import CheckoutForm, OrderLine
from engine.state import State, all_rows, from_rows, to_rows
from tests.unit.given import POLICY, Given, later, order

FORMS = ("cf1", "cf2", "cf3")
OFFER_OF = {"cf1": ("O1", "SKU-1"), "cf2": ("O2", "SKU-2"), "cf3": ("O1", "SKU-1")}
ORDER_TYPES = ("BOUGHT", "FILLED_IN", "READY_FOR_PROCESSING", "BUYER_CANCELLED", "AUTO_CANCELLED")

actions = st.lists(
    st.one_of(
        st.tuples(st.just("order"), st.sampled_from(FORMS), st.sampled_from(ORDER_TYPES), st.integers(1, 3)),
        st.tuples(st.just("sweep"), st.sampled_from(FORMS), st.sampled_from(("CANCELLED", "READY_FOR_PROCESSING"))),
        st.tuples(st.just("apply"), st.integers(0, 20), st.booleans()),
        st.tuples(st.just("stock"), st.sampled_from(("1", "2")), st.integers(-2, 30)),
        st.tuples(st.just("covered"), st.integers(0, 3)),
    ),
    max_size=40,
)


def _line(cf: str, quantity: int, t: int) -> OrderLine:
    offer_id, ext = OFFER_OF[cf]
    return OrderLine(line_id="l1", offer_id=offer_id, external_id=ext, quantity=quantity, bought_at=later(t))


def _event(action: tuple[Any, ...], t: int, quantities: dict[str, int], sent: list[ChangeStock]) -> ev.Event | None:
    kind = action[0]
    if kind == "order":
        _, cf, etype, quantity = action
        quantity = quantities.setdefault(cf, quantity)  # a line's quantity never changes
        offer_id, ext = OFFER_OF[cf]
        return ev.OrderEventObserved(
            occurred_at=later(t), order=order(cf, etype, ("l1", offer_id, quantity), at=later(t), ext=ext)
        )
    if kind == "sweep":
        _, cf, status = action
        quantity = quantities.setdefault(cf, 1)
        form = CheckoutForm(
            checkout_form_id=cf, status=status, revision="r2", updated_at=later(t), lines=(_line(cf, quantity, t),)
        )
        return ev.CheckoutFormObserved(occurred_at=later(t), form=form)
    if kind == "apply":
        if not sent:
            return None
        command = sent[action[1] % len(sent)]
        return ev.StockApplied(
            occurred_at=later(t),
            command_id=command.id,
            key=command.key,
            product_id=command.product_id,
            delta=command.delta,
            already=action[2],
        )
    if kind == "stock":
        return ev.ProductStockObserved(occurred_at=later(t), product_id=action[1], stock=action[2])
    return ev.OrderJournalCovered(occurred_at=later(t + action[1] * 100))


def _world() -> Given:
    world = Given(replace(POLICY, journal_grace_seconds=5))
    world.listed("1", stock=20, offer_id="O1")
    world.listed("2", stock=20, offer_id="O2")
    return world


def _play(steps: list[tuple[Any, ...]]) -> tuple[Given, list[ev.Event], list[Command]]:
    world = _world()
    played: list[ev.Event] = []
    emitted: list[Command] = []
    quantities: dict[str, int] = {}
    for t, action in enumerate(steps, start=10):
        sent = [c for c in emitted if isinstance(c, ChangeStock)]
        event = _event(action, t, quantities, sent)
        if event is None:
            continue
        played.append(event)
        emitted += world.when(event)
        for product in world.state.products.values():
            assert product.pending >= 0, f"product {product.product_id}: pending {product.pending}"
    return world, played, emitted


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions)
def test_random_order_histories_never_decrement_a_line_twice(steps: list[tuple[Any, ...]]) -> None:
    world, _played, emitted = _play(steps)
    keys = Counter(c.key for c in emitted if isinstance(c, ChangeStock))
    assert all(n == 1 for n in keys.values()), keys
    for key in keys:
        if key.startswith("restore:"):
            assert "sale:" + key.removeprefix("restore:") in keys, f"{key} without its sale"
    for key, line in world.state.lines.items():
        if not line.cancelled:
            assert f"restore:{key}" not in keys, f"live line {key} was given back"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions)
def test_folding_the_same_events_twice_gives_the_same_state_and_command_ids(steps: list[tuple[Any, ...]]) -> None:
    first, played, emitted = _play(steps)
    second = _world()
    again: list[Command] = []
    for event in played:
        again += second.when(event)
    assert [(c.id, c.payload()) for c in again] == [(c.id, c.payload()) for c in emitted]
    assert all_rows(second.state) == all_rows(first.state)


def _persisted_like_fold(steps: list[tuple[Any, ...]]) -> tuple[State, dict[tuple[str, str], dict[str, Any]]]:
    """Fold the events writing only the rows the reducer marked dirty, as engine.fold does."""
    world = _world()
    rows = all_rows(world.state)
    world.state.dirty.clear()
    quantities: dict[str, int] = {}
    emitted: list[Command] = []
    for t, action in enumerate(steps, start=10):
        event = _event(action, t, quantities, [c for c in emitted if isinstance(c, ChangeStock)])
        if event is None:
            continue
        emitted += world.when(event)
        upserts, deletes = to_rows(world.state, world.state.dirty)
        rows.update(upserts)
        for key in deletes:
            rows.pop(key, None)
        world.state.dirty.clear()
    return world.state, rows


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions)
def test_the_rows_a_fold_persists_are_the_whole_projection(steps: list[tuple[Any, ...]]) -> None:
    """What a restarted process loads (the dirty rows written by each fold) is what it had in memory."""
    state, rows = _persisted_like_fold(steps)
    assert all_rows(from_rows(rows)) == all_rows(state)


def test_payment_of_a_known_form_is_persisted_in_the_projection() -> None:
    """Regression (found by this campaign, fixed in 0ff55fd): form.ready was set without marking the form dirty."""
    steps: list[tuple[Any, ...]] = [("order", "cf1", "BOUGHT", 1), ("order", "cf1", "READY_FOR_PROCESSING", 1)]
    state, rows = _persisted_like_fold(steps)
    assert state.forms["cf1"].ready
    assert all_rows(from_rows(rows)) == all_rows(state)
