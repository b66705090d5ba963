"""The invariants checked once a world has drained: X1 exactly once, C1 convergence, Q1 quiet, replay."""

from __future__ import annotations

from emulator.offers import PUBLISHING, status_of, stock_of
from engine.commands import RestockOffer
from engine.events import decode
from engine.ports import StoredEvent
from engine.reducer import reduce
from engine.replay import differences, rebuild
from engine.state import State
from tests.simulation.engine_strategy import OPEN_STATUSES, EngineStrategy
from tests.simulation.world import ALLEGRO_WRITE_ROUTES, World

DRAIN_CYCLES = 40
QUIET_CYCLES = 3


def _engine(world: World) -> EngineStrategy:
    assert isinstance(world.strategy, EngineStrategy)
    return world.strategy


def unsettled(world: World) -> list[str]:
    """Why the world is not quiescent yet (empty when it is)."""
    engine = _engine(world)
    why = [f"command {c.kind} {c.target} {c.status}" for c in engine.ledger.commands(statuses=list(OPEN_STATUSES))]
    why += [f"Allegro command {key} pending" for key in world.emu.world.pending_commands]
    assert engine.ctx is not None and engine.ctx.state is not None
    state = engine.ctx.state
    why += [f"product {pid} held until {state.products[pid].hold_until}" for pid in sorted(state.held)]
    for offer in state.offers.values():
        if offer.inflight or offer.needs_verify or offer.shadow:
            why.append(
                f"offer {offer.offer_id}: inflight {offer.inflight_kind}, verify {offer.needs_verify}, "
                f"shadow {offer.shadow}"
            )
    return why


async def drain(world: World) -> bool:
    """No new inputs: cycles (moving the clock past the grace window and the command delay) until nothing is
    pending, in flight or held. Safety is still checked after every cycle."""
    step = max(world.profile.grace_seconds + 1, 2 * float(world.profile.faults["command_delay_seconds"]) + 1)
    world.step_no = world.profile.steps + 1
    why: list[str] = []
    ledger = _engine(world).ledger
    for _ in range(DRAIN_CYCLES):
        waits = [c.next_attempt_at for c in ledger.commands(statuses=["failed"]) if c.next_attempt_at is not None]
        # A command in backoff is waited for (up to the engine's longest backoff), not counted as stuck.
        later = (max(waits) - world.time.now()).total_seconds() if waits else 0.0
        world.emu.clock.advance(max(step, min(later, world.options().max_backoff_seconds) + 0.1))
        rows = ledger.last_seq()
        await world.cycle()
        world.check_safety()
        why = unsettled(world)
        if ledger.last_seq() != rows:
            why.append(f"the last cycle appended {ledger.last_seq() - rows} events")
        if not why:
            world.note("drained")
            return True
    world.violate("DRAIN", None, f"not quiescent after {DRAIN_CYCLES} cycles: {why[:6]}")
    return False


def check_exactly_once(world: World) -> None:
    """X1: every line taken off the warehouse once, and given back once if it was cancelled after that."""
    applied = world.warehouse.applied
    known: set[str] = set()
    live_units = dict.fromkeys(world.skus, 0)
    for sku, cf, line, quantity, live in world.lines():
        sale, restore = f"sale:{cf}:{line}", f"restore:{cf}:{line}"
        known |= {sale, restore}
        has_sale, has_restore = sale in applied, restore in applied
        if live:
            if sku is not None:
                live_units[sku] += quantity
            if not has_sale or has_restore:
                world.violate(
                    "X1", sku, f"live line {cf}:{line} (q={quantity}): sale {has_sale}, restore {has_restore}"
                )
        elif has_sale != has_restore:
            world.violate(
                "X1", sku, f"cancelled line {cf}:{line} (q={quantity}): sale {has_sale}, restore {has_restore}"
            )
    for key in sorted(set(applied) - known):
        world.violate("X1", None, f"warehouse applied {key}, which is no Allegro line")
    for sku in world.skus:
        expected = world.initial[sku] + world.deliveries[sku] - world.other_sales[sku] - live_units[sku]
        actual = world.warehouse.stock(world.pid_of[sku])
        if actual != expected:
            world.violate(
                "X1",
                sku,
                f"warehouse stock {actual} != initial {world.initial[sku]} + deliveries {world.deliveries[sku]} "
                f"- other channels {world.other_sales[sku]} - live Allegro lines {live_units[sku]} = {expected}",
            )


