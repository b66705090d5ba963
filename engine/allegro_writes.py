"""Offer writes that go one offer per request: create (or adopt), PATCH (end, restock, update), read-back.

Creation never duplicates: every attempt first looks the external id up and adopts what exists, and a POST
is only sent after that look-up (allegro-api.md: POST is not idempotent).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from engine import events as ev
from engine import outcomes, quantity
from engine.admission import restock_now
from engine.context import Context
from engine.errors import RetryLater, SkipItem
from engine.failpoints import failpoint
from engine.fold import state_of
from engine.ingest import record_reads
from engine.model import OfferSnapshot
from engine.ports import CommandRecord

CREATES_IN_FLIGHT = 16


def _fresh(ctx: Context, commands: list[CommandRecord], batch: str | None = None) -> list[CommandRecord]:
    ctx.ledger.mark_sent([c.id for c in commands], batch=batch)
    failpoint("before_http_write")
    return [ctx.ledger.command(c.id) or c for c in commands]


async def send_creates(ctx: Context, commands: list[CommandRecord], progress: Callable[[int], None] | None) -> None:
    if not commands:
        return
    commands = _fresh(ctx, commands)
    external_ids = sorted({c.payload["external_id"] for c in commands})
    try:
        existing = await ctx.allegro.offers_by_external_id(external_ids)
    except RetryLater as exc:
        for command in commands:
            outcomes.retry(ctx, command, str(exc), retry_after_seconds=exc.retry_after_seconds)
        return
    found: dict[str, OfferSnapshot] = {}
    for snap in sorted(existing, key=lambda s: s.offer_id):
        if snap.external_id is not None:
            found.setdefault(snap.external_id, snap)

    # A bounded number of creations in flight: each starts its POST soon after its catalogue look-up, instead
    # of every look-up queueing ahead of every POST under the shared rate budget.
    in_flight = asyncio.Semaphore(CREATES_IN_FLIGHT)

    async def one(command: CommandRecord) -> None:
        async with in_flight:
            await _create(ctx, command, found.get(command.payload["external_id"]))
        if progress is not None:
            progress(1)

    await asyncio.gather(*(one(c) for c in commands))
    extra = [s for s in existing if s.external_id is not None and found[s.external_id].offer_id != s.offer_id]
    record_reads(ctx, extra, why="duplicate")


async def _create(ctx: Context, command: CommandRecord, adopted: OfferSnapshot | None) -> None:
    payload = command.payload
    try:
        if adopted is None:
            body = _with_current_stock(ctx, payload["product_id"], dict(payload["body"]))
            ean = payload.get("ean")
            if ean:
                product = await ctx.allegro.product_by_gtin(ean)
                if product is not None:
                    body["productSet"] = [{"product": {"id": product.product_id}}]
            snapshot = await ctx.allegro.create_offer(body)
            failpoint("after_http_write")
        else:
            snapshot = adopted
    except RetryLater as exc:
        outcomes.retry(ctx, command, str(exc), retry_after_seconds=exc.retry_after_seconds)
        return
    except SkipItem as exc:
        rejected = ev.OfferRejected(
            occurred_at=ctx.clock.now(), command_id=command.id, product_id=payload["product_id"], problems=exc.problems
        )
        outcomes.done(ctx, command, rejected)
        return
    created = ev.OfferCreated(
        occurred_at=snapshot.read_at,
        command_id=command.id,
        product_id=payload["product_id"],
        offer=snapshot,
        adopted=adopted is not None,
        content_hash=payload["content_hash"],
    )
    outcomes.done(ctx, command, created)


def _with_current_stock(ctx: Context, product_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """The quantity to publish is the target now, not when the command was planned: a create retried later
    must not publish stock that has been sold meanwhile."""
    state = state_of(ctx)
    product = state.products.get(product_id)
    goal = quantity.target(product, state.offers_of(product), state.policy) if product is not None else None
    available = 0 if goal is None or (product is not None and product.unknown) else goal.available
    body["stock"] = {"available": available, "unit": "UNIT"}
    publish = state.policy.offer_defaults.publish and available > 0
    body["publication"] = {"status": "ACTIVE" if publish else "INACTIVE"}
    return body


def _patch_body(command: CommandRecord) -> tuple[str, dict[str, Any]]:
    p = command.payload
    if command.kind == "end_offer":
        if p["purpose"] == "zero":
            return "zero", {"stock": {"available": 0}}
        return "unlist", {"publication": {"status": "ENDED"}}
    if command.kind == "restock_offer":
        return "restock", {"stock": {"available": p["available"]}, "publication": {"status": "ACTIVE"}}
    return "update", dict(p["patch"])


async def send_patches(ctx: Context, commands: list[CommandRecord]) -> None:
    if commands:
        commands = _fresh(ctx, commands)
        await asyncio.gather(*(_patch(ctx, c) for c in commands))


async def _patch(ctx: Context, command: CommandRecord) -> None:
    purpose, body = _patch_body(command)
    offer_id = command.payload["offer_id"]
    try:
        snapshot, requested = await _patch_once(ctx, purpose, offer_id, body)
        failpoint("after_http_write")
    except RetryLater as exc:
        # A restock's outcome may be uncertain (the offer may be on sale already): its next attempt only
        # reads first, so it runs in the next cycle rather than after a backoff.
        restock = purpose == "restock"
        outcomes.retry(ctx, command, str(exc), retry_after_seconds=exc.retry_after_seconds, next_cycle=restock)
        return
    except SkipItem as exc:
        outcomes.dead(ctx, command, f"offer {offer_id}: Allegro refused the {purpose} PATCH: {'; '.join(exc.problems)}")
        return
    patched = ev.OfferPatched(
        occurred_at=snapshot.read_at,
        command_id=command.id,
        offer_id=offer_id,
        purpose=purpose,
        offer=snapshot,
        content_hash=command.payload.get("content_hash", ""),
        requested=requested,
    )
    outcomes.done(ctx, command, patched)


async def _patch_once(ctx: Context, purpose: str, offer_id: str, body: dict[str, Any]) -> tuple[OfferSnapshot, int]:
    """The offer after the PATCH, and for a restock the stock it published (0 when it sent none)."""
    if purpose == "restock":
        # An absolute stock is only safe on an offer nobody can buy. Read first: a restock sent before (and
        # bought from since), or an offer re-activated meanwhile, must not get its sold units back.
        (current,) = await ctx.allegro.offer_parts([offer_id])
        if current.status.buyable:
            return current, 0
        # A retry publishes the target of now, not of its planning: sales and other channels move on.
        available = min(int(body["stock"]["available"]), restock_now(ctx, offer_id))
        if available < 1:
            return current, 0
        body = {"stock": {"available": available}, "publication": {"status": "ACTIVE"}}
        return await ctx.allegro.patch_offer(offer_id, body, idempotent=False), available
    if purpose == "zero":
        try:
            return await ctx.allegro.patch_offer(offer_id, body), 0
        except SkipItem:
            return await ctx.allegro.patch_offer(offer_id, {"publication": {"status": "ENDED"}}), 0
    return await ctx.allegro.patch_offer(offer_id, body), 0


async def send_verifications(ctx: Context, commands: list[CommandRecord]) -> None:
    if not commands:
        return
    commands = _fresh(ctx, commands)
    try:
        snapshots = await ctx.allegro.offer_parts(sorted({c.payload["offer_id"] for c in commands}))
    except RetryLater as exc:
        for command in commands:
            outcomes.retry(ctx, command, str(exc), retry_after_seconds=exc.retry_after_seconds)
        return
    record_reads(ctx, snapshots, why="verify", asked_by={c.payload["offer_id"]: c.id for c in commands})
    for command in commands:
        outcomes.done(ctx, command)
