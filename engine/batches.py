"""Batch commands: GAIN quantity changes grouped by delta, price changes grouped by price (1000 offers each).

The batch id is a uuid5 of its members' ids, stored on every member before the PUT, so a retry or a restart
re-sends the same id and body and Allegro never executes it twice. Task results map back to the members.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

from engine import events as ev
from engine import outcomes
from engine.admission import stale_increase
from engine.commands import command_id
from engine.context import Context
from engine.errors import RetryLater, SkipItem
from engine.failpoints import failpoint
from engine.model import CommandReport, TaskStatus
from engine.ports import CommandRecord

MAX_OFFERS = 1000
RESEND_WINDOW = timedelta(hours=24)
"""A batch Allegro does not know is re-sent only this long: its report expires after 7 days, and a re-sent
expired id might execute again (stock-sync.md 6.5). After that the offers are read instead."""
KIND_OF = {"quantity": "change_quantity", "price": "change_price"}


def _value(kind: str, command: CommandRecord) -> str:
    return str(command.payload["delta"] if kind == "quantity" else command.payload["price"])


async def send_batches(ctx: Context, kind: str, commands: list[CommandRecord]) -> None:
    groups: dict[str, list[CommandRecord]] = {}
    for command in commands:
        groups.setdefault(_value(kind, command), []).append(command)
    chunks = [
        members[i : i + MAX_OFFERS] for _, members in sorted(groups.items()) for i in range(0, len(members), MAX_OFFERS)
    ]
    for members in chunks:
        batch = command_id(f"{kind}_batch", ",".join(sorted(c.id for c in members)), "")
        ctx.ledger.mark_sent([c.id for c in members], batch=batch)
    if chunks:
        failpoint("before_http_write")
    await asyncio.gather(*(_put(ctx, kind, [ctx.ledger.command(c.id) or c for c in m]) for m in chunks))


async def _put(ctx: Context, kind: str, members: list[CommandRecord]) -> CommandReport | None:
    batch = members[0].batch
    assert batch is not None
    offers = [c.payload["offer_id"] for c in members]
    try:
        if kind == "quantity":
            report = await ctx.allegro.change_quantity(batch, offers, int(members[0].payload["delta"]))
        else:
            report = await ctx.allegro.change_price(batch, offers, Decimal(members[0].payload["price"]))
        failpoint("after_http_write")
        return report
    except RetryLater as exc:
        for command in members:
            if command.attempts >= ctx.options.max_attempts:
                outcomes.dead(ctx, command, f"batch {batch} not accepted after {command.attempts} attempts: {exc}")
        return None


async def poll_batches(ctx: Context) -> None:
    """Wait a little for sent batches to finish; record finished tasks, re-send unacknowledged batches."""
    sent = ctx.ledger.commands(statuses=["sent"])
    batches: dict[tuple[str, str], list[CommandRecord]] = {}
    for command in sent:
        kind = "quantity" if command.kind == "change_quantity" else "price" if command.kind == "change_price" else None
        if kind is not None and command.batch is not None:
            batches.setdefault((kind, command.batch), []).append(command)
    await asyncio.gather(*(_await_batch(ctx, kind, members) for (kind, _), members in batches.items()))


async def _await_batch(ctx: Context, kind: str, members: list[CommandRecord]) -> None:
    batch = members[0].batch
    assert batch is not None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ctx.options.command_poll_seconds
    pause = 0.05
    while True:
        report: CommandReport | None
        try:
            report = await ctx.allegro.command_report(kind, batch)
        except RetryLater:
            report = None
        except SkipItem:
            # Allegro does not know the batch: the PUT never arrived (a crash, a lost request). Re-sending the
            # same id and body is safe while a report could not have expired yet; later, read the offers.
            # A stale increase is not re-sent: it is recorded as not applied, and the offer is read back.
            if _sent_long_ago(ctx, members) or any(stale_increase(ctx, c) for c in members):
                _record(ctx, kind, members, CommandReport(command_id=batch, completed=True, tasks=()))
                return
            report = await _put(ctx, kind, members)
        if report is not None and report.completed:
            _record(ctx, kind, members, report)
            return
        if loop.time() + pause > deadline:
            return
        await asyncio.sleep(pause)
        pause = min(pause * 2, 2.0)


def _sent_long_ago(ctx: Context, members: list[CommandRecord]) -> bool:
    times = [t for c in members if (t := c.updated_at or c.created_at) is not None]
    return bool(times) and ctx.clock.now() - min(times) > RESEND_WINDOW


def _record(ctx: Context, kind: str, members: list[CommandRecord], report: CommandReport) -> None:
    tasks = {t.offer_id: t for t in report.tasks}
    for command in members:
        offer_id = command.payload["offer_id"]
        task = tasks.get(offer_id)
        succeeded = task is not None and task.status == TaskStatus.SUCCESS
        message = task.message if task is not None else "no task reported for this offer"
        event: ev.Event
        if kind == "quantity":
            event = ev.QuantityChanged(
                occurred_at=ctx.clock.now(),
                command_id=command.id,
                offer_id=offer_id,
                delta=int(command.payload["delta"]),
                succeeded=succeeded,
                message=message,
            )
        else:
            event = ev.PriceChanged(
                occurred_at=ctx.clock.now(),
                command_id=command.id,
                offer_id=offer_id,
                price=Decimal(command.payload["price"]),
                succeeded=succeeded,
                message=message,
            )
        outcomes.done(ctx, command, event)
