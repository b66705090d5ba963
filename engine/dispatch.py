"""Dispatch: send the outbox, warehouse first, then Allegro, and record every outcome as an event.

Each command is marked `sent` (with its Allegro batch id) before its request goes out. A transient failure
schedules a retry with backoff; a permanent one records why; a stop-the-engine error propagates.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable

from engine import events as ev
from engine import outcomes
from engine.admission import stale_increase
from engine.allegro_writes import send_creates, send_patches, send_verifications
from engine.batches import poll_batches, send_batches
from engine.context import Context
from engine.errors import RetryLater, SkipItem
from engine.failpoints import failpoint
from engine.fold import state_of
from engine.model import OfferLink, StockApplyStatus, StockChange
from engine.planning import EDITS
from engine.ports import CommandRecord

Progress = Callable[[int], None]


async def dispatch(ctx: Context, *, progress: Progress | None = None) -> Counter[str]:
    """Send every due command; returns how many of each kind were attempted."""
    due = ctx.ledger.due_commands(ctx.clock.now())
    # A command left `sent` without a batch was cut off mid-dispatch (the process died): every kind is safe to
    # send again (creation looks the external id up first, stock changes are keyed, restocks read first).
    due += [c for c in ctx.ledger.commands(statuses=["sent"]) if c.batch is None]
    waiting_edits = [c for c in ctx.ledger.commands(statuses=["failed"]) if c.kind in EDITS and c not in due]
    due = [c for c in due if not _superseded(ctx, c)]
    for edit in waiting_edits:
        _superseded(ctx, edit)
    by_kind: dict[str, list[CommandRecord]] = {}
    for command in due:
        by_kind.setdefault(command.kind, []).append(command)
    sent: Counter[str] = Counter({kind: len(items) for kind, items in by_kind.items()})
    _warehouse_changes(ctx, by_kind.get("change_stock", []))
    _write_backs(ctx, by_kind.get("write_back", []))
    await asyncio.gather(
        send_creates(ctx, by_kind.get("create_offer", []), progress),
        send_patches(
            ctx, by_kind.get("end_offer", []) + by_kind.get("restock_offer", []) + by_kind.get("update_offer", [])
        ),
        send_verifications(ctx, by_kind.get("verify_offer", [])),
        send_batches(ctx, "quantity", by_kind.get("change_quantity", [])),
        send_batches(ctx, "price", by_kind.get("change_price", [])),
    )
    await poll_batches(ctx)
    return sent


def _superseded(ctx: Context, command: CommandRecord) -> bool:
    """Drop what the newest state overtook: an increase planned earlier and never sent that no longer fits,
    or a title/price edit a decrease pre-empted (it is planned again once the offer is free)."""
    reason = stale_increase(ctx, command) if not command.attempts else None
    if reason is None and command.kind in EDITS:
        offer = state_of(ctx).offers.get(command.target)
        if offer is not None and offer.inflight not in (None, command.id):
            reason = f"overtaken by {offer.inflight_kind} {offer.inflight}; the edit is planned again afterwards"
    if reason is None:
        return False
    event = ev.CommandSuperseded(
        occurred_at=ctx.clock.now(), command_id=command.id, target=command.target, reason=reason
    )
    outcomes.done(ctx, command, event)
    return True


def _warehouse_changes(ctx: Context, commands: list[CommandRecord]) -> None:
    if not commands or ctx.warehouse is None:
        return
    ctx.ledger.mark_sent([c.id for c in commands], batch=None)
    commands = [ctx.ledger.command(c.id) or c for c in commands]
    failpoint("before_http_write")
    changes = [
        StockChange(key=c.payload["key"], product_id=c.payload["product_id"], delta=c.payload["delta"])
        for c in commands
    ]
    try:
        results = ctx.warehouse.apply_stock_changes(changes)
    except RetryLater as exc:
        for command in commands:
            outcomes.retry(ctx, command, str(exc), retry_after_seconds=exc.retry_after_seconds)
        return
    for command, result in zip(commands, results, strict=True):
        if result.status == StockApplyStatus.FAILED:
            if result.retryable:
                outcomes.retry(ctx, command, result.error or "warehouse change failed")
            else:
                outcomes.dead(ctx, command, result.error or "warehouse change failed")
            continue
        outcomes.done(
            ctx,
            command,
            ev.StockApplied(
                occurred_at=ctx.clock.now(),
                command_id=command.id,
                key=result.key,
                product_id=command.payload["product_id"],
                delta=command.payload["delta"],
                already=result.status == StockApplyStatus.ALREADY_APPLIED,
            ),
        )


def _write_backs(ctx: Context, commands: list[CommandRecord]) -> None:
    if not commands or ctx.warehouse is None:
        return
    links = [
        OfferLink(
            product_id=c.payload["product_id"],
            offer_id=c.payload["offer_id"],
            status=c.payload["status"],
            problem=c.payload["problem"],
        )
        for c in commands
    ]
    try:
        ctx.warehouse.write_offer_links(links)
    except (RetryLater, SkipItem) as exc:
        for command in commands:
            outcomes.retry(ctx, command, str(exc))
        return
    for command in commands:
        outcomes.done(ctx, command)
