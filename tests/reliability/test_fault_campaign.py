"""Fault campaign: the engine in this process (`run_once` on a Context built like `open_context`) against a
real emulator server (timeouts need real sockets) and a SQLite warehouse and ledger. Each scenario lists the
sample, switches a fault on, trades and cycles through it, switches it off, cycles to quiescence, and checks:
the section 9 invariants, nothing written twice (one body per command id, one offer per external id), a
replay that matches, and, while the fault lasted, that only what depends on the fault stopped."""

from __future__ import annotations

import json
import os
import random
import sqlite3
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import anyio
import pytest

from adapters.allegro.client import AllegroClient
from adapters.allegro.tokens import TokenStore
from adapters.ledger import open_ledger, upgrade
from adapters.warehouse import SqlWarehouse
from engine import operations
from engine.bootstrap import SystemClock, allegro_config, options_of, policy_of, warehouse_config
from engine.context import Context
from engine.cycle import CycleReport, run_once
from engine.settings import load_settings
from tests.reliability.crash_world import GRACE_SECONDS, SECRET, CrashWorld, invariant_failures
from tests.reliability.servers import SERVERS, ServerWarehouse, server_warehouse

RESULTS = Path(__file__).with_name("results") / "fault-campaign.json"


class WriteRecorder:
    """ASGI middleware in front of the emulator: every write to the Allegro API, with its body."""

    def __init__(self, app: Any, log: list[tuple[str, str, bytes]]) -> None:
        self.app, self.log = app, log

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] == "GET" or scope["path"].startswith(("/__emulator", "/auth")):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []

        async def recording() -> Any:
            message = await receive()
            chunks.append(message.get("body", b""))
            return message

        try:
            await self.app(scope, recording, send)
        finally:
            self.log.append((scope["method"], scope["path"], b"".join(chunks)))


@dataclass(slots=True)
class Scenario:
    name: str
    switches: dict[str, Any] = field(default_factory=dict)
    at_listing: bool = False
    read_timeout_seconds: float = 30.0
    between: Callable[[FaultRun, int], Awaitable[None]] | None = None
    expect_stopped: str | None = None
    cycles: int = 4
    max_attempts: int = 4
    expect_error_from: str | None = None
    server: str | None = None
    """"postgres" or "mariadb": the warehouse is a fresh schema/database on that local server (its
    connections can be killed); None: a SQLite file."""
    """A source the cycle reports must name while the fault lasts (the rest of the cycle still runs)."""


