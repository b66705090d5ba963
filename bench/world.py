"""The bench's world: the emulator over real HTTP in its own process, a sample warehouse, a ledger, a context.

The emulator runs in a child process (`python -c ... serve(...)`) so that the CPU time and the peak memory
the bench reports are the engine's alone: an emulator in a thread of this process would add its own work to
`time.process_time()` and `ru_maxrss`.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from adapters.allegro import readers
from adapters.allegro.client import AllegroClient
from adapters.allegro.secret import Secret
from adapters.allegro.settings import AllegroConfig
from adapters.allegro.tokens import TokenStore, from_token_response
from adapters.ledger import open_ledger, upgrade
from adapters.warehouse import SqlWarehouse
from demo.generate import create_sample_warehouse
from engine.bootstrap import SystemClock, options_of, policy_of, warehouse_config
from engine.context import Context
from engine.cycle import CycleReport, run_once
from engine.demo import EMULATOR, write_config
from engine.ingest import OFFERS_CURSOR
from engine.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
NO_LIMIT = 10**9
IDLE_SWEEP_SECONDS = 10**8  # about three years
IDLE_RECONCILE_HOURS = 10**5  # about eleven years
"""The checkout-form sweep and the full reconciliation are timers (minutes, hours); the bench pushes them far
away so that an idle cycle is what runs between them: two journal reads and one warehouse query."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Emulator:
    """The emulator served by uvicorn in a child process, and a control client for its `/__emulator/` API."""

    def __init__(self) -> None:
        port = _free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        code = os.environ.get(
            "BENCH_EMULATOR_CODE", "from emulator.server import serve; serve('127.0.0.1', {port})"
        ).format(port=port)
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.process = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stderr=subprocess.PIPE)
        self.control = httpx.Client(base_url=self.base_url, timeout=60)
        deadline = time.monotonic() + 20
        while True:
            try:
                self.control.get("/__emulator/faults").raise_for_status()
                break
            except httpx.TransportError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the emulator did not start") from None
                time.sleep(0.05)

    @classmethod
    def attach(cls, base_url: str) -> Emulator:
        """A control client for an emulator another process started (`stop` is not for it)."""
        emulator = cls.__new__(cls)
        emulator.base_url = base_url
        emulator.control = httpx.Client(base_url=base_url, timeout=60)
        return emulator

    def faults(self, **switches: Any) -> dict[str, Any]:
        answer = self.control.put("/__emulator/faults", json=switches)
        answer.raise_for_status()
        result: dict[str, Any] = answer.json()
        return result

    def requests(self, *, reset: bool = False) -> dict[str, Any]:
        answer = self.control.request("DELETE" if reset else "GET", "/__emulator/requests")
        answer.raise_for_status()
        result: dict[str, Any] = answer.json()
        return result

    def offers(self) -> list[dict[str, Any]]:
        offers: list[dict[str, Any]] = self.control.get("/__emulator/offers").json()["offers"]
        return offers

    def purchase(self, offer_id: str, quantity: int = 1, paid: bool = True) -> dict[str, Any]:
        answer = self.control.post(
            "/__emulator/purchases", json={"offer_id": offer_id, "quantity": quantity, "paid": paid}
        )
        answer.raise_for_status()
        result: dict[str, Any] = answer.json()
        return result

    def advance_clock(self, seconds: float) -> None:
        self.control.post("/__emulator/clock", json={"advance_seconds": seconds}).raise_for_status()

    def token_set(self) -> Any:
        answer = self.control.post("/__emulator/tokens", json={})
        answer.raise_for_status()
        return from_token_response(
            answer.json(), environment="emulator", client_id="emulator-client", now=datetime.now(UTC)
        )

    def stop(self) -> None:
        self.control.close()
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass(slots=True)
class Requests:
    """What the emulator counted between two points: API requests by route (the control API is not counted)."""

    total: int = 0
    sent_429: int = 0
    by_route: Counter[str] = field(default_factory=Counter)

    @classmethod
    def since(cls, before: dict[str, Any], after: dict[str, Any]) -> Requests:
        routes = Counter(after["by_route"])
        routes.subtract(before["by_route"])
        return cls(
            total=after["total"] - before["total"],
            sent_429=after["sent_429"] - before["sent_429"],
            by_route=Counter({k: v for k, v in routes.items() if v}),
        )