def check_convergence(world: World) -> None:
    """C1: every managed offer shows exactly the target, ACTIVE iff the target is at least 1."""
    engine = _engine(world)
    assert engine.ctx is not None and engine.ctx.state is not None
    state = engine.ctx.state
    buffer = world.profile.buffer
    for sku in world.skus:
        pid = world.pid_of[sku]
        offers = world.offers_of(sku)
        product = state.products.get(pid)
        if product is None:
            world.violate("C1", sku, "the engine does not know the product")
            continue
        managed = world.emu.world.offers.get(product.offer_id) if product.offer_id else None
        duplicates = sum(stock_of(o) for o in offers if status_of(o) in PUBLISHING and o is not managed)
        stock = world.warehouse.stock(pid)
        target = max(0, max(0, stock - buffer) - duplicates)
        if product.pending or product.hold_until is not None:
            world.violate("C1", sku, f"pending {product.pending}, hold {product.hold_until} at quiescence")
        if managed is None:
            if target >= 1:
                world.violate("C1", sku, f"no offer although the target is {target}")
            continue
        if offers and managed is not offers[0]:
            world.violate("C1", sku, f"the engine manages {managed.id}, not the first offer {offers[0].id}")
        status, available = status_of(managed), stock_of(managed)
        model = state.offers[managed.id]
        if managed.id in world.seller_ended:
            if status in PUBLISHING:
                world.violate("C1", sku, f"offer {managed.id} ended by the seller is {status} again")
        elif target >= 1 and (status != "ACTIVE" or available != target):
            world.violate("C1", sku, f"offer {managed.id} is {status} with {available}; target {target} (W={stock})")
        elif target == 0 and status in PUBLISHING:
            world.violate("C1", sku, f"offer {managed.id} is {status} with {available}; target 0 (W={stock})")
        if status in PUBLISHING and model.expected != available:
            world.violate("C1", sku, f"offer {managed.id}: model expects {model.expected}, Allegro shows {available}")
        if model.shadow or model.inflight or model.needs_verify:
            world.violate("C1", sku, f"offer {managed.id}: shadow {model.shadow}, inflight {model.inflight_kind}")
    for sku in world.skus:
        own = [o.id for o in world.offers_of(sku) if o.id not in world.seller_offers]
        if len(own) > 1:
            world.violate("I4", sku, f"the engine created {len(own)} offers for one external id: {own}")


def allegro_writes(world: World) -> int:
    return sum(world.emu.stats.by_route.get(route, 0) for route in ALLEGRO_WRITE_ROUTES)


async def check_quiet(world: World) -> None:
    """Q1: idle cycles write nothing to Allegro and append nothing to the ledger."""
    engine = _engine(world)
    writes, rows = allegro_writes(world), engine.ledger.last_seq()
    for _ in range(QUIET_CYCLES):
        world.emu.clock.advance(world.profile.grace_seconds + 1)
        await world.cycle()
    if allegro_writes(world) != writes:
        routes = {r: n for r, n in world.emu.stats.by_route.items() if r in ALLEGRO_WRITE_ROUTES}
        world.violate("Q1", None, f"{allegro_writes(world) - writes} Allegro writes in idle cycles ({routes})")
    if engine.ledger.last_seq() != rows:
        seen = {_delivery(e) for e in engine.ledger.events(until_seq=rows) if e.type == "OrderEventObserved"}
        new = [
            f"{e.stream}:{e.type}"
            for e in engine.ledger.events(after_seq=rows)
            # Allegro re-delivering an order event under a new id is news from outside, not the engine's doing
            if not (e.type == "OrderEventObserved" and _delivery(e) in seen)
        ]
        if new:
            world.violate("Q1", None, f"idle cycles appended {len(new)} ledger events: {new[:6]}")


def _delivery(event: StoredEvent) -> tuple[str, str, str]:
    order = event.payload["order"]
    return order["checkout_form_id"], order["type"], order["occurred_at"]


def check_replay(world: World) -> None:
    """Invariant 5: folding the ledger from zero gives the stored projection and outbox; and no restock was
    ever decided for an offer that was buyable at the time (read from the ledger, event by event)."""
    ledger = _engine(world).ledger
    _, rows = ledger.load_projection()
    found = differences(rebuild(ledger.events()), rows, ledger.commands())
    for line in found[:10]:
        world.violate("REPLAY", None, line)
    state = State()
    for stored in ledger.events():
        before = {oid: o.status for oid, o in state.offers.items()}
        state, commands = reduce(state, decode(stored), stored.seq)
        for command in commands:
            if not isinstance(command, RestockOffer):
                continue
            status = before.get(command.offer_id)
            if status is not None and status.buyable:
                world.violate("S3", None, f"restock {command.id} decided for buyable offer {command.offer_id}")


async def finish(world: World) -> None:
    """Drain, then every end-of-run invariant."""
    if not await drain(world):
        return
    check_exactly_once(world)
    check_convergence(world)
    await check_quiet(world)
    check_replay(world)