class FaultRun:
    def __init__(self, folder: Path, seed: int, warehouse_url: str | None = None) -> None:
        self.writes: list[tuple[str, str, bytes]] = []
        self.before_commit: Callable[[Any], None] | None = None
        self.world = CrashWorld(folder, products=12, seed=seed, prepare=self._prepare, warehouse_url=warehouse_url)
        self.settings = load_settings(folder / "config.toml")
        upgrade(self.settings.engine.state_url.reveal())
        self.reports: list[CycleReport] = []
        self.ctx: Context | None = None
        self.lock: sqlite3.Connection | None = None
        self.server: ServerWarehouse | None = None
        self.warehouse_down = False
        self.all_commands: list[Any] = []

    def _prepare(self, app: Any) -> None:
        app.add_middleware(WriteRecorder, log=self.writes)

    def faults(self, switches: dict[str, Any]) -> None:
        self.world.http.put("/__emulator/faults", json=switches).raise_for_status()

    def new_client(self) -> AllegroClient:
        return AllegroClient(self.allegro_config, TokenStore(self.settings.allegro.token_file))

    @asynccontextmanager
    async def context(self, read_timeout_seconds: float, max_attempts: int) -> AsyncIterator[Context]:
        settings = self.settings
        self.allegro_config = replace(
            allegro_config(settings),
            read_timeout_seconds=read_timeout_seconds,
            backoff_base_seconds=0.02,
            backoff_max_seconds=0.2,
            uncertain_lookup_delay_seconds=0.2,
            max_attempts=max_attempts,
            rate_limit_wait_seconds=0.5,  # Allegro blocks 60 s after a 429; the emulator's injected 429 does not
        )
        warehouse = SqlWarehouse(
            replace(warehouse_config(settings), lock_timeout_seconds=0.3),
            before_commit=lambda connection: self.before_commit(connection) if self.before_commit else None,
        )
        allegro = self.new_client()
        ledger = open_ledger(settings.engine.state_url.reveal())
        warehouse.start()
        self.ctx = Context(
            ledger=ledger,
            allegro=allegro,
            warehouse=warehouse,
            clock=SystemClock(),
            policy=policy_of(settings),
            options=replace(options_of(settings), backoff_seconds=0.5, max_backoff_seconds=2, command_poll_seconds=1),
        )
        try:
            yield self.ctx
        finally:
            await self.ctx.allegro.aclose()  # type: ignore[attr-defined]
            if self.ctx.warehouse is not warehouse:
                self.ctx.warehouse.close()  # type: ignore[union-attr]
            warehouse.close()
            ledger.close()

    async def cycle(self) -> CycleReport:
        assert self.ctx is not None
        report = await run_once(self.ctx)
        self.reports.append(report)
        return report

    async def quiesce(self, max_cycles: int = 20) -> None:
        quiet = 0
        for _ in range(max_cycles):
            self.world.advance(GRACE_SECONDS + 5)
            before = (len(self.writes), self.world.stock(), len(self.world.applied()))
            report = await self.cycle()
            assert report.stopped is None, report.stopped
            after = (len(self.writes), self.world.stock(), len(self.world.applied()))
            waiting = self.world.open_commands()
            quiet = quiet + 1 if before == after and waiting == 0 and not report.errors else 0
            if quiet >= 2:
                return
            if waiting:
                await anyio.sleep(0.3)  # a failed command's back-off runs on the wall clock
        assert self.ctx is not None
        stuck = [
            (c.kind, c.target, c.status, c.attempts, c.last_error, str(getattr(c, "next_attempt_at", "")))
            for c in self.ctx.ledger.commands(statuses=["pending", "sent", "failed", "held"])
        ]
        raise AssertionError(f"not quiescent after {max_cycles} cycles: {self.reports[-1].as_dict()}; open: {stuck}")

    def written_twice(self) -> list[str]:
        """A command id (batch command PUT) sent with two different bodies would be two writes."""
        bodies: dict[str, set[bytes]] = defaultdict(set)
        for method, path, body in self.writes:
            if method == "PUT" and "-commands/" in path and body:  # empty: refused before the body was read
                bodies[path].add(body)
        return [
            f"{path}: {len(b)} different bodies: " + " | ".join(x.decode()[:300] for x in sorted(b))
            for path, b in bodies.items()
            if len(b) > 1
        ]


# ---------------------------------------------------------------------------------------------- hooks


async def _expire_access(run: FaultRun, _: int) -> None:
    run.faults({"expire_access_tokens": True})


async def _rotation_replayed(run: FaultRun, step: int) -> None:
    """The access token expires; the refresh rotates the pair; then the process dies before saving the new
    pair (the file goes back to the old one and a new client starts): within Allegro's 60 s grace window the
    old refresh token still works, once more."""
    path = Path(run.settings.allegro.token_file)
    if step == 0:
        run.saved_tokens = path.read_bytes()  # type: ignore[attr-defined]
    run.faults({"expire_access_tokens": True})
    if step == 1:
        assert run.ctx is not None
        await run.ctx.allegro.aclose()  # type: ignore[attr-defined]
        path.write_bytes(run.saved_tokens)  # type: ignore[attr-defined]
        run.ctx.allegro = run.new_client()
        run.world.advance(30)  # inside the 60 s grace of the rotated refresh token


async def _revoke(run: FaultRun, step: int) -> None:
    if step == 1:
        run.faults({"expire_access_tokens": True, "invalidate_refresh_tokens": True})


async def _warehouse_unreachable(run: FaultRun, step: int) -> None:
    """The database server stops answering (connection refused, as when it is restarted), then comes back.
    Stood in for by an adapter on a port where nothing listens: SQLite has no server to stop."""
    assert run.ctx is not None
    if step == 1:
        down = replace(
            warehouse_config(run.settings), url="postgresql+psycopg://shop@127.0.0.1:1/sklep", connect_timeout_seconds=1
        )
        run.real_warehouse = run.ctx.warehouse  # type: ignore[attr-defined]
        run.ctx.warehouse = SqlWarehouse(down)
    if step == 3:
        run.ctx.warehouse.close()  # type: ignore[union-attr]
        run.ctx.warehouse = run.real_warehouse  # type: ignore[attr-defined]


