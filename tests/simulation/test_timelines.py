"""The worked timelines of stock-sync.md section 6.6, scripted step by step against both strategies.

They pin down why the random campaign has teeth: the FIXED push resurrects units a buyer took while its
command waited (timeline A) and a naive restock resurrects units sold just before Allegro ended the offer
(timeline B); the engine's GAIN and shadow-hold keep exposure within the warehouse in both.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from emulator.offers import status_of, stock_of
from tests.simulation.engine_strategy import EngineStrategy
from tests.simulation.fixed_strategy import FixedStrategy
from tests.simulation.world import Profile, Strategy, World

pytestmark = pytest.mark.anyio

STRATEGIES: dict[str, Callable[[World], Strategy]] = {
    "ours": EngineStrategy,
    "fixed": lambda world: FixedStrategy(world, reactivate=True),
}


def _world(strategy: str, stock: int, **faults: object) -> World:
    profile = Profile(
        seed=0,
        skus=1,
        initial_stock=(stock,),
        buffer=0,
        steps=0,
        grace_seconds=3,
        other_channel=True,
        panel_edits=False,
        duplicate_offer=False,
        crashes=False,
        sqlite_ledger=False,
        reconcile_hours=24.0,
        faults={"seed": 0, "client_rate_limit_per_minute": 1_000_000, **faults},
    )
    return World(profile, STRATEGIES[strategy])


async def _listed(world: World) -> None:
    await world.open()
    for _ in range(3):
        await world.cycle()
        world.emu.clock.advance(5)
    world.check_safety()
    offer = world.managed_offer("SKU-1")
    assert offer is not None and status_of(offer) == "ACTIVE"


@pytest.mark.parametrize(("strategy", "oversold"), [("ours", False), ("fixed", True)])
async def test_timeline_a_a_purchase_while_the_write_waits(strategy: str, oversold: bool) -> None:
    """W = 10, A = 10. The shop sells 3; the write is submitted; a buyer takes 2 before it executes."""
    world = _world(strategy, 10, command_delay_seconds=5)
    try:
        await _listed(world)
        world.warehouse.set_stock("1", 7)
        world.other_sales["SKU-1"] += 3
        world.add_slack("SKU-1", 3, "other channel")
        await world.cycle()  # ours: GAIN -3; FIXED: FIXED 7; both wait 5 s at Allegro
        offer = world.managed_offer("SKU-1")
        assert offer is not None
        answer = await world.control.post("/__emulator/purchases", json={"offer_id": offer.id, "quantity": 2})
        assert answer.status_code == 201
        world.emu.clock.advance(6)
        world.check_safety()
        assert bool(world.result.of("S1")) is oversold, world.result.report()
        assert stock_of(offer) == (7 if oversold else 5)
    finally:
        await world.close()


@pytest.mark.parametrize(("strategy", "oversold"), [("ours", False), ("fixed", True)])
async def test_timeline_b_restock_right_after_a_sell_out(strategy: str, oversold: bool) -> None:
    """W = 3, A = 3. Buyers take all 3 (their orders not yet delivered); a delivery brings W to 13."""
    world = _world(strategy, 3)
    try:
        await _listed(world)
        offer = world.managed_offer("SKU-1")
        assert offer is not None
        await world.control.put("/__emulator/faults", json={"drop_order_events": 1.0})
        for _ in range(3):
            await world.control.post("/__emulator/purchases", json={"offer_id": offer.id, "quantity": 1})
        assert status_of(offer) == "ENDED"
        world.warehouse.set_stock("1", 13)
        world.deliveries["SKU-1"] += 10
        for _ in range(4):
            await world.cycle()
            world.check_safety()
            world.emu.clock.advance(4)
        assert bool(world.result.of("S1")) is oversold, world.result.report()
        if not oversold:
            assert status_of(offer) == "ACTIVE" and stock_of(offer) == 10
    finally:
        await world.close()
