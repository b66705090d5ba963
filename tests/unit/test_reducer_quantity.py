"""Reducer tables: quantity without overselling (stock-sync.md sections 6.4 and 6.6)."""

from __future__ import annotations

from dataclasses import replace

from engine import events as ev
from engine.commands import ChangeQuantity, ChangeStock, EndOffer, RestockOffer, VerifyOffer
from engine.model import OfferStatus
from tests.unit.given import POLICY, T0, Given, later, order, row, snap


def _gain_done(given: Given, command: ChangeQuantity, *, ok: bool = True) -> list:
    return given.when(
        ev.QuantityChanged(
            occurred_at=T0, command_id=command.id, offer_id=command.offer_id, delta=command.delta, succeeded=ok
        )
    )


def test_other_channel_sale_is_a_gain_down_that_commutes_with_unseen_purchases() -> None:
    # Timeline A: W 10 -> 7 by the shop; an Allegro buyer takes 2 before the GAIN executes.
    given = Given()
    given.listed(stock=10)
    (gain,) = given.when(ev.ProductStockObserved(occurred_at=later(1), product_id="1", stock=7))
    assert isinstance(gain, ChangeQuantity) and gain.delta == -3
    assert "stock 7 - 0 pending - 0 shadow - buffer 0 = 7; Allegro shows 10" in gain.reason
    assert _gain_done(given, gain) == []
    out = given.when(
        ev.OrderEventObserved(occurred_at=later(3), order=order("cf1", "BOUGHT", ("l1", "O1", 2), at=later(2)))
    )
    assert [type(c) for c in out] == [ChangeStock], "the purchase needs no Allegro write"
    assert given.state.offers["O1"].expected == 5


def test_stock_zero_ends_the_offer_with_a_patch_not_a_quantity_command() -> None:
    given = Given()
    given.listed(stock=3)
    (end,) = given.when(ev.ProductStockObserved(occurred_at=later(1), product_id="1", stock=0))
    assert isinstance(end, EndOffer) and end.purpose == "zero"


def test_restock_after_a_sell_out_waits_until_the_journal_covers_the_end() -> None:
    # Timeline B: buyers take all 3, OFFER_ENDED arrives before the orders, then a delivery.
    given = Given()
    given.listed(stock=3)
    assert given.offer_event("OFFER_ENDED", at=later(10), ended_by="EMPTY_STOCK") == []
    assert given.state.offers["O1"].shadow == 3
    assert given.when(ev.ProductStockObserved(occurred_at=later(20), product_id="1", stock=13)) == []
    given.when(ev.OrderEventObserved(occurred_at=later(30), order=order("cf1", "BOUGHT", ("l1", "O1", 3), at=later(9))))
    assert given.state.offers["O1"].shadow == 0 and given.state.products["1"].pending == 3
    assert [c for c in given.commands if not isinstance(c, ChangeStock)] == [], "still on hold"
    (restock,) = given.when(ev.OrderJournalCovered(occurred_at=later(10 + 120)))
    assert isinstance(restock, RestockOffer) and restock.available == 10


def test_shadow_of_an_end_is_released_once_the_journal_covers_it() -> None:
    given = Given()
    given.listed(stock=3)
    given.offer_event("OFFER_ENDED", at=later(10), ended_by="EMPTY_STOCK")
    given.when(ev.ProductStockObserved(occurred_at=later(20), product_id="1", stock=5))
    assert given.when(ev.OrderJournalCovered(occurred_at=later(100))) == []
    (restock,) = given.when(ev.OrderJournalCovered(occurred_at=later(131)))
    assert isinstance(restock, RestockOffer) and restock.available == 5


def test_offer_ended_by_the_seller_is_never_restocked() -> None:
    given = Given()
    given.listed(stock=3)
    given.offer_event("OFFER_ENDED", at=later(10), ended_by="USER")
    given.when(ev.OrderJournalCovered(occurred_at=later(500)))
    assert given.when(ev.ProductStockObserved(occurred_at=later(501), product_id="1", stock=9)) == []


def test_one_operation_in_flight_per_offer() -> None:
    given = Given()
    given.listed(stock=10)
    (first,) = given.when(ev.ProductStockObserved(occurred_at=later(1), product_id="1", stock=8))
    assert given.when(ev.ProductStockObserved(occurred_at=later(2), product_id="1", stock=6)) == []
    (second,) = _gain_done(given, first)
    assert isinstance(second, ChangeQuantity) and second.delta == -2


def test_failed_gain_reads_the_offer_before_anything_else() -> None:
    given = Given()
    given.listed(stock=10)
    (gain,) = given.when(ev.ProductStockObserved(occurred_at=later(1), product_id="1", stock=8))
    (verify,) = _gain_done(given, gain, ok=False)
    assert isinstance(verify, VerifyOffer), "the model may be wrong: even a decrease waits for the read"
    assert given.when(ev.ProductStockObserved(occurred_at=later(2), product_id="1", stock=7)) == []
    out = given.when(ev.OfferObserved(occurred_at=later(5), offer=snap(available=9, at=later(5)), why="verify"))
    # Allegro shows 9 where the model said 10: one unit is held as shadow until the orders explain it.
    assert [(type(c), c.delta) for c in out] == [(ChangeQuantity, -3)]  # type: ignore[attr-defined]


