"""Reducer tables: order lines are taken off warehouse stock exactly once and given back once."""

from __future__ import annotations

from dataclasses import replace

from engine import events as ev
from engine.commands import ChangeStock, VerifyOffer
from engine.model import CheckoutForm, OrderLine
from engine.state import APPLIED, CANCELLED, RESTORED, UNMAPPED
from tests.unit.given import POLICY, T0, Given, later, order


def _apply(given: Given, command: ChangeStock) -> list:
    return given.when(
        ev.StockApplied(
            occurred_at=T0,
            command_id=command.id,
            key=command.key,
            product_id=command.product_id,
            delta=command.delta,
            already=False,
        )
    )


def test_purchase_decrements_warehouse_once_and_needs_no_allegro_write() -> None:
    given = Given()
    given.listed(stock=10)
    (dec,) = given.when(
        ev.OrderEventObserved(occurred_at=later(5), order=order("cf1", "BOUGHT", ("l1", "O1", 3), at=later(5)))
    )
    assert isinstance(dec, ChangeStock) and (dec.key, dec.delta) == ("sale:cf1:l1", -3)
    assert given.state.offers["O1"].expected == 7 and given.state.products["1"].pending == 3
    assert _apply(given, dec) == []
    assert (given.state.products["1"].stock, given.state.products["1"].pending) == (7, 0)
    assert given.state.lines["cf1:l1"].status == APPLIED


def test_duplicated_and_later_order_events_change_nothing() -> None:
    given = Given()
    given.listed(stock=10)
    bought = order("cf1", "BOUGHT", ("l1", "O1", 2), at=later(5))
    (_dec,) = given.when(ev.OrderEventObserved(occurred_at=later(5), order=bought))
    assert given.when(ev.OrderEventObserved(occurred_at=later(5), order=bought)) == []
    ready = order("cf1", "READY_FOR_PROCESSING", ("l1", "O1", 2), at=later(9))
    assert given.when(ev.OrderEventObserved(occurred_at=later(9), order=ready)) == []
    assert given.state.products["1"].pending == 2 and given.state.offers["O1"].expected == 8


def test_cancel_before_decrement_never_decrements() -> None:
    given = Given(replace(POLICY, decrement_on="READY_FOR_PROCESSING"))
    given.listed(stock=10)
    assert (
        given.when(
            ev.OrderEventObserved(occurred_at=later(5), order=order("cf1", "BOUGHT", ("l1", "O1", 2), at=later(5)))
        )
        == []
    )
    out = given.when(
        ev.OrderEventObserved(occurred_at=later(8), order=order("cf1", "AUTO_CANCELLED", ("l1", "O1", 2), at=later(8)))
    )
    assert not [c for c in out if isinstance(c, ChangeStock)]
    assert [type(c) for c in out] == [VerifyOffer]
    assert given.state.lines["cf1:l1"].status == CANCELLED and given.state.products["1"].pending == 0


def test_decrement_on_ready_for_processing_waits_for_payment() -> None:
    given = Given(replace(POLICY, decrement_on="READY_FOR_PROCESSING"))
    given.listed(stock=10)
    assert (
        given.when(
            ev.OrderEventObserved(occurred_at=later(5), order=order("cf1", "BOUGHT", ("l1", "O1", 2), at=later(5)))
        )
        == []
    )
    (dec,) = given.when(
        ev.OrderEventObserved(
            occurred_at=later(6), order=order("cf1", "READY_FOR_PROCESSING", ("l1", "O1", 2), at=later(5))
        )
    )
    assert isinstance(dec, ChangeStock) and dec.delta == -2