async def _server_killed_and_restarted(run: FaultRun, step: int) -> None:
    """The warehouse's MariaDB server dies (SIGKILL) while the cycle's stock transaction is about to commit,
    stays down for a whole cycle, and is started again: InnoDB recovers, the pool reconnects, and the stock
    changes that were lost with the transaction are applied exactly once."""
    server = run.server
    assert server is not None and server.private is not None
    private = server.private

    def die(_: Any) -> None:
        run.before_commit = None
        private.kill()
        server.killed += 1
        server.killed_in_transaction += 1
        run.warehouse_down = True

    if step == 0:
        run.before_commit = die
    if step == 2:
        private.start()
        run.warehouse_down = False


async def _warehouse_locked(run: FaultRun, step: int) -> None:
    if step == 1:
        run.lock = sqlite3.connect(run.world.folder / "warehouse.db", timeout=5, isolation_level=None)
        run.lock.execute("BEGIN EXCLUSIVE")
    if step == 3 and run.lock is not None:
        run.lock.execute("ROLLBACK")
        run.lock.close()
        run.lock = None


async def _killed_between_cycles(run: FaultRun, step: int) -> None:
    if step in (1, 2):
        assert run.server is not None
        run.server.kill_ours()


async def _killed_inside_the_stock_transaction(run: FaultRun, step: int) -> None:
    """Before the stock changes of the cycle commit, their connection is killed: the decrement and its applied
    key must go together (neither is kept), and the retry must apply them once."""
    server = run.server
    assert server is not None

    def kill_once(_: Any) -> None:
        run.before_commit = None
        if server.kill_ours():
            server.killed_in_transaction += 1

    if step in (0, 2):
        run.before_commit = kill_once


SCENARIOS = [
    Scenario("429 without Retry-After", {"error_rate_429": 0.3}),
    Scenario("429 with Retry-After", {"error_rate_429": 0.15, "retry_after_on_429": True}),
    Scenario("5xx bursts", {"error_rate_5xx": 0.5}),
    Scenario("latency spikes", {"latency_ms": 150}),
    Scenario("answers lost after the write registered (504)", {"timeout_after_registration": 0.5}),
    Scenario(
        "client read timeouts on slow answers",
        {"latency_ms": 700},
        read_timeout_seconds=0.4,
        cycles=1,
        max_attempts=2,
    ),
    Scenario("duplicated order events", {"duplicate_order_events": 0.8}),
    Scenario("shuffled order events", {"shuffle_order_events": 1.0}),
    Scenario("dropped order events recovered by the sweep", {"drop_order_events": 0.6}),
    Scenario("asynchronous offer creation", {"async_offer_creation": True, "retry_after_seconds": 1}, True),
    Scenario("slow command reports", {"command_delay_seconds": 4}),
    Scenario("commands executed out of order", {"command_out_of_order": True}),
    Scenario("access tokens expiring every cycle", between=_expire_access),
    Scenario("refresh-token rotation replayed within the grace window", between=_rotation_replayed),
    Scenario("refresh token revoked (invalid_grant)", between=_revoke, expect_stopped="allegro-sync auth login"),
    Scenario(
        "warehouse database unreachable, then back", between=_warehouse_unreachable, expect_error_from="warehouse"
    ),
    Scenario(
        "warehouse locked by another program (lock wait timeout)",
        between=_warehouse_locked,
        expect_error_from="warehouse",
    ),
    *(
        Scenario(f"{label} warehouse connections killed between cycles", between=_killed_between_cycles, server=server)
        for server, label in (("postgres", "PostgreSQL"), ("mariadb", "MariaDB"))
    ),
    *(
        Scenario(
            f"{label} warehouse connection killed inside the stock transaction",
            between=_killed_inside_the_stock_transaction,
            server=server,
        )
        for server, label in (("postgres", "PostgreSQL"), ("mariadb", "MariaDB"))
    ),
    Scenario(
        "MariaDB server killed (SIGKILL) inside the stock transaction, down for a cycle, restarted",
        between=_server_killed_and_restarted,
        server="mariadb-private",
        expect_error_from="warehouse",
    ),
]


