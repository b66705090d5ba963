"""Scenario 5: one stock change among ~350 offers, handled by our cycle and by a full-scan cron script.

The baseline is what a typical PHP cron script does (raw HTTP, one request at a time): read every offer
page by page (`GET /sale/offers`), read the warehouse stock, then `PATCH /sale/product-offers/{id}` every
offer with its stock, changed or not. Both run against the same emulator with the same 50 ms latency.
Our cycle runs first on change A; the script then runs on change B, so each handles exactly one change.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from adapters.allegro.tokens import TokenStore
from bench.measure import measured_cycle, profiled
from bench.steady import _active_products, _live_world
from bench.world import Emulator, World, listed_world, until_quiet
from demo.changes import add_stock

LATENCY_MS = 50
MEDIA = "application/vnd.allegro.public.v1+json"


def full_scan(world: World, emulator: Emulator) -> dict[str, Any]:
    token = TokenStore(world.settings.allegro.token_file).load()
    assert token is not None
    headers = {"Authorization": f"Bearer {token.access_token.reveal()}", "Accept": MEDIA}
    before = emulator.requests()
    started = time.perf_counter()
    with httpx.Client(base_url=emulator.base_url, headers=headers, timeout=30) as http:
        offers: list[dict[str, Any]] = []
        offset = 0
        while True:
            page = http.get("/sale/offers", params={"limit": 1000, "offset": offset})
            page.raise_for_status()
            batch = page.json()["offers"]
            offers += batch
            offset += len(batch)
            if len(batch) < 1000:
                break
        engine = create_engine(world.warehouse_url)
        try:
            with engine.connect() as connection:
                stock = dict(
                    connection.execute(
                        text("SELECT t.symbol, s.ilosc FROM towary t JOIN stany_magazynowe s ON s.towar_id = t.id")
                    ).all()
                )
        finally:
            engine.dispose()
        patched = failed = 0
        for offer in offers:
            sku = (offer.get("external") or {}).get("id")
            if sku not in stock:
                continue
            answer = http.patch(
                f"/sale/product-offers/{offer['id']}",
                json={"stock": {"available": max(0, int(stock[sku]))}},
                headers={"Content-Type": MEDIA},
            )
            patched += 1
            failed += answer.status_code >= 400
    wall = time.perf_counter() - started
    after = emulator.requests()
    return {
        "wall_s": round(wall, 3),
        "offers_read": len(offers),
        "patches": patched,
        "patch_errors": failed,
        "requests": after["total"] - before["total"],
        "http_429": after["sent_429"] - before["sent_429"],
    }


async def run(folder: Path, products: int, emit: Any) -> None:
    emulator = Emulator()
    try:
        world = await listed_world(folder, emulator, products)
        offers = len([o for o in emulator.offers() if o.get("external")])
        _live_world(emulator, LATENCY_MS)
        async with world.context() as ctx:
            await measured_cycle(ctx, emulator)  # loads the projection: a running engine has it in memory
            candidates = _active_products(ctx, emulator, world, least=2)
            (pid_a, _offer, _stock), (pid_b, _o, _s) = candidates[0], candidates[1]
            add_stock(world.warehouse_url, int(pid_a), -1)
            with profiled("scan"):
                ours = await measured_cycle(ctx, emulator)
            await until_quiet(ctx, emulator)
        add_stock(world.warehouse_url, int(pid_b), -1)
        scan = full_scan(world, emulator)
    finally:
        emulator.stop()
    emit(
        {
            "scenario": "scan",
            "products": products,
            "offers": offers,
            "latency_ms": LATENCY_MS,
            "ours": ours.as_dict(),
            "scan": scan,
            "speedup": round(scan["wall_s"] / ours.report.duration_seconds, 1),
            "request_ratio": round(scan["requests"] / max(1, ours.requests.total), 1),
        }
    )
