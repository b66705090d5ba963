"""What the operator commands do, as plain functions of the settings (the CLI only parses and prints).

`sync` runs one cycle under the cycle lock and writes the run log; `run` keeps one context open and runs
cycles on the scheduler; `dry_run` runs a cycle over an in-memory overlay of the ledger and sends nothing;
`approve` releases held plans; `verify` rebuilds the projection from zero and lists the differences.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

import httpx

from adapters.ledger import open_ledger
from adapters.overlay_ledger import OverlayLedger
from engine import events as ev
from engine.bootstrap import SystemClock, open_context
from engine.compact import verify_ledger
from engine.cycle import CycleReport, run_once
from engine.lock import acquire_cycle_lock
from engine.metrics import start as start_metrics
from engine.ports import CommandRecord, Ledger
from engine.runlog import RunLog
from engine.scheduler import run_scheduler
from engine.settings import Settings

LOCK_WAIT_SECONDS = 30.0


def _log(settings: Settings) -> RunLog:
    return RunLog(settings.engine.log_dir, secrets=settings.secret_values())


def approve(ledger: Ledger, reason: str) -> list[CommandRecord]:
    """Release every held command; the approval is an operator event in the ledger."""
    held = ledger.commands(statuses=["held"])
    if not held:
        return []
    event = ev.PlanApproved(occurred_at=SystemClock().now(), command_ids=tuple(c.id for c in held), reason=reason)
    ledger.append([ev.encode(event, f"approve:{uuid.uuid4()}")])
    for command in held:
        ledger.set_command_status(command.id, "pending", note=f"approved: {reason}")  # type: ignore[attr-defined]
    return held


async def sync(
    settings: Settings,
    *,
    approve_held: bool = False,
    since: datetime | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    lock_wait_seconds: float = LOCK_WAIT_SECONDS,
) -> CycleReport:
    state_url = settings.engine.state_url.reveal()
    with acquire_cycle_lock(state_url, lock_wait_seconds):
        async with open_context(settings, transport=transport) as ctx:
            if approve_held:
                approve(ctx.ledger, "sync --approve")
            report = await run_once(ctx, since=since)
    _log(settings).write(report)
    return report


@dataclass(frozen=True, slots=True)
class DryRun:
    report: CycleReport
    planned: list[CommandRecord]
    pending: list[CommandRecord]


async def dry_run(settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None) -> DryRun:
    """A cycle that reads everything and decides everything, and writes nothing anywhere."""
    async with open_context(settings, transport=transport) as ctx:
        base = ctx.ledger
        overlay = OverlayLedger(base)
        ctx.ledger = overlay
        report = await run_once(ctx, send=False)
        pending = [c for c in base.due_commands(ctx.clock.now())]
    return DryRun(report=report, planned=list(overlay.planned.values()), pending=pending)


async def run(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    stop: asyncio.Event | None = None,
    on_cycle: Callable[[CycleReport], Awaitable[None]] | None = None,
) -> int:
    """Cycles every `poll_seconds` until SIGTERM/SIGINT (or `stop`); returns the number of cycles run."""
    log = _log(settings)
    state_url = settings.engine.state_url.reveal()
    with acquire_cycle_lock(state_url, LOCK_WAIT_SECONDS):
        async with open_context(settings, transport=transport) as ctx:
            metrics, stop_metrics = start_metrics(settings, ctx.ledger)  # [engine].metrics_port, else nothing

            async def cycle() -> None:
                report = await run_once(ctx)
                log.write(report)
                if metrics is not None:
                    metrics.observe(report)
                if on_cycle is not None:
                    await on_cycle(report)

            try:
                return await run_scheduler(cycle, settings.engine.poll_seconds, stop=stop, handle_signals=stop is None)
            finally:
                stop_metrics()


def verify(settings: Settings) -> list[str]:
    """Every difference between the stored projection and outbox and a rebuild from zero (or from the
    snapshot `db compact` left: the commands caused by archived events are then not compared)."""
    ledger = open_ledger(settings.engine.state_url.reveal())
    try:
        return verify_ledger(ledger)
    finally:
        ledger.close()