@pytest.fixture
def results() -> Iterator[dict[str, Any]]:
    collected: dict[str, Any] = {}
    yield collected
    if not os.environ.get("ALLEGRO_SYNC_RECORD_RESULTS"):
        return
    RESULTS.parent.mkdir(exist_ok=True)
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data.update(collected)
    RESULTS.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


@pytest.mark.anyio
@pytest.mark.parametrize(
    "scenario",
    [pytest.param(s, marks=[SERVERS[s.server][2]] if s.server else [], id=s.name) for s in SCENARIOS],
)
async def test_invariants_hold_through_the_fault_and_the_engine_converges_after_it(
    scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, results: dict[str, Any]
) -> None:
    monkeypatch.setenv("ALLEGRO_CLIENT_SECRET", SECRET)
    with ExitStack() as stack:
        server = stack.enter_context(server_warehouse(scenario.server)) if scenario.server else None
        await _run_scenario(scenario, tmp_path, results, server)


async def _run_scenario(
    scenario: Scenario, tmp_path: Path, results: dict[str, Any], server: ServerWarehouse | None
) -> None:
    run = FaultRun(tmp_path, seed=sum(map(ord, scenario.name)) % 1000, warehouse_url=server.url if server else None)
    run.server = server
    rng = random.Random(scenario.name)
    stopped: list[str] = []
    try:
        async with run.context(scenario.read_timeout_seconds, scenario.max_attempts):
            if scenario.at_listing:
                run.faults(scenario.switches)
            await run.cycle()
            if not scenario.at_listing:
                await run.quiesce()
                run.faults(scenario.switches)
            writes_before = len(run.writes)
            for step in range(scenario.cycles):
                # at least one purchase per faulty cycle; a locked warehouse is locked for our own trade too
                run.world.trade(rng, warehouse=run.lock is None and not run.warehouse_down, min_purchases=1)
                if scenario.between is not None:
                    await scenario.between(run, step)
                report = await run.cycle()
                if report.stopped:
                    stopped.append(report.stopped)
                    assert scenario.expect_stopped and scenario.expect_stopped in report.stopped, report.stopped
                    assert len(run.writes) == writes_before or step == 0, "writes after the stop"
                else:
                    assert not scenario.expect_stopped or step < 1, report.as_dict()
                writes_before = len(run.writes)
            if scenario.expect_error_from:
                during = [e for r in run.reports[-scenario.cycles :] for e in r.errors]
                assert any(e.startswith(scenario.expect_error_from) for e in during), during
            run.faults({k: type(v)() for k, v in scenario.switches.items()} | {"retry_after_seconds": 5})
            if scenario.expect_stopped:
                run.world._store_tokens()  # the operator ran `allegro-sync auth login`
            await run.quiesce()
            assert run.ctx is not None and run.ctx.state is not None
            run.all_commands = run.ctx.ledger.commands()
            failures, stats = invariant_failures(
                applied=run.world.applied(),
                products=run.world.product_of_symbol(),
                state=run.ctx.state,
                offers=run.world.offers(),
                forms=run.world.forms(),
                world=run.world.server.app.state.emulator.world,
                stock=run.world.stock(),
                book=run.world.book,
            )
        failures += run.written_twice()
        replay = operations.verify(run.settings)
        failures += [f"replay: {d}" for d in replay]
        errors = Counter(e.split(":")[0] for r in run.reports for e in r.errors)
        retried = dict(Counter(c.kind for c in run.all_commands if c.attempts > 1))
        interrupted = {_killed_inside_the_stock_transaction: 2, _server_killed_and_restarted: 1}
        if scenario.between in interrupted:
            wanted = interrupted[scenario.between]
            assert server is not None and server.killed_in_transaction >= wanted, "no stock transaction was interrupted"
        results[scenario.name] = {
            "passed": not failures,
            "cycles": len(run.reports),
            "errors_recorded_by_source": dict(errors),
            "stopped": stopped[:1],
            "writes": len(run.writes),
            "checked": stats,
            "world_actions": dict(run.world.book.actions),
            "connections_killed": server.killed if server else 0,
            "stock_transactions_interrupted": server.killed_in_transaction if server else 0,
            "commands_sent_again": retried,
        }
        assert failures == [], failures
        if scenario.expect_stopped:
            assert stopped, "the engine never stopped"
    finally:
        if run.lock is not None:
            run.lock.close()
        run.world.close()
