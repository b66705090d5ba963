"""Ledger contract, the outbox: commands recorded once, due order, mark_sent, outcomes recorded atomically."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from engine.errors import SkipItem
from engine.ports import ProjectionChanges

from .builders import command, new_event
from .conftest import Backend

NO_CHANGES = ProjectionChanges()


def test_new_commands_are_recorded_pending_with_their_times(backend: Backend) -> None:
    backend.ledger.commit_reduction(folded_seq=1, changes=NO_CHANGES, commands=[command("c1")])

    stored = backend.ledger.command("c1")

    assert stored == command("c1", created_at=backend.clock.now(), updated_at=backend.clock.now())
    assert stored is not None and stored.status == "pending" and stored.attempts == 0
    assert backend.ledger.command("unknown") is None


def test_a_command_id_already_recorded_is_left_untouched(backend: Backend) -> None:
    backend.ledger.commit_reduction(folded_seq=1, changes=NO_CHANGES, commands=[command("c1")])
    backend.ledger.record_outcome("c1", status="done", attempts=1, next_attempt_at=None, last_error=None)
    backend.clock.advance(10)

    backend.ledger.commit_reduction(
        folded_seq=2, changes=NO_CHANGES, commands=[command("c1", payload={"other": 1}), command("c2")]
    )

    first = backend.ledger.command("c1")
    assert first is not None and first.status == "done" and first.payload == {"offers": ["offer-1"], "delta": -1}
    assert [c.id for c in backend.ledger.commands()] == ["c1", "c2"]


def test_due_commands_are_pending_or_failed_and_due_oldest_first_then_by_id(backend: Backend) -> None:
    now = backend.clock.now()
    t0 = now - timedelta(hours=1)
    backend.ledger.commit_reduction(
        folded_seq=1,
        changes=NO_CHANGES,
        commands=[
            command("b-late", created_at=t0 + timedelta(seconds=5)),
            command("b-early", created_at=t0),
            command("a-early", created_at=t0),
            command("future", created_at=t0, status="failed", next_attempt_at=now + timedelta(microseconds=1)),
            command("retry-now", created_at=t0 + timedelta(seconds=9), status="failed", next_attempt_at=now),
            command("in-flight", created_at=t0, status="sent"),
            command("finished", created_at=t0, status="done"),
            command("given-up", created_at=t0, status="dead"),
        ],
    )

    due = backend.ledger.due_commands(now)

    assert [c.id for c in due] == ["a-early", "b-early", "b-late", "retry-now"]
    later = [c.id for c in backend.ledger.due_commands(now + timedelta(seconds=1))]
    assert later == ["a-early", "b-early", "future", "b-late", "retry-now"]


def test_commands_can_be_listed_by_status_and_counted(backend: Backend) -> None:
    backend.ledger.commit_reduction(
        folded_seq=1,
        changes=NO_CHANGES,
        commands=[command("p"), command("f", status="failed"), command("d", status="dead"), command("q")],
    )

    assert [c.id for c in backend.ledger.commands(statuses=["failed", "dead"])] == ["d", "f"]
    assert backend.ledger.command_counts() == {"pending": 2, "failed": 1, "dead": 1}


def test_mark_sent_records_the_batch_and_one_more_attempt_before_the_request(backend: Backend) -> None:
    backend.ledger.commit_reduction(folded_seq=1, changes=NO_CHANGES, commands=[command("c1"), command("c2")])
    backend.clock.advance(5)

    backend.ledger.mark_sent(["c1", "c2"], batch="9b2c6f1e-batch")

    for stored in (backend.ledger.command("c1"), backend.ledger.command("c2")):
        assert stored is not None
        assert (stored.status, stored.batch, stored.attempts) == ("sent", "9b2c6f1e-batch", 1)
        assert stored.updated_at == backend.clock.now()
    assert backend.ledger.due_commands(backend.clock.now()) == []


def test_mark_sent_with_an_unknown_id_changes_nothing(backend: Backend) -> None:
    backend.ledger.commit_reduction(folded_seq=1, changes=NO_CHANGES, commands=[command("c1")])

    with pytest.raises(SkipItem, match="ghost"):
        backend.ledger.mark_sent(["c1", "ghost"], batch="b1")

    stored = backend.ledger.command("c1")
    assert stored is not None and (stored.status, stored.attempts, stored.batch) == ("pending", 0, None)


def test_record_outcome_updates_the_command_and_appends_its_events(backend: Backend) -> None:
    backend.ledger.commit_reduction(folded_seq=1, changes=NO_CHANGES, commands=[command("c1")])
    retry_at = datetime(2026, 3, 1, 12, 5, tzinfo=UTC)

    stored = backend.ledger.record_outcome(
        "c1",
        status="failed",
        attempts=1,
        next_attempt_at=retry_at,
        last_error="HTTP 503 from Allegro",
        events=[new_event("outcome-c1-1", stream="engine", type="CommandFailed")],
    )

    assert [e.source_key for e in stored] == ["outcome-c1-1"]
    assert [e.source_key for e in backend.ledger.events()] == ["outcome-c1-1"]
    after = backend.ledger.command("c1")
    assert after is not None
    assert (after.status, after.attempts, after.next_attempt_at, after.last_error) == (
        "failed",
        1,
        retry_at,
        "HTTP 503 from Allegro",
    )
    assert backend.ledger.due_commands(retry_at - timedelta(microseconds=1)) == []
    assert [c.id for c in backend.ledger.due_commands(retry_at)] == ["c1"]


def test_an_outcome_whose_events_fail_leaves_the_command_as_it_was(backend: Backend) -> None:
    backend.ledger.commit_reduction(folded_seq=1, changes=NO_CHANGES, commands=[command("c1")])
    bad = new_event("outcome", stream="engine", payload={"price": Decimal("9.99")})

    with pytest.raises(TypeError):
        backend.ledger.record_outcome(
            "c1", status="done", attempts=1, next_attempt_at=None, last_error=None, events=[bad]
        )

    stored = backend.ledger.command("c1")
    assert stored is not None and (stored.status, stored.attempts) == ("pending", 0)
    assert backend.ledger.last_seq() == 0


def test_an_outcome_for_an_unknown_command_records_nothing(backend: Backend) -> None:
    with pytest.raises(SkipItem, match="ghost"):
        backend.ledger.record_outcome(
            "ghost", status="done", attempts=1, next_attempt_at=None, last_error=None, events=[new_event("o")]
        )

    assert backend.ledger.last_seq() == 0


def test_an_unknown_status_is_refused(backend: Backend) -> None:
    backend.ledger.commit_reduction(folded_seq=1, changes=NO_CHANGES, commands=[command("c1")])

    with pytest.raises(ValueError, match="bogus"):
        backend.ledger.record_outcome("c1", status="bogus", attempts=1, next_attempt_at=None, last_error=None)
    with pytest.raises(ValueError, match="bogus"):
        backend.ledger.commit_reduction(folded_seq=2, changes=NO_CHANGES, commands=[command("c2", status="bogus")])

    assert [c.status for c in backend.ledger.commands()] == ["pending"]


def test_operator_retry_and_skip_set_the_status_with_the_operator_event(backend: Backend) -> None:
    backend.ledger.commit_reduction(folded_seq=1, changes=NO_CHANGES, commands=[command("c1"), command("c2")])
    later = backend.clock.now() + timedelta(hours=1)
    backend.ledger.record_outcome("c1", status="failed", attempts=3, next_attempt_at=later, last_error="HTTP 500")

    backend.ledger.set_command_status("c1", "pending", events=[new_event("op-1", stream="operator")])
    backend.ledger.set_command_status("c2", "dead", note="skipped by operator")

    retried, skipped = backend.ledger.command("c1"), backend.ledger.command("c2")
    assert retried is not None and skipped is not None
    assert (retried.status, retried.attempts, retried.next_attempt_at, retried.last_error) == (
        "pending",
        3,
        None,
        "HTTP 500",
    )
    assert (skipped.status, skipped.last_error) == ("dead", "skipped by operator")
    assert [e.source_key for e in backend.ledger.events()] == ["op-1"]
    assert [c.id for c in backend.ledger.due_commands(backend.clock.now())] == ["c1"]


def test_a_held_plan_is_not_due_until_the_operator_approves_it(backend: Backend) -> None:
    backend.ledger.commit_reduction(
        folded_seq=1, changes=NO_CHANGES, commands=[command("end-1", status="held"), command("c2")]
    )

    assert [c.id for c in backend.ledger.due_commands(backend.clock.now())] == ["c2"]
    assert backend.ledger.command_counts() == {"held": 1, "pending": 1}

    backend.ledger.set_command_status("end-1", "pending", events=[new_event("approve-1", stream="operator")])

    assert [c.id for c in backend.ledger.due_commands(backend.clock.now())] == ["c2", "end-1"]