def test_cancel_after_decrement_restores_once_and_verifies_the_offer() -> None:
    given = Given()
    given.listed(stock=10)
    (dec,) = given.when(
        ev.OrderEventObserved(occurred_at=later(5), order=order("cf1", "BOUGHT", ("l1", "O1", 2), at=later(5)))
    )
    _apply(given, dec)
    out = given.when(
        ev.OrderEventObserved(occurred_at=later(7), order=order("cf1", "BUYER_CANCELLED", ("l1", "O1", 2), at=later(7)))
    )
    restore = [c for c in out if isinstance(c, ChangeStock)]
    assert [(c.key, c.delta) for c in restore] == [("restore:cf1:l1", 2)]
    assert any(isinstance(c, VerifyOffer) for c in out)
    assert (
        given.when(
            ev.OrderEventObserved(
                occurred_at=later(8), order=order("cf1", "BUYER_CANCELLED", ("l1", "O1", 2), at=later(7))
            )
        )
        == []
    )
    _apply(given, restore[0])
    assert given.state.lines["cf1:l1"].status == RESTORED and given.state.products["1"].stock == 10


def test_cancellation_seen_before_purchase_never_decrements() -> None:
    given = Given()
    given.listed(stock=10)
    out = given.when(
        ev.OrderEventObserved(occurred_at=later(7), order=order("cf1", "BUYER_CANCELLED", ("l1", "O1", 2), at=later(5)))
    )
    assert not [c for c in out if isinstance(c, ChangeStock)]
    assert (
        given.when(
            ev.OrderEventObserved(occurred_at=later(8), order=order("cf1", "BOUGHT", ("l1", "O1", 2), at=later(5)))
        )
        == []
    )
    assert given.state.products["1"].pending == 0


def test_seller_panel_cancellation_found_by_the_sweep_restores_once() -> None:
    given = Given()
    given.listed(stock=10)
    (dec,) = given.when(
        ev.OrderEventObserved(occurred_at=later(5), order=order("cf1", "BOUGHT", ("l1", "O1", 1), at=later(5)))
    )
    _apply(given, dec)
    form = CheckoutForm(
        checkout_form_id="cf1",
        status="CANCELLED",
        revision="r2",
        updated_at=later(60),
        lines=(OrderLine(line_id="l1", offer_id="O1", external_id="SKU-1", quantity=1, bought_at=later(5)),),
    )
    out = given.when(ev.CheckoutFormObserved(occurred_at=later(60), form=form))
    assert [(c.key, c.delta) for c in out if isinstance(c, ChangeStock)] == [("restore:cf1:l1", 1)]
    assert given.when(ev.CheckoutFormObserved(occurred_at=later(61), form=form)) == []


def test_cancel_while_decrement_in_flight_restores_after_it_lands() -> None:
    given = Given()
    given.listed(stock=10)
    (dec,) = given.when(
        ev.OrderEventObserved(occurred_at=later(5), order=order("cf1", "BOUGHT", ("l1", "O1", 2), at=later(5)))
    )
    given.when(
        ev.OrderEventObserved(occurred_at=later(6), order=order("cf1", "BUYER_CANCELLED", ("l1", "O1", 2), at=later(6)))
    )
    out = _apply(given, dec)
    assert [(c.key, c.delta) for c in out if isinstance(c, ChangeStock)] == [("restore:cf1:l1", 2)]


def test_line_of_an_unknown_offer_is_reported_and_blocks_nothing() -> None:
    given = Given()
    given.listed(stock=10)
    stray = order("cf9", "BOUGHT", ("l1", "O77", 1), at=later(5), ext="NOPE")
    assert given.when(ev.OrderEventObserved(occurred_at=later(5), order=stray)) == []
    assert given.state.lines["cf9:l1"].status == UNMAPPED
    (dec,) = given.when(
        ev.OrderEventObserved(occurred_at=later(6), order=order("cf1", "BOUGHT", ("l1", "O1", 1), at=later(6)))
    )
    assert isinstance(dec, ChangeStock)


def test_orders_flow_switched_off_counts_but_does_not_decrement() -> None:
    given = Given(replace(POLICY, flows=replace(POLICY.flows, orders=False)))
    given.listed(stock=10)
    assert (
        given.when(
            ev.OrderEventObserved(occurred_at=later(5), order=order("cf1", "BOUGHT", ("l1", "O1", 2), at=later(5)))
        )
        == []
    )
    assert given.state.products["1"].pending == 2
