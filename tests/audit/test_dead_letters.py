"""Dead letters: a command that keeps failing goes dead without blocking its neighbours; an operator retries
it (it goes out again on the next dispatch) or skips it with a reason; both are operator events."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from adapters.ledger import SqlLedger, open_ledger, upgrade
from adapters.memory import MemoryWarehouse
from engine.context import Context, CycleOptions
from engine.dispatch import dispatch
from engine.model import ProductRow, StockApplyStatus, StockChange, StockChangeResult
from engine.policy import Policy
from engine.ports import CommandRecord, ProjectionChanges
from tests.audit.conftest import cli

pytestmark = pytest.mark.anyio

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Clock:
    current: datetime = field(default_factory=lambda: datetime(2026, 11, 28, 8, 0, tzinfo=UTC))

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


class FlakyWarehouse(MemoryWarehouse):
    """A warehouse whose stock statement keeps failing (retryably) for the products in `failing`."""

    def __init__(self, rows: Sequence[ProductRow]) -> None:
        super().__init__(rows)
        self.failing: set[str] = set()

    def apply_stock_changes(self, changes: Sequence[StockChange]) -> list[StockChangeResult]:
        fine = [c for c in changes if c.product_id not in self.failing]
        results = {r.key: r for r in super().apply_stock_changes(fine)}
        failed = StockApplyStatus.FAILED
        return [
            results.get(c.key)
            or StockChangeResult(key=c.key, status=failed, error="deadlock detected; try again", retryable=True)
            for c in changes
        ]


def _row(pid: str, stock: int) -> ProductRow:
    return ProductRow(product_id=pid, external_id=f"SKU-{pid}", stock=stock, title=f"Product {pid}", list=False)


def _command(name: str, product_id: str, delta: int = -1) -> CommandRecord:
    key = f"sale:{name}:line"
    return CommandRecord(
        id=f"00000000-0000-5000-8000-{name.rjust(12, '0')}",
        kind="change_stock",
        target=product_id,
        payload={"key": key, "product_id": product_id, "delta": delta},
        reason=f"Allegro order line {name}:line: take {-delta} off stock",
        caused_by=1,
    )


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[Path, SqlLedger, Context, FlakyWarehouse, Clock]]:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    upgrade(url)
    config = tmp_path / "config.toml"
    shipped = (REPO / "config.toml").read_text(encoding="utf-8")
    config.write_text(shipped.replace('state_url = "sqlite:///state.db"', f'state_url = "{url}"'), encoding="utf-8")
    clock = Clock()
    ledger = open_ledger(url, clock=clock)
    warehouse = FlakyWarehouse([_row("1", 10), _row("2", 10)])
    options = CycleOptions(max_attempts=3, backoff_seconds=1, max_backoff_seconds=10)
    ctx = Context(
        ledger=ledger,
        allegro=None,
        warehouse=warehouse,
        clock=clock,
        policy=Policy(),
        options=options,  # type: ignore[arg-type]
    )
    yield config, ledger, ctx, warehouse, clock
    ledger.close()


def _record(ledger: SqlLedger, *commands: CommandRecord) -> None:
    ledger.commit_reduction(folded_seq=0, changes=ProjectionChanges(), commands=list(commands))


def _status(ledger: SqlLedger, command: CommandRecord) -> tuple[str, int]:
    found = ledger.command(command.id)
    assert found is not None
    return found.status, found.attempts


async def test_a_failing_command_goes_dead_without_blocking_its_neighbours_then_retry_sends_it_again(
    setup: tuple[Path, SqlLedger, Context, FlakyWarehouse, Clock],
) -> None:
    config, ledger, ctx, warehouse, clock = setup
    warehouse.failing = {"2"}
    stuck, first, later = _command("a", "2"), _command("b", "1"), _command("c", "1", delta=-2)
    _record(ledger, stuck, first)

    await dispatch(ctx)
    assert _status(ledger, first) == ("done", 1) and _status(ledger, stuck) == ("failed", 1)
    _record(ledger, later)  # a neighbour arriving while the stuck one waits for its retry
    clock.advance(1)
    await dispatch(ctx)
    assert _status(ledger, later) == ("done", 1) and _status(ledger, stuck) == ("failed", 2)
    clock.advance(2)
    await dispatch(ctx)
    assert _status(ledger, stuck) == ("dead", 3)
    assert warehouse.stock("1") == 7 and warehouse.stock("2") == 10
    dead = ledger.command(stuck.id)
    assert dead is not None and dead.last_error == "gave up after 3 attempts: deadlock detected; try again"
    clock.advance(3600)
    assert await dispatch(ctx) == {}, "a dead command is not sent again by itself"
    failed_events = [e for e in ledger.events() if e.type == "CommandFailed"]
    assert [(e.payload["command_id"], e.payload["dead"]) for e in failed_events] == [(stuck.id, True)]

    code, out, _ = cli(config, "commands", "list", "--failed", "--json")
    assert code == 0
    assert [(c["id"], c["status"], c["attempts"]) for c in orjson.loads(out)] == [(stuck.id, "dead", 3)]

    warehouse.failing = set()  # the operator fixed the cause
    code, out, _ = cli(config, "commands", "retry", stuck.id)
    assert (code, out) == (0, f"command {stuck.id} will be sent on the next cycle\n")
    retried = [e for e in ledger.events() if e.type == "CommandRetried"]
    assert len(retried) == 1 and retried[0].stream == "operator" and "retried by " in retried[0].payload["reason"]
    assert _status(ledger, stuck)[0] == "pending"
    await dispatch(ctx)
    assert _status(ledger, stuck) == ("done", 4) and warehouse.stock("2") == 9


async def test_skip_gives_a_dead_command_up_with_the_operators_reason(
    setup: tuple[Path, SqlLedger, Context, FlakyWarehouse, Clock],
) -> None:
    config, ledger, ctx, _, _ = setup
    gone = _command("d", "404")  # the stock statement finds no such product: permanent, dead at once
    _record(ledger, gone)
    await dispatch(ctx)
    assert _status(ledger, gone) == ("dead", 1)

    code, out, err = cli(config, "commands", "skip", gone.id, "--reason", "product discontinued")
    assert (code, out, err) == (0, f"command {gone.id} skipped\n", "")
    record = ledger.command(gone.id)
    assert record is not None and record.status == "dead" and record.last_error
    assert record.last_error.endswith(": product discontinued") and "@" in record.last_error
    # An operator event; the reducer releases the target as for a command that failed for good.
    skipped = [e for e in ledger.events() if e.source_key.startswith("operator:")]
    assert [(e.type, e.stream) for e in skipped] == [("CommandSkipped", "operator")]
    assert skipped[0].payload["reason"].endswith(": product discontinued")

    code, _, err = cli(config, "commands", "skip", "no-such-id", "--reason", "x")
    assert code == 2 and err == "error: command no-such-id: not in the outbox; see `allegro-sync commands list`\n"


async def test_a_warehouse_outage_retries_everything_and_kills_nothing_before_max_attempts(
    setup: tuple[Path, SqlLedger, Context, FlakyWarehouse, Clock],
) -> None:
    _, ledger, ctx, warehouse, clock = setup
    one, two = _command("e", "1"), _command("f", "2")
    _record(ledger, one, two)
    warehouse.down = True
    await dispatch(ctx)
    assert [_status(ledger, c) for c in (one, two)] == [("failed", 1), ("failed", 1)]
    warehouse.down = False
    clock.advance(1)
    await dispatch(ctx)
    assert [_status(ledger, c)[0] for c in (one, two)] == ["done", "done"]
