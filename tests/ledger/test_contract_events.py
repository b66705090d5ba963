"""Ledger contract, events and cursors: idempotent appends, order, replay equality, cursor atomicity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from engine.ports import StoredEvent

from .builders import WHEN, batch, new_event
from .conftest import Backend, InjectedFault


def _keys(events: list[StoredEvent]) -> list[str]:
    return [e.source_key for e in events]


def test_append_returns_the_new_events_in_order_with_increasing_seq(backend: Backend) -> None:
    stored = backend.ledger.append(batch(5))

    assert _keys(stored) == ["e0", "e1", "e2", "e3", "e4"]
    seqs = [e.seq for e in stored]
    assert seqs == sorted(seqs) and len(set(seqs)) == 5 and seqs[0] >= 1
    assert backend.ledger.last_seq() == seqs[-1]


def test_appending_the_same_batch_twice_is_a_no_op(backend: Backend) -> None:
    first = backend.ledger.append(batch(3))

    again = backend.ledger.append(batch(3))

    assert again == []
    assert list(backend.ledger.events()) == first


def test_duplicates_inside_one_batch_are_kept_once_at_their_first_place(backend: Backend) -> None:
    events = [new_event("a"), new_event("b"), new_event("a", payload={"second": True}), new_event("c")]

    stored = backend.ledger.append(events)

    assert _keys(stored) == ["a", "b", "c"]
    assert stored[0].payload == {"key": "a", "quantity": 1}


def test_a_batch_overlapping_stored_events_inserts_only_the_new_ones_in_order(backend: Backend) -> None:
    backend.ledger.append([new_event("b"), new_event("d")])

    stored = backend.ledger.append([new_event(k) for k in "abcde"])

    assert _keys(stored) == ["a", "c", "e"]
    assert _keys(list(backend.ledger.events())) == ["b", "d", "a", "c", "e"]


def test_a_batch_larger_than_a_page_is_inserted_whole_and_read_back_equal(backend: Backend) -> None:
    backend.ledger.append([new_event("e1500"), new_event("e10")])
    events = [*batch(2_500), new_event("e7", payload={"again": True})]

    stored = backend.ledger.append(events, cursor=("allegro.orders", "p-big"))

    assert _keys(stored) == [f"e{i}" for i in range(2_500) if i not in (10, 1500)]
    seqs = [e.seq for e in stored]
    assert seqs == sorted(set(seqs)) and seqs[0] > 2
    assert list(backend.ledger.events(after_seq=2)) == stored
    assert backend.ledger.cursor("allegro.orders") == "p-big"


def test_the_same_source_key_in_another_stream_is_another_event(backend: Backend) -> None:
    stored = backend.ledger.append([new_event("42", stream="allegro.orders"), new_event("42", stream="warehouse")])

    assert [(e.stream, e.source_key) for e in stored] == [("allegro.orders", "42"), ("warehouse", "42")]


def test_events_read_back_equal_what_was_appended(backend: Backend) -> None:
    payload = {
        "title": "Kabel HDMI zażółć gęślą jaźń ŻÓŁW 2 m",
        "price": "129.99",
        "nested": {"lines": [{"id": "li-1", "qty": 2}], "empty": {}, "none": None},
        "flags": [True, False],
        "ratio": 0.1,
        "big": 2**53 + 1,
        "emoji": "📦",
    }
    warsaw = timezone(timedelta(hours=2))
    event = new_event("x", payload=payload, occurred_at=datetime(2026, 6, 1, 14, 0, 0, 1, tzinfo=warsaw))

    [stored] = backend.ledger.append([event])
    [read] = list(backend.ledger.events())

    assert read == stored
    assert read.payload == payload
    assert read.occurred_at == datetime(2026, 6, 1, 12, 0, 0, 1, tzinfo=UTC)
    assert read.occurred_at.tzinfo is UTC and read.recorded_at.tzinfo is UTC
    assert read.recorded_at == backend.clock.now()
    assert (read.type, read.version, read.entity) == ("OrderLineBought", 1, "cf-1")


def test_events_after_and_until_seq_are_a_half_open_then_closed_range(backend: Backend) -> None:
    seqs = [e.seq for e in backend.ledger.append(batch(6))]

    assert [e.seq for e in backend.ledger.events(after_seq=seqs[1])] == seqs[2:]
    assert [e.seq for e in backend.ledger.events(after_seq=seqs[1], until_seq=seqs[3])] == seqs[2:4]
    assert list(backend.ledger.events(after_seq=seqs[-1])) == []


def test_reading_many_events_pages_through_all_of_them_in_order(backend: Backend) -> None:
    backend.ledger.append(batch(2345))

    seqs = [e.seq for e in backend.ledger.events()]

    assert len(seqs) == 2345 and seqs == sorted(seqs)


def test_events_for_entity_are_that_entitys_events_in_seq_order(backend: Backend) -> None:
    backend.ledger.append([new_event("1", entity="A"), new_event("2", entity="B"), new_event("3", entity="A")])

    assert _keys(backend.ledger.events_for_entity("A")) == ["1", "3"]
    assert backend.ledger.events_for_entity("nobody") == []


def test_an_empty_ledger_has_last_seq_zero_no_events_and_no_cursors(backend: Backend) -> None:
    assert backend.ledger.last_seq() == 0
    assert list(backend.ledger.events()) == []
    assert backend.ledger.cursor("allegro.orders") is None
    assert backend.ledger.cursors() == []


def test_the_cursor_moves_with_its_batch_even_when_nothing_in_it_is_new(backend: Backend) -> None:
    backend.ledger.append(batch(2), cursor=("allegro.orders", "evt-2"))
    backend.clock.advance(60)

    backend.ledger.append(batch(2), cursor=("allegro.orders", "evt-3"))
    backend.ledger.append([], cursor=("allegro.offers", None))

    assert backend.ledger.cursor("allegro.orders") == "evt-3"
    [offers, orders] = backend.ledger.cursors()
    assert (offers.name, offers.position) == ("allegro.offers", None)
    assert (orders.name, orders.position, orders.updated_at) == ("allegro.orders", "evt-3", backend.clock.now())
    assert orders.updated_at.tzinfo is UTC


def test_a_failure_after_the_events_were_written_moves_neither_events_nor_cursor(backend: Backend) -> None:
    backend.ledger.append([new_event("old")], cursor=("allegro.orders", "p1"))

    with backend.fail_writes_to("cursors"), pytest.raises(InjectedFault):
        backend.ledger.append(batch(3), cursor=("allegro.orders", "p2"))

    assert _keys(list(backend.ledger.events())) == ["old"]
    assert backend.ledger.cursor("allegro.orders") == "p1"
    assert _keys(backend.ledger.append(batch(3), cursor=("allegro.orders", "p2"))) == ["e0", "e1", "e2"]


def test_an_event_that_cannot_be_serialized_stores_nothing_of_its_batch(backend: Backend) -> None:
    events = [*batch(2), new_event("bad", payload={"price": Decimal("1.10")})]

    with pytest.raises(TypeError):
        backend.ledger.append(events, cursor=("warehouse.products", "w9"))

    assert list(backend.ledger.events()) == []
    assert backend.ledger.cursor("warehouse.products") is None


def test_a_naive_timestamp_is_refused_and_stores_nothing(backend: Backend) -> None:
    with pytest.raises(ValueError, match="naive"):
        backend.ledger.append([new_event("n", occurred_at=WHEN.replace(tzinfo=None))], cursor=("c", "1"))

    assert backend.ledger.last_seq() == 0 and backend.ledger.cursors() == []
