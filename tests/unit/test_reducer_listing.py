"""Reducer tables: listing, adoption, updates and ending of offers."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from engine import events as ev
from engine.commands import ChangePrice, CreateOffer, EndOffer, UpdateOffer
from engine.model import RowProblem
from engine.policy import Flows
from tests.unit.given import POLICY, T0, Given, row, snap


def test_marked_product_without_offer_gets_create_offer_with_mapped_fields() -> None:
    given = Given()
    (create,) = given.when(ev.ProductObserved(occurred_at=T0, product=row(stock=7)))
    assert isinstance(create, CreateOffer)
    body = create.body
    assert body["category"] == {"id": "257931"}
    assert {"id": "11323", "valuesIds": ["11323_1"]} in body["parameters"]
    assert body["external"] == {"id": "SKU-1"}
    assert body["stock"] == {"available": 7, "unit": "UNIT"}
    assert body["sellingMode"]["price"] == {"amount": "49.99", "currency": "PLN"}
    assert body["publication"] == {"status": "ACTIVE"}
    assert "stock 7 - 0 pending" in create.reason


def test_unmapped_category_is_a_listing_problem_not_a_command() -> None:
    given = Given()
    assert given.when(ev.ProductObserved(occurred_at=T0, product=row(category="KABLE"))) == []
    assert given.state.products["1"].problems == ("product 1: category 'KABLE' has no mapping in [mapping.categories]",)


def test_every_listing_problem_is_named_at_once() -> None:
    given = Given()
    bad = row(title="Kabel", price=Decimal("0"), ean="5901234123450", images=(), condition="X")
    given.when(ev.ProductObserved(occurred_at=T0, product=bad))
    problems = " | ".join(given.state.products["1"].problems)
    assert "condition 'X' has no mapping in [mapping.conditions]" in problems
    assert "title has 5 characters; Allegro needs 12-75" in problems
    assert "price 0 is not above 0" in problems
    assert "EAN '5901234123450' is not a valid EAN-13" in problems


def test_rejected_product_is_retried_only_when_it_changes() -> None:
    given = Given()
    given.when(ev.ProductObserved(occurred_at=T0, product=row(category="KABLE")))
    assert given.when(ev.ProductStockObserved(occurred_at=T0, product_id="1", stock=3)) == []
    fixed = row(category="ELEKTRONIKA", row_hash="h-1-fixed")
    assert given.kinds() == [] and [type(c) for c in given.when(ev.ProductObserved(occurred_at=T0, product=fixed))] == [
        CreateOffer
    ]


def test_existing_offer_with_same_external_id_is_adopted_not_duplicated() -> None:
    given = Given()
    (create,) = given.when(ev.ProductObserved(occurred_at=T0, product=row(stock=4)))
    given.when(
        ev.OfferCreated(
            occurred_at=T0,
            command_id=create.id,
            product_id="1",
            offer=snap("O9", available=4),
            adopted=True,
            content_hash="",
        )
    )
    assert given.state.products["1"].offer_id == "O9"
    assert [type(c) for c in given.commands] == [UpdateOffer], "an adopted offer gets our content, once"
    assert given.when(ev.ProductStockObserved(occurred_at=T0, product_id="1", stock=4)) == []


def test_product_no_longer_marked_gets_its_offer_ended() -> None:
    given = Given()
    given.listed()
    (end,) = given.when(ev.ProductObserved(occurred_at=T0, product=row(list=False, row_hash="h2")))
    assert isinstance(end, EndOffer) and end.purpose == "unlist"
    assert "no longer marked for listing" in end.reason


def test_product_removed_from_the_query_gets_its_offer_ended() -> None:
    given = Given()
    given.listed()
    (end,) = given.when(ev.ProductRemoved(occurred_at=T0, product_id="1"))
    assert isinstance(end, EndOffer) and "removed from the warehouse query" in end.reason


def test_unchanged_product_sends_nothing() -> None:
    given = Given()
    given.listed()
    assert given.when(ev.ProductObserved(occurred_at=T0, product=row())) == []


def test_price_change_becomes_a_price_command() -> None:
    given = Given()
    given.listed()
    (change,) = given.when(ev.ProductObserved(occurred_at=T0, product=row(price=Decimal("39.99"), row_hash="h2")))
    assert isinstance(change, ChangePrice) and change.price == Decimal("39.99")
    assert (
        given.when(
            ev.PriceChanged(occurred_at=T0, command_id=change.id, offer_id="O1", price=Decimal("39.99"), succeeded=True)
        )
        == []
    )


def test_title_change_becomes_one_patch() -> None:
    given = Given()
    given.listed()
    (update,) = given.when(
        ev.ProductObserved(occurred_at=T0, product=row(title="Kabel HDMI 2.1 złocony 3 m", row_hash="h2"))
    )
    assert isinstance(update, UpdateOffer) and update.patch["name"] == "Kabel HDMI 2.1 złocony 3 m"
    given.when(
        ev.OfferPatched(
            occurred_at=T0,
            command_id=update.id,
            offer_id="O1",
            purpose="update",
            offer=snap(),
            content_hash=update.content_hash,
        )
    )
    assert given.commands == []


def test_listing_flow_switched_off_creates_nothing() -> None:
    given = Given(replace(POLICY, flows=Flows(listing=False)))
    assert given.when(ev.ProductObserved(occurred_at=T0, product=row())) == []


def test_bad_row_freezes_increases_but_not_decreases() -> None:
    given = Given()
    given.listed(stock=5)
    given.when(
        ev.ProductRowRejected(
            occurred_at=T0, problem=RowProblem(product_id="1", problems=("stock is empty",), row_hash="bad")
        )
    )
    assert given.state.products["1"].unknown == "stock is empty"
    assert given.when(ev.ProductStockObserved(occurred_at=T0, product_id="1", stock=9)) == []
    (down,) = given.when(ev.ProductStockObserved(occurred_at=T0, product_id="1", stock=2))
    assert down.delta == -3  # type: ignore[attr-defined]
