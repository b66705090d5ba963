"""The invariants the demo checks at the end (design.md section 9, at quiescence)."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import create_engine, text

from engine.context import Context


async def invariant_failures(ctx: Context, control: httpx.AsyncClient, warehouse_url: str) -> list[str]:
    failures: list[str] = []
    state = ctx.state
    assert state is not None
    offers = {o["id"]: o for o in (await control.get("/__emulator/offers")).json()["offers"]}
    forms = (await control.get("/__emulator/checkout-forms")).json()["checkoutForms"]
    engine = create_engine(warehouse_url)
    try:
        with engine.connect() as connection:
            stock = {
                str(pid): qty for pid, qty in connection.execute(text("SELECT towar_id, ilosc FROM stany_magazynowe"))
            }
            applied = [key for (key,) in connection.execute(text("SELECT key FROM allegro_sync_applied"))]
    finally:
        engine.dispose()
    if len(applied) != len(set(applied)):
        failures.append("a stock change key was applied twice")
    for form in forms:
        for line in form["lineItems"]:
            failures += _line_failures(form, line, set(applied))
    for product in state.products.values():
        if product.offer_id is None or product.row is None or not product.row.list:
            continue
        offer = offers.get(product.offer_id)
        if offer is None:
            failures.append(f"product {product.product_id}: offer {product.offer_id} is not on Allegro")
            continue
        failures += _offer_failures(product.product_id, offer, stock.get(product.product_id), state.policy.buffer)
    return failures


def _line_failures(form: dict[str, Any], line: dict[str, Any], applied: set[str]) -> list[str]:
    key = f"{form['id']}:{line['id']}"
    sold, restored = f"sale:{key}" in applied, f"restore:{key}" in applied
    if form["status"] == "CANCELLED":
        if sold != restored:
            return [f"order line {key}: cancelled, but taken off stock {int(sold)}x and given back {int(restored)}x"]
        return []
    if not sold or restored:
        return [f"order line {key}: bought, but taken off stock {int(sold)}x and given back {int(restored)}x"]
    return []


def _offer_failures(pid: str, offer: dict[str, Any], warehouse: int | None, buffer: int) -> list[str]:
    if warehouse is None:
        return []
    wanted = max(0, warehouse - buffer)
    status = offer["publication"]["status"]
    shows = offer["stock"]["available"]
    if wanted == 0:
        return [] if status != "ACTIVE" else [f"product {pid}: warehouse has 0 but the offer is still ACTIVE"]
    if status != "ACTIVE" or shows != wanted:
        return [f"product {pid}: warehouse can sell {wanted}, Allegro shows {shows} ({status})"]
    return []
