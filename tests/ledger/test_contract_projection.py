"""Ledger contract, the projection: upserts, deletes, the folded seq and a reset, committed atomically."""

from __future__ import annotations

import pytest

from engine.ports import ProjectionChanges

from .builders import command
from .conftest import Backend, InjectedFault


def test_an_empty_projection_is_folded_up_to_zero(backend: Backend) -> None:
    assert backend.ledger.load_projection() == (0, {})


def test_upserts_insert_then_replace_rows_and_deletes_remove_them(backend: Backend) -> None:
    backend.ledger.commit_reduction(
        folded_seq=3,
        changes=ProjectionChanges(
            upserts={("product", "SKU-1"): {"stock": 5, "title": "Łódka"}, ("offer", "777"): {"qty": 5}}
        ),
        commands=[],
    )
    backend.ledger.commit_reduction(
        folded_seq=7,
        changes=ProjectionChanges(
            upserts={("product", "SKU-1"): {"stock": 4, "title": "Łódka"}, ("line", "cf-1/li-1"): {"n": 1}},
            deletes=[("offer", "777"), ("offer", "never-there")],
        ),
        commands=[],
    )

    assert backend.ledger.load_projection() == (
        7,
        {("product", "SKU-1"): {"stock": 4, "title": "Łódka"}, ("line", "cf-1/li-1"): {"n": 1}},
    )


def test_a_key_both_upserted_and_deleted_in_one_reduction_ends_up_deleted(backend: Backend) -> None:
    key = ("product", "SKU-9")

    backend.ledger.commit_reduction(
        folded_seq=1, changes=ProjectionChanges(upserts={key: {"stock": 1}}, deletes=[key]), commands=[]
    )

    assert backend.ledger.load_projection() == (1, {})


def test_reset_drops_every_row_and_folds_back_to_zero(backend: Backend) -> None:
    backend.ledger.commit_reduction(
        folded_seq=9, changes=ProjectionChanges(upserts={("product", "A"): {"stock": 1}}), commands=[command("c1")]
    )

    backend.ledger.reset_projection()

    assert backend.ledger.load_projection() == (0, {})
    assert [c.id for c in backend.ledger.commands()] == ["c1"]


def test_a_reduction_that_fails_while_recording_commands_changes_nothing(backend: Backend) -> None:
    backend.ledger.commit_reduction(
        folded_seq=2, changes=ProjectionChanges(upserts={("product", "A"): {"stock": 1}}), commands=[]
    )

    with backend.fail_writes_to("commands"), pytest.raises(InjectedFault):
        backend.ledger.commit_reduction(
            folded_seq=5,
            changes=ProjectionChanges(upserts={("product", "A"): {"stock": 0}}, deletes=[("product", "A")]),
            commands=[command("c1")],
        )

    assert backend.ledger.load_projection() == (2, {("product", "A"): {"stock": 1}})
    assert backend.ledger.commands() == []


def test_read_projection_hands_every_row_to_the_consumer_once_in_the_load_order(backend: Backend) -> None:
    rows = {("product", f"P{i:04d}"): {"stock": i, "title": "Łódka"} for i in range(2_500)}
    backend.ledger.commit_reduction(folded_seq=4, changes=ProjectionChanges(upserts=rows), commands=[])

    folded, items = backend.ledger.read_projection(list)

    assert folded == 4
    assert dict(items) == rows
    assert len(items) == len(rows)
    assert items == list(backend.ledger.load_projection()[1].items())


def test_read_projection_gives_the_consumers_result_and_passes_its_error_on(backend: Backend) -> None:
    backend.ledger.commit_reduction(
        folded_seq=2, changes=ProjectionChanges(upserts={("product", "A"): {"stock": 1}}), commands=[]
    )

    assert backend.ledger.read_projection(lambda items: sum(1 for _ in items)) == (2, 1)

    def refuse(items: object) -> None:
        raise InjectedFault("cannot build the state")

    with pytest.raises(InjectedFault):
        backend.ledger.read_projection(refuse)
    assert backend.ledger.load_projection() == (2, {("product", "A"): {"stock": 1}})
