"""Scenarios 1-3 on one listed world: idle cycles, 1 % stock churn from other channels, an order burst.

They run in this order on the same world (each leaves it quiet for the next): setting up a world of 10,000
linked products is the expensive part of the bench, so it is done once.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from bench.measure import CommitCounter, Series, clocks, measured_cycle, profiled
from bench.world import Emulator, World, listed_world, until_quiet
from demo.changes import set_stock
from engine.context import Context

LATENCY_MS = 50
IDLE_CYCLES = 5


def _live_world(emulator: Emulator, latency_ms: int) -> None:
    """Allegro's calm defaults plus the injected latency: client limit 9000/min, per-seller edit/read limits."""
    emulator.faults(
        latency_ms=latency_ms,
        client_rate_limit_per_minute=9000,
        offer_creation_limit_per_minute=None,
        seller_offer_edits_per_minute=2500,
        seller_offer_reads_per_minute=3500,
    )


async def setup(folder: Path, emulator: Emulator, products: int) -> tuple[World, dict[str, Any]]:
    with clocks() as spent:
        world = await listed_world(folder, emulator, products)
    offers = emulator.offers()
    return world, {
        "products": products,
        "linked_offers": sum(1 for o in offers if o.get("external")),
        "active_offers": sum(1 for o in offers if o["publication"]["status"] == "ACTIVE"),
        "setup_wall_s": round(spent.wall, 1),
    }


async def idle(ctx: Context, world: World, emulator: Emulator, facts: dict[str, Any]) -> dict[str, Any]:
    """Idle cycles: nothing changed anywhere. The first cycle of a fresh process loads the projection; it is
    reported apart ("startup") and the next IDLE_CYCLES are the figures."""
    startup = await measured_cycle(ctx, emulator)
    rows_before = world.ledger_rows()
    cpu, wall, requests = Series(), Series(), Series()
    routes: dict[str, int] = {}
    for _ in range(IDLE_CYCLES):
        with profiled("idle"):
            figures = await measured_cycle(ctx, emulator)
        cpu.values.append(figures.report.cpu_seconds)
        wall.values.append(figures.report.duration_seconds)
        requests.values.append(figures.requests.total)
        routes = dict(figures.requests.by_route)
    rows_after = world.ledger_rows()
    return {
        "scenario": "idle",
        **facts,
        "latency_ms": LATENCY_MS,
        "cycles": IDLE_CYCLES,
        "requests_per_cycle": requests.summary(1),
        "requests_by_route_last_cycle": routes,
        "cpu_s_per_cycle": cpu.summary(),
        "wall_s_per_cycle": wall.summary(),
        "ledger_rows_added": sum(rows_after.values()) - sum(rows_before.values()),
        "ledger_rows_added_by_table": {t: rows_after[t] - rows_before[t] for t in rows_after},
        "startup_cycle": {"cpu_s": startup.report.cpu_seconds, "wall_s": startup.report.duration_seconds},
        "note": "sweep_seconds and reconcile_hours are set years away, so an idle cycle is the two journal "
        "reads and the warehouse query; the timed sweep and reconciliation are not part of these figures",
    }


def _warehouse_rows(world: World, sql: str) -> list[Any]:
    engine = create_engine(world.warehouse_url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(sql)).all())
    finally:
        engine.dispose()


def _stock_by_product(world: World) -> dict[str, int]:
    rows = _warehouse_rows(world, "SELECT towar_id, ilosc FROM stany_magazynowe")
    return {str(pid): int(qty) for pid, qty in rows}


def _active_products(ctx: Context, emulator: Emulator, world: World, least: int) -> list[tuple[str, str, int]]:
    """(product id, offer id, warehouse stock) of products with an ACTIVE offer and at least `least` in stock."""
    active = {o["id"] for o in emulator.offers() if o["publication"]["status"] == "ACTIVE"}
    stock = _stock_by_product(world)
    state = ctx.state
    assert state is not None
    return sorted(
        (p.product_id, p.offer_id, stock[p.product_id])
        for p in state.products.values()
        if p.offer_id in active and stock.get(p.product_id, 0) >= least and not p.unknown and not p.pending
    )


