"""Folding ledger events into the projection and outbox, and replay from zero giving the same result."""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.memory_ledger import MemoryLedger
from engine import events as ev
from engine.context import Context
from engine.fold import fold, state_of
from engine.replay import differences, rebuild
from engine.state import all_rows, from_rows, to_rows
from tests.unit.given import POLICY, STAN, T0, later, order, row, snap


class FixedClock:
    def now(self) -> datetime:
        return datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def _context(ledger: MemoryLedger) -> Context:
    return Context(ledger=ledger, allegro=None, warehouse=None, clock=FixedClock(), policy=POLICY)  # type: ignore[arg-type]


def _append(ledger: MemoryLedger, *events: ev.Event) -> None:
    start = ledger.last_seq()
    ledger.append([ev.encode(e, f"test:{start + i}") for i, e in enumerate(events)])


def _scenario(ledger: MemoryLedger, ctx: Context) -> None:
    _append(
        ledger,
        ev.PolicyChanged(occurred_at=T0, policy=POLICY),
        ev.CategoryObserved(occurred_at=T0, category_id="257931", parameters=(STAN,)),
        ev.ProductObserved(occurred_at=T0, product=row("1", stock=5)),
        ev.ProductObserved(occurred_at=T0, product=row("2", stock=0, category="KABLE")),
    )
    fold(ctx)
    create = next(c for c in ledger.commands() if c.kind == "create_offer")
    _append(
        ledger,
        ev.OfferCreated(
            occurred_at=T0,
            command_id=create.id,
            product_id="1",
            offer=snap(available=5),
            adopted=False,
            content_hash=create.payload["content_hash"],
        ),
        ev.OrderEventObserved(occurred_at=later(5), order=order("cf1", "BOUGHT", ("l1", "O1", 2), at=later(5))),
        ev.ProductStockObserved(occurred_at=later(6), product_id="1", stock=4),
    )
    fold(ctx)


def test_fold_stores_projection_and_commands_that_a_replay_reproduces() -> None:
    ledger = MemoryLedger()
    ctx = _context(ledger)
    _scenario(ledger, ctx)
    kinds = sorted(c.kind for c in ledger.commands())
    assert kinds == ["change_quantity", "change_stock", "create_offer"]
    folded, rows = ledger.load_projection()
    assert folded == ledger.last_seq()
    assert from_rows(rows).products["1"].pending == 2
    rebuilt = rebuild(ledger.events())
    assert differences(rebuilt, rows, ledger.commands()) == []


def test_replay_verify_catches_an_altered_projection() -> None:
    ledger = MemoryLedger()
    ctx = _context(ledger)
    _scenario(ledger, ctx)
    folded, rows = ledger.load_projection()
    tampered = dict(rows[("product", "1")]) | {"stock": 99}
    from engine.ports import ProjectionChanges

    ledger.commit_reduction(
        folded_seq=folded, changes=ProjectionChanges(upserts={("product", "1"): tampered}), commands=[]
    )
    _, rows = ledger.load_projection()
    assert differences(rebuild(ledger.events()), rows, ledger.commands()) == ["projection product 1: differs in stock"]


def test_folding_nothing_new_writes_nothing() -> None:
    ledger = MemoryLedger()
    ctx = _context(ledger)
    _scenario(ledger, ctx)
    before = (ledger.load_projection(), len(ledger.commands()))
    result = fold(ctx)
    assert result.events == 0 and result.commands == []
    assert (ledger.load_projection(), len(ledger.commands())) == before


def test_a_plan_ending_many_offers_is_held() -> None:
    ledger = MemoryLedger()
    ctx = _context(ledger)
    _append(
        ledger,
        ev.PolicyChanged(occurred_at=T0, policy=POLICY),
        ev.CategoryObserved(occurred_at=T0, category_id="257931", parameters=(STAN,)),
    )
    for i in range(1, 11):
        _append(ledger, ev.ProductObserved(occurred_at=T0, product=row(str(i), stock=3)))
    fold(ctx)
    for command in [c for c in ledger.commands() if c.kind == "create_offer"]:
        pid = command.payload["product_id"]
        _append(
            ledger,
            ev.OfferCreated(
                occurred_at=T0,
                command_id=command.id,
                product_id=pid,
                offer=snap(f"O{pid}", available=3, ext=f"SKU-{pid}"),
                adopted=False,
                content_hash=command.payload["content_hash"],
            ),
        )
    fold(ctx)
    _append(ledger, *(ev.ProductStockObserved(occurred_at=later(9), product_id=str(i), stock=0) for i in range(1, 11)))
    result = fold(ctx)
    assert len(result.held) == 10
    assert {c.status for c in ledger.commands() if c.kind == "end_offer"} == {"held"}
    assert not [c for c in ledger.due_commands(FixedClock().now()) if c.kind == "end_offer"]


def test_a_restarted_context_loads_the_state_the_folds_stored() -> None:
    ledger = MemoryLedger()
    ctx = _context(ledger)
    _scenario(ledger, ctx)
    assert ctx.state is not None

    restarted = _context(ledger)

    assert all_rows(state_of(restarted)) == all_rows(ctx.state)
    assert restarted.folded == ctx.folded == ledger.last_seq()


def test_to_rows_encodes_each_row_when_it_is_read_and_separates_the_deletes() -> None:
    ledger = MemoryLedger()
    ctx = _context(ledger)
    _scenario(ledger, ctx)
    state = ctx.state
    assert state is not None

    upserts, deletes = to_rows(state, {("product", "1"), ("offer", "gone")})
    state.products["1"].stock = 77

    assert deletes == [("offer", "gone")]
    assert list(upserts) == [("product", "1")] and len(upserts) == 1
    assert upserts[("product", "1")]["stock"] == 77
    assert ("offer", "gone") not in upserts


def test_product_rows_share_their_ids_hash_and_repeated_words_after_a_fold_and_after_a_restart() -> None:
    ledger = MemoryLedger()
    ctx = _context(ledger)
    _append(
        ledger,
        ev.ProductObserved(occurred_at=T0, product=row("1", extra=(("marka", "Acme"),))),
        ev.ProductObserved(occurred_at=T0, product=row("2", extra=(("marka", "Globex"),))),
    )
    fold(ctx)

    for state in (state_of(ctx), state_of(_context(ledger))):
        one, two = state.products["1"], state.products["2"]
        assert one.row is not None and two.row is not None
        assert one.row == row("1", extra=(("marka", "Acme"),))
        assert one.row.product_id is one.product_id and one.row.external_id is one.external_id
        assert one.row.row_hash is one.row_hash
        assert one.row.category is two.row.category and one.row.condition is two.row.condition
        assert one.row.extra[0][0] is two.row.extra[0][0]