def test_an_owed_read_goes_before_the_next_decrease() -> None:
    given = Given()
    given.listed(stock=10)
    (first,) = given.when(ev.ProductStockObserved(occurred_at=later(1), product_id="1", stock=9))
    cancelled = order("cf1", "BUYER_CANCELLED", ("l1", "O1", 2), at=later(5))
    given.when(ev.OrderEventObserved(occurred_at=later(5), order=cancelled))
    given.when(ev.ProductStockObserved(occurred_at=later(6), product_id="1", stock=5))
    (verify,) = _gain_done(given, first)
    assert isinstance(verify, VerifyOffer), "one GET first: the decrease is then computed from Allegro's figure"
    (down,) = given.when(ev.OfferObserved(occurred_at=later(7), offer=snap(available=9, at=later(7)), why="verify"))
    assert isinstance(down, ChangeQuantity) and down.delta == -4, "Allegro put the 2 units back: 9 - 5"


def test_increase_waits_for_the_verification_after_a_cancellation() -> None:
    given = Given()
    given.listed(stock=10)
    (dec,) = given.when(
        ev.OrderEventObserved(occurred_at=later(5), order=order("cf1", "BOUGHT", ("l1", "O1", 2), at=later(5)))
    )
    given.when(
        ev.StockApplied(occurred_at=T0, command_id=dec.id, key="sale:cf1:l1", product_id="1", delta=-2, already=False)
    )
    out = given.when(
        ev.OrderEventObserved(occurred_at=later(6), order=order("cf1", "BUYER_CANCELLED", ("l1", "O1", 2), at=later(6)))
    )
    restore = next(c for c in out if isinstance(c, ChangeStock))
    assert not [c for c in out if isinstance(c, ChangeQuantity)]
    assert (
        given.when(
            ev.StockApplied(
                occurred_at=T0, command_id=restore.id, key=restore.key, product_id="1", delta=2, already=False
            )
        )
        == []
    )
    # Allegro put the two units back: the read shows 10, nothing to send.
    assert given.when(ev.OfferObserved(occurred_at=later(9), offer=snap(available=10, at=later(9)), why="verify")) == []


def test_reconciliation_read_higher_is_accepted_and_corrected_down() -> None:
    given = Given()
    given.listed(stock=5)
    (gain,) = given.when(ev.OfferObserved(occurred_at=later(9), offer=snap(available=9, at=later(9)), why="reconcile"))
    assert isinstance(gain, ChangeQuantity) and gain.delta == -4


def test_reconciliation_read_lower_waits_for_the_orders_that_explain_it() -> None:
    given = Given()
    given.listed(stock=5)
    assert (
        given.when(ev.OfferObserved(occurred_at=later(9), offer=snap(available=3, at=later(9)), why="reconcile")) == []
    )
    offer = given.state.offers["O1"]
    assert (offer.expected, offer.shadow) == (3, 2)
    given.when(ev.OrderEventObserved(occurred_at=later(12), order=order("cf1", "BOUGHT", ("l1", "O1", 2), at=later(8))))
    assert (offer.expected, offer.shadow) == (3, 0)


def test_seller_panel_status_change_to_ended_is_noticed_from_a_read() -> None:
    given = Given()
    given.listed(stock=5)
    given.when(
        ev.OfferObserved(
            occurred_at=later(9), offer=snap(available=0, status=OfferStatus.ENDED, at=later(9)), why="journal"
        )
    )
    assert given.state.offers["O1"].status == OfferStatus.ENDED


def test_buffer_zero_threshold_and_max_published_shape_the_target() -> None:
    given = Given(replace(POLICY, buffer=2, zero_threshold=3, max_published=6))
    (create,) = given.when(ev.ProductObserved(occurred_at=T0, product=row(stock=20)))
    assert create.body["stock"]["available"] == 6  # type: ignore[attr-defined]
    given2 = Given(replace(POLICY, buffer=2, zero_threshold=3))
    given2.listed(stock=10)
    (end,) = given2.when(ev.ProductStockObserved(occurred_at=later(1), product_id="1", stock=4))
    assert isinstance(end, EndOffer), "4 - buffer 2 = 2 is below the zero threshold 3"


def test_stock_flow_switched_off_sends_no_quantity() -> None:
    given = Given(replace(POLICY, flows=replace(POLICY.flows, stock=False)))
    given.listed(stock=10)
    assert given.when(ev.ProductStockObserved(occurred_at=later(1), product_id="1", stock=2)) == []


def test_purchase_of_the_last_unit_needs_no_end_patch_and_restock_waits_for_coverage() -> None:
    given = Given()
    given.listed(stock=2)
    out = given.when(
        ev.OrderEventObserved(occurred_at=later(5), order=order("cf1", "BOUGHT", ("l1", "O1", 2), at=later(5)))
    )
    assert [type(c) for c in out] == [ChangeStock], "Allegro ends a sold-out offer by itself"
    assert given.state.offers["O1"].status == OfferStatus.ENDED
    assert given.offer_event("OFFER_ENDED", at=later(5), ended_by="EMPTY_STOCK") == []
    given.when(
        ev.StockApplied(
            occurred_at=T0, command_id=out[0].id, key="sale:cf1:l1", product_id="1", delta=-2, already=False
        )
    )
    assert given.when(ev.ProductStockObserved(occurred_at=later(7), product_id="1", stock=4)) == []
    (restock,) = given.when(ev.OrderJournalCovered(occurred_at=later(130)))
    assert isinstance(restock, RestockOffer) and restock.available == 4