async def churn(
    ctx: Context, world: World, emulator: Emulator, facts: dict[str, Any], fraction: float
) -> dict[str, Any]:
    """1 % of the products change stock through other channels: 60 % sell 1-3 units at the counter, 40 %
    receive a delivery of 5 or 10 (deltas -1, -2, -3, +5, +10: five distinct deltas, so five commands)."""
    rng = random.Random(1)
    changed = max(1, round(facts["products"] * fraction))
    chosen = rng.sample(_active_products(ctx, emulator, world, least=4), changed)
    deltas: dict[int, int] = {}
    for index, (pid, _offer, stock) in enumerate(chosen):
        delta = -rng.randint(1, 3) if index < changed * 0.6 else rng.choice((5, 10))
        deltas[delta] = deltas.get(delta, 0) + 1
        set_stock(world.warehouse_url, int(pid), stock + delta)
    with profiled("churn"):
        first = await measured_cycle(ctx, emulator)
    follow = []
    for _ in range(3):
        emulator.advance_clock(3)
        more = await measured_cycle(ctx, emulator)
        follow.append(more)
        if not more.report.commands_out and not more.report.events_in:
            break
    wrong = _offers_not_matching(emulator, world, [(pid, offer) for pid, offer, _s in chosen])
    puts = sum(v for k, v in first.requests.by_route.items() if k.startswith("PUT "))
    polls = sum(v for k, v in first.requests.by_route.items() if "-commands/" in k and k.startswith("GET "))
    return {
        "scenario": "churn",
        "products": facts["products"],
        "changed_products": changed,
        "distinct_deltas": len(deltas),
        "deltas": {str(k): v for k, v in sorted(deltas.items())},
        "latency_ms": LATENCY_MS,
        "cycle": first.as_dict(),
        "command_puts": puts,
        "command_report_polls": polls,
        "follow_up_cycles": [f.as_dict() for f in follow],
        "offers_not_matching_warehouse": wrong,
    }


def _offers_not_matching(emulator: Emulator, world: World, linked: list[tuple[str, str]]) -> int:
    """How many of these (product, offer) pairs show an Allegro quantity other than the warehouse stock."""
    stock = _stock_by_product(world)
    offers = {o["id"]: o for o in emulator.offers()}
    wrong = 0
    for pid, offer_id in linked:
        offer = offers.get(offer_id)
        if offer is None or offer["stock"]["available"] != max(0, stock[pid]):
            wrong += 1
    return wrong


async def burst(
    ctx: Context, world: World, emulator: Emulator, facts: dict[str, Any], purchases: int
) -> dict[str, Any]:
    """`purchases` paid purchases of one unit on distinct offers (stock >= 2, so no offer sells out) arrive
    between two cycles; the cycle must take each line off warehouse stock exactly once."""
    rng = random.Random(2)
    candidates = _active_products(ctx, emulator, world, least=2)
    chosen = rng.sample(candidates, min(purchases, len(candidates)))
    stock_before = _stock_by_product(world)
    forms = []
    for _pid, offer_id, _stock in chosen:
        forms.append(emulator.purchase(offer_id, 1, paid=True))
    commits = CommitCounter()
    try:
        with profiled("burst"):
            first = await measured_cycle(ctx, emulator)
        warehouse_commits = commits.by_database[str(Path(world.warehouse_url.removeprefix("sqlite:///")))]
    finally:
        commits.close()
    follow = []
    for _ in range(3):
        emulator.advance_clock(3)
        more = await measured_cycle(ctx, emulator)
        follow.append(more)
        if not more.report.commands_out and not more.report.events_in:
            break
    stock_after = _stock_by_product(world)
    keys = _applied_keys(world)
    expected = {f"sale:{f['checkout_form_id']}:{f['line_item_id']}" for f in forms}
    sold = [pid for pid, _o, _s in chosen]
    arithmetic_wrong = sum(1 for pid in sold if stock_after[pid] != stock_before[pid] - 1)
    untouched_wrong = sum(
        1 for pid, qty in stock_before.items() if pid not in set(sold) and stock_after.get(pid) != qty
    )
    return {
        "scenario": "burst",
        "products": facts["products"],
        "purchases": len(forms),
        "latency_ms": LATENCY_MS,
        "cycle": first.as_dict(),
        "warehouse_transactions": warehouse_commits,
        "lines_decremented_once": sum(1 for k in expected if keys.get(k) == 1),
        "lines_missing": sum(1 for k in expected if k not in keys),
        "lines_applied_twice": sum(1 for k in expected if keys.get(k, 0) > 1),
        "stock_arithmetic_wrong": arithmetic_wrong,
        "other_products_changed": untouched_wrong,
        "follow_up_cycles": [f.as_dict() for f in follow],
    }


def _applied_keys(world: World) -> dict[str, int]:
    rows = _warehouse_rows(world, "SELECT key, COUNT(*) FROM allegro_sync_applied GROUP BY key")
    return {str(key): int(n) for key, n in rows}


async def run(folder: Path, names: list[str], products: int, purchases: int, emit: Any) -> None:
    emulator = Emulator()
    try:
        world, facts = await setup(folder, emulator, products)
        _live_world(emulator, LATENCY_MS)
        async with world.context() as ctx:
            if "idle" in names:
                emit(await idle(ctx, world, emulator, facts))
            else:
                await measured_cycle(ctx, emulator)
            if "churn" in names:
                emit(await churn(ctx, world, emulator, facts, 0.01))
                await until_quiet(ctx, emulator)
            if "burst" in names:
                emit(await burst(ctx, world, emulator, facts, purchases))
    finally:
        emulator.stop()
