"""A scripted world for the audit tests: a sample warehouse, the in-process emulator, a logged-in engine,
products listed, then a short day of trade (two purchases, a buyer cancellation), cycles until quiet.

`world` builds it once per test on SQLite (or on a PostgreSQL schema with `pg_world`); `cli` runs the
`allegro-sync` typer app the way a shell would (CliRunner), returning exit code, stdout and stderr.
"""

from __future__ import annotations

import asyncio
import io
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy.engine import URL, make_url
from typer.testing import CliRunner

from adapters.allegro.auth import device_login
from adapters.allegro.tokens import TokenStore
from adapters.ledger import upgrade
from demo.generate import create_sample_warehouse
from emulator.app import create_app
from emulator.config import EmulatorConfig
from engine.bootstrap import allegro_config, open_context
from engine.cli import app
from engine.context import Context
from engine.cycle import run_once
from engine.demo import EMULATOR, write_config
from engine.settings import Settings, load_settings
from tests.databases import PG_CANDIDATES

PRODUCTS = 20


def cli(config: Path, *args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["--config", str(config), *args], input=input)
    return result.exit_code, result.stdout, result.stderr


@dataclass
class World:
    folder: Path
    config: Path
    settings: Settings
    transport: httpx.ASGITransport
    control: httpx.AsyncClient
    warehouse_url: str
    trade: dict[str, Any]

    @asynccontextmanager
    async def context(self) -> AsyncIterator[Context]:
        async with open_context(self.settings, transport=self.transport) as ctx:
            yield ctx

    async def cycles_until_quiet(self, ctx: Context, limit: int = 12) -> None:
        for _ in range(limit):
            report = await run_once(ctx)
            assert not report.stopped, report.stopped
            if not report.commands_out and not report.events_in and not ctx.state.held:  # type: ignore[union-attr]
                return
            await self.control.post("/__emulator/clock", json={"advance_seconds": 3})
        raise AssertionError(f"no quiescence after {limit} cycles")

    async def buy(self, offer_id: str, quantity: int, *, paid: bool = True) -> dict[str, Any]:
        answer = await self.control.post(
            "/__emulator/purchases", json={"offer_id": offer_id, "quantity": quantity, "paid": paid}
        )
        answer.raise_for_status()
        data: dict[str, Any] = answer.json()
        return data


class QuickClock:
    """The device login's clock without its waits (the emulator asks for 5 s more on every early poll)."""

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(0.01)


async def login(settings: Settings, transport: httpx.AsyncBaseTransport, control: httpx.AsyncClient) -> None:
    out = io.StringIO()
    store = TokenStore(settings.allegro.token_file)
    task = asyncio.create_task(
        device_login(allegro_config(settings), store, out, transport=transport, clock=QuickClock())
    )
    while "Code: " not in out.getvalue():
        await asyncio.sleep(0.01)
        if task.done():
            await task
    code = out.getvalue().split("Code: ", 1)[1].split()[0]
    (await control.post("/__emulator/device-approvals", json={"user_code": code})).raise_for_status()
    await task


async def build_world(folder: Path, state_url: str | None = None) -> AsyncIterator[World]:
    folder.mkdir(parents=True, exist_ok=True)
    warehouse_url = f"sqlite:///{folder / 'warehouse.db'}"
    create_sample_warehouse(warehouse_url, products=PRODUCTS, seed=0)
    config = write_config(folder, PRODUCTS)
    if state_url is not None:
        text = config.read_text(encoding="utf-8").replace('"sqlite:///state.db"', f'"{state_url}"')
        config.write_text(text, encoding="utf-8")
    settings = load_settings(config)
    upgrade(settings.engine.state_url.reveal())
    transport = httpx.ASGITransport(app=create_app(EmulatorConfig(seed=0, base_url=EMULATOR)))
    async with httpx.AsyncClient(transport=transport, base_url=EMULATOR) as control:
        await control.put("/__emulator/faults", json={"device_interval_seconds": 0})
        await login(settings, transport, control)
        world = World(folder, config, settings, transport, control, warehouse_url, {})
        async with world.context() as ctx:
            await world.cycles_until_quiet(ctx)
            state = ctx.state
            assert state is not None
            listed = sorted((p for p in state.products.values() if p.offer_id), key=lambda p: int(p.product_id))
            sold, cancelled = listed[0], listed[1]
            bought = await world.buy(str(sold.offer_id), 2)
            dropped = await world.buy(str(cancelled.offer_id), 1, paid=False)
            await control.post(
                "/__emulator/cancellations", json={"checkout_form_id": dropped["checkout_form_id"], "by": "BUYER"}
            )
            await world.cycles_until_quiet(ctx)
            world.trade = {
                "sold": sold.product_id,
                "sold_offer": sold.offer_id,
                "sold_form": bought["checkout_form_id"],
                "cancelled": cancelled.product_id,
                "cancelled_offer": cancelled.offer_id,
                "cancelled_form": dropped["checkout_form_id"],
            }
        yield world


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async for built in build_world(tmp_path / "run"):
        yield built


# ------------------------------------------------------------------------------------------------ PostgreSQL


def _libpq(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A fresh PostgreSQL schema as a ledger URL; skipped with the reason when unreachable, failed in CI."""
    candidates = [os.environ["ALLEGRO_SYNC_PG_URL"]] if os.environ.get("ALLEGRO_SYNC_PG_URL") else PG_CANDIDATES
    problems, server = [], None
    for candidate in candidates:
        url = make_url(candidate)
        try:
            psycopg.connect(_libpq(url), connect_timeout=3, autocommit=True).close()
        except psycopg.Error as exc:
            problems.append(f"{url.render_as_string(hide_password=True)}: {str(exc).strip().splitlines()[0]}")
            continue
        server = url
        break
    if server is None:
        message = (
            f"PostgreSQL is not reachable ({'; '.join(problems)}); start it on 127.0.0.1:5432 with a `test` "
            "database or set ALLEGRO_SYNC_PG_URL=postgresql+psycopg://user@host:port/db"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    name = f"audit_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_libpq(server), autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{name}"')
    try:
        yield server.update_query_dict({"options": f"-csearch_path={name}"}).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_libpq(server), autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@pytest.fixture
def world_factory(tmp_path: Path) -> Callable[[str | None], Any]:
    """`async for w in world_factory(url)`: a world on another ledger URL (e.g. PostgreSQL)."""

    def make(state_url: str | None) -> AsyncIterator[World]:
        return build_world(tmp_path / "run", state_url)

    return make