class World:
    """A folder with a sample warehouse of `products` products, a config, a ledger and tokens for the emulator."""

    def __init__(
        self, folder: Path, emulator: Emulator | None, products: int, seed: int = 0, *, listing: bool = True
    ) -> None:
        self.folder = folder
        self.products = products
        self.warehouse_url = f"sqlite:///{folder / 'warehouse.db'}"
        self.ledger_url = f"sqlite:///{folder / 'state.db'}"
        if emulator is None:  # reopen a world another process set up (the emulator is still running)
            self.settings = load_settings(folder / "config.toml", env={"ALLEGRO_CLIENT_SECRET": "emulator-secret"})
            return
        folder.mkdir(parents=True, exist_ok=True)
        create_sample_warehouse(self.warehouse_url, products=products, seed=seed)
        config = write_config(folder, products)
        body = config.read_text(encoding="utf-8")
        body = body.replace(f'api_url = "{EMULATOR}"', f'api_url = "{emulator.base_url}"')
        body = body.replace("sweep_seconds = 0", f"sweep_seconds = {IDLE_SWEEP_SECONDS}")
        body = body.replace("reconcile_hours = 24", f"reconcile_hours = {IDLE_RECONCILE_HOURS}")
        if not listing:
            body += "\n[flows]\nlisting = false\n"
        config.write_text(body, encoding="utf-8")
        self.settings: Settings = load_settings(config, env={"ALLEGRO_CLIENT_SECRET": "emulator-secret"})
        upgrade(self.settings.engine.state_url.reveal())
        TokenStore(self.settings.allegro.token_file).save(emulator.token_set())

    def allegro_config(self, **knobs: Any) -> AllegroConfig:
        a = self.settings.allegro
        return AllegroConfig(
            environment=a.environment,
            client_id=a.client_id,
            client_secret=Secret("emulator-secret"),
            api_url=a.api_url,
            auth_url=a.auth_url,
            user_agent=a.user_agent,
            **knobs,
        )

    @asynccontextmanager
    async def context(self, **knobs: Any) -> AsyncIterator[Context]:
        """What `engine.bootstrap.open_context` builds, with the Allegro client's tuning knobs settable:
        `[allegro]` in config.toml cannot express `max_concurrency`, `requests_per_minute` or
        `offer_creations_per_minute` (reported as a needed change)."""
        ledger = open_ledger(self.ledger_url)
        warehouse = SqlWarehouse(warehouse_config(self.settings))
        allegro = AllegroClient(self.allegro_config(**knobs), TokenStore(self.settings.allegro.token_file))
        try:
            warehouse.start()
            yield Context(
                ledger=ledger,
                allegro=allegro,
                warehouse=warehouse,
                clock=SystemClock(),
                policy=policy_of(self.settings),
                options=options_of(self.settings),
            )
        finally:
            await allegro.aclose()
            warehouse.close()
            ledger.close()

    def ledger_rows(self) -> dict[str, int]:
        engine = create_engine(self.ledger_url)
        try:
            with engine.connect() as connection:
                return {
                    table: int(connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar() or 0)
                    for table in ("events", "commands", "projection", "cursors")
                }
        finally:
            engine.dispose()

    def warehouse_scalar(self, sql: str) -> Any:
        engine = create_engine(self.warehouse_url)
        try:
            with engine.connect() as connection:
                return connection.execute(text(sql)).scalar()
        finally:
            engine.dispose()


async def until_quiet(ctx: Context, emulator: Emulator, *, rounds: int = 12) -> list[CycleReport]:
    """Cycles until one neither ingests nor sends anything and nothing is held (as the demo does)."""
    reports = []
    for _ in range(rounds):
        report = await run_once(ctx)
        reports.append(report)
        if os.environ.get("BENCH_DEBUG"):
            print(
                "  cycle",
                report.duration_seconds,
                report.cpu_seconds,
                dict(report.events_in),
                dict(report.commands_out),
                report.errors[:2],
                file=sys.stderr,
            )
        if report.stopped:
            raise RuntimeError(report.stopped)
        if not report.commands_out and not report.events_in and not (ctx.state and ctx.state.held):
            break
        emulator.advance_clock(3)
    return reports


FAST = {"max_concurrency": 32, "requests_per_minute": NO_LIMIT, "offer_patches_per_minute": None}
"""Client knobs for setting a world up (not measured): no rate budgets, more concurrency."""


class PanelListing:
    """Setup only: the engine's Allegro client, except that a new offer is listed through the emulator's
    control API (the seller panel: no latency, no limits, no catalogue look-up) instead of
    `POST /sale/product-offers`. The engine's dispatcher, outcomes and ledger run unchanged; the answer is
    parsed by the same reader as a POST answer, so the ledger holds what a real listing would record."""

    def __init__(self, client: AllegroClient, emulator: Emulator, control: httpx.AsyncClient) -> None:
        self._client = client
        self._control = control
        self._slots = asyncio.Semaphore(8)  # httpcore's pool gets slow with thousands of queued requests

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    async def offers_by_external_id(self, external_ids: Any) -> list[Any]:
        return []  # a fresh world: nothing to adopt

    async def product_by_gtin(self, ean: str) -> None:
        return None  # the sample's rows carry images

    async def create_offer(self, body: Any) -> Any:
        async with self._slots:
            answer = await self._control.post("/__emulator/offers", json=dict(body))
        answer.raise_for_status()
        return readers.offer(answer.json(), datetime.now(UTC))


async def listed_world(folder: Path, emulator: Emulator, products: int) -> World:
    """A world whose listable products all have live offers linked by the engine (setup, not measured).

    Listing 10,000 products through the API costs three requests each and minutes of CPU on this machine,
    so the setup lists through the control API (`PanelListing`), then moves the offer-journal cursor past
    the listing's own events (what `allegro-sync cursors reset allegro.offers --to latest` does), so that
    the first measured cycle does not read 10,000 offers back. The listing scenario measures real creation.
    """
    emulator.faults(
        latency_ms=0,
        client_rate_limit_per_minute=NO_LIMIT,
        offer_creation_limit_per_minute=None,
        seller_offer_edits_per_minute=None,
        seller_offer_reads_per_minute=None,
    )
    world = World(folder, emulator, products)
    limits = httpx.Limits(max_connections=8)
    async with (
        world.context(**FAST) as ctx,
        httpx.AsyncClient(base_url=emulator.base_url, limits=limits, timeout=60) as control,
    ):
        client = ctx.allegro
        ctx.allegro = PanelListing(client, emulator, control)  # type: ignore[assignment]
        await run_once(ctx)
        ctx.allegro = client
        position = ctx.ledger.cursor(OFFERS_CURSOR)
        while True:
            page = await client.offer_events(position)
            if page.entries:
                position = page.entries[-1].event_id
            if page.caught_up:
                break
        ctx.ledger.append([], cursor=(OFFERS_CURSOR, position))
        await until_quiet(ctx, emulator)
    return world
