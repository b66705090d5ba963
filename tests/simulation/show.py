"""Replay one simulation seed and show what happened: `python -m tests.simulation.show SEED [options]`.

python -m tests.simulation.show 113                  # steps, violations
python -m tests.simulation.show 56 --crash-weight 5 --sku SKU-3
                                                     # + per-step exposure, slack and model of SKU-3
python -m tests.simulation.show 5 --extra-faults --writes --timeline 7770273739
                                                     # + every Allegro write, and the projection of one
                                                     #   offer after each ledger event (replayed)
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import httpx

from engine.events import decode
from engine.reducer import reduce
from engine.state import State
from tests.simulation import checks
from tests.simulation import world as sim
from tests.simulation.engine_strategy import EngineStrategy


def _watch_sku(world: sim.World, sku: str) -> None:
    check = world.check_safety

    def checked() -> None:
        check()
        engine = world.strategy
        state = engine.ctx.state if isinstance(engine, EngineStrategy) and engine.ctx else None
        product = state.products.get(world.pid_of[sku]) if state else None
        model = ""
        if state is not None and product is not None:
            offers = [
                (o.offer_id, o.status.value, o.expected, o.shadow, o.inflight_kind, o.needs_verify)
                for o in state.offers_of(product)
            ]
            model = f" model W={product.stock} P={product.pending} hold={product.hold_until} offers={offers}"
        slack = [(e.units, e.why, e.armed is not None) for e in world.slack[sku]]
        world.note(f"   {sku}: exposure/W/dup/available {world.exposure(sku)} slack {slack}{model}")

    world.check_safety = checked  # type: ignore[method-assign]


def _watch_writes(world: sim.World) -> None:
    inspect = world.inspect_write

    def inspected(request: httpx.Request) -> None:
        inspect(request)
        if request.method != "GET" and not request.url.path.startswith("/auth/"):
            world.note(f"   {request.method} {request.url.path} {request.content[:100]!r}")

    world.inspect_write = inspected  # type: ignore[method-assign]


def _timeline(world: sim.World, offer_id: str) -> list[str]:
    engine = world.strategy
    assert isinstance(engine, EngineStrategy)
    state, lines, previous = State(), [], None
    for stored in engine.ledger.events():
        state, commands = reduce(state, decode(stored), stored.seq)
        offer = state.offers.get(offer_id)
        now: Any = None
        if offer is not None:
            now = (offer.status.value, offer.expected, offer.shadow, offer.inflight_kind, offer.needs_verify)
        mine = [type(c).__name__ for c in commands if offer_id in str(c.payload())]
        if now != previous or mine:
            lines.append(f"{stored.seq:>5} {stored.type:<22} {str(stored.payload)[:90]} -> {now} {mine}")
        previous = now
    return lines


async def show(args: argparse.Namespace) -> None:
    profile = sim.profile_of(args.seed, crash_weight=args.crash_weight, extra_faults=args.extra_faults)
    world = sim.World(profile, EngineStrategy)
    if args.sku:
        _watch_sku(world, args.sku)
    if args.writes:
        _watch_writes(world)
    try:
        await world.run()
        await checks.finish(world)
        print(profile)
        print("\n".join(world.result.log))
        if args.timeline:
            print(f"-- projection of offer {args.timeline} after each ledger event:")
            print("\n".join(_timeline(world, args.timeline)))
        print("-- violations:")
        print("\n".join(str(v) for v in world.result.violations) or "none")
    finally:
        await world.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("seed", type=int)
    parser.add_argument("--crash-weight", type=int, default=1)
    parser.add_argument("--extra-faults", action="store_true")
    parser.add_argument("--sku", help="print exposure, slack and the model of this SKU after every step")
    parser.add_argument("--writes", action="store_true", help="print every Allegro write")
    parser.add_argument("--timeline", metavar="OFFER_ID", help="replay the ledger and show this offer's model")
    asyncio.run(show(parser.parse_args()))


if __name__ == "__main__":
    main()
