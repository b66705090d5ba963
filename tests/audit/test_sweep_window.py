"""The checkout-form sweep reads what changed since the last sweep, not the whole window, and still finds a
seller-panel cancellation of an older order; after the order cursor is reset it reads the whole window."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import httpx
import pytest

from engine import sweeps
from engine.bootstrap import open_context
from engine.cli import reset_cursor
from engine.context import Context
from engine.cycle import run_once
from engine.ingest import ORDERS_CURSOR
from tests.audit.conftest import World

pytestmark = pytest.mark.anyio


class Recording(httpx.AsyncBaseTransport):
    """The emulator's transport, noting every checkout-form search and how many forms it answered."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.searches: list[tuple[dict[str, str], int]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.url.path == "/order/checkout-forms":
            await response.aread()
            self.searches.append((dict(request.url.params), len(response.json()["checkoutForms"])))
        return response


class EmulatorTime:
    """The engine's clock set to the emulator's, which the test moves: in a deployment both are real time."""

    def __init__(self, world: World) -> None:
        self.state = world.transport.app.state.emulator  # type: ignore[attr-defined]

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.state.now(), UTC)


@asynccontextmanager
async def recorded(world: World) -> AsyncIterator[tuple[Context, Recording]]:
    transport = Recording(world.transport)
    async with open_context(world.settings, transport=transport) as ctx:
        ctx.clock = EmulatorTime(world)
        yield ctx, transport


async def _advance(world: World, seconds: int) -> None:
    (await world.control.post("/__emulator/clock", json={"advance_seconds": seconds})).raise_for_status()


async def test_the_sweep_reads_only_what_changed_and_finds_a_panel_cancellation(world: World) -> None:
    offer = str(world.trade["sold_offer"])
    older = [(await world.buy(offer, 1))["checkout_form_id"] for _ in range(3)]
    async with recorded(world) as (ctx, transport):
        for _ in range(3):  # hourly; the overlap reads the 5 minutes before the previous sweep again
            await sweeps.sweep(ctx)
            await _advance(world, 3600)
        cancel = {"checkout_form_id": older[0], "by": "SELLER"}
        (await world.control.post("/__emulator/cancellations", json=cancel)).raise_for_status()
        await _advance(world, 3600)
        assert await sweeps.sweep(ctx) == 1  # the cancellation, and nothing else
        searches = list(transport.searches)
        await run_once(ctx)
        state = ctx.state
        assert state is not None and state.forms[older[0]].cancelled
    read = [count for _, count in searches]
    assert all("updatedAt.gte" in params and "lineItems.boughtAt.gte" not in params for params, _ in searches)
    assert read[0] >= 3 and read[2:] == [0, 1], read


async def test_after_the_order_cursor_is_reset_the_sweep_reads_the_whole_window(world: World) -> None:
    async with recorded(world) as (ctx, transport):
        await _advance(world, 3600)
        await sweeps.sweep(ctx)
        reset_cursor(ctx.ledger, ORDERS_CURSOR, "beginning", reason="test", now=ctx.clock.now())
        await _advance(world, 3600)
        await sweeps.sweep(ctx)
    (incremental, _), (whole, forms) = transport.searches
    assert "updatedAt.gte" in incremental
    assert "lineItems.boughtAt.gte" in whole and "updatedAt.gte" not in whole, whole
    assert forms == 2, "both forms of the day, unchanged since the last sweep, were read again"
