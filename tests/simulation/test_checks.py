"""The invariant checks themselves have teeth: each one flags a world tampered with behind the engine's back."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from emulator.offers import PUBLISHING, set_stock, status_of, stock_of
from emulator.records import Offer
from engine.ports import ProjectionChanges
from tests.simulation import checks
from tests.simulation.engine_strategy import EngineStrategy
from tests.simulation.world import World, run_seed

pytestmark = pytest.mark.anyio
SEED = 1


@pytest.fixture
async def drained() -> AsyncIterator[World]:
    world, _ = await run_seed(SEED, EngineStrategy)
    try:
        assert await checks.drain(world), world.result.report()
        world.result.violations.clear()
        yield world
    finally:
        await world.close()


def _active_offer(world: World) -> tuple[str, Offer]:
    for sku in world.skus:
        offer = world.managed_offer(sku)
        if offer is not None and status_of(offer) in PUBLISHING and stock_of(offer) > 0:
            return sku, offer
    raise AssertionError("no active offer in the drained world")


async def test_x1_flags_a_warehouse_that_lost_a_unit(drained: World) -> None:
    sku = drained.skus[0]
    drained.warehouse.set_stock(drained.pid_of[sku], drained.warehouse.stock(drained.pid_of[sku]) - 1)
    checks.check_exactly_once(drained)
    assert [v.sku for v in drained.result.of("X1")] == [sku]


async def test_x1_flags_a_sale_never_applied(drained: World) -> None:
    key = next(k for k in drained.warehouse.applied if k.startswith("sale:"))
    del drained.warehouse.applied[key]
    checks.check_exactly_once(drained)
    assert any(key.split(":", 1)[1] in v.message for v in drained.result.of("X1"))


async def test_s1_and_c1_flag_an_offer_showing_one_unit_too_many(drained: World) -> None:
    _, offer = _active_offer(drained)
    set_stock(drained.emu, offer, stock_of(offer) + 1)
    drained.check_safety()
    checks.check_convergence(drained)
    assert drained.result.of("S1") and drained.result.of("C1")


async def test_q1_flags_writes_in_cycles_meant_to_be_idle(drained: World) -> None:
    _, offer = _active_offer(drained)
    await drained.control.patch(f"/__emulator/offers/{offer.id}", json={"stock": stock_of(offer) + 2})
    await checks.check_quiet(drained)
    assert drained.result.of("Q1")


async def test_replay_flags_a_projection_that_differs_from_the_events(drained: World) -> None:
    assert isinstance(drained.strategy, EngineStrategy)
    ledger = drained.strategy.ledger
    folded, rows = ledger.load_projection()
    key = next(k for k in rows if k[0] == "product")
    ledger.commit_reduction(
        folded_seq=folded, changes=ProjectionChanges(upserts={key: {**rows[key], "stock": 999}}), commands=[]
    )
    checks.check_replay(drained)
    assert any(f"product {key[1]}" in v.message for v in drained.result.of("REPLAY"))
