"""One sync cycle, `run_once`: ingest, reduce, dispatch, record. Called by the scheduler, `sync` and tests.

    1. orders journal   -> events (cursor allegro.orders)            then reduce
    2. offers journal   -> events (cursor allegro.offers) + reads    then reduce
    3. warehouse        -> events (cursor warehouse.products)        then reduce
       sweep / reconciliation when due, journal coverage while holds wait for it
    4. dispatch the outbox (warehouse first, then Allegro); outcomes are events
    5. reduce the outcomes; follow-up commands go out in the same cycle (a few rounds at most)

A failure of one source is recorded and the rest of the cycle goes on (design.md invariant 7); only a
`StopEngine` error ends the cycle early.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

import orjson

from engine import ingest, sweeps
from engine.codec import to_plain
from engine.context import Context
from engine.dispatch import Progress, dispatch
from engine.errors import Resync, RetryLater, SkipItem, StopEngine
from engine.events import CategoryObserved, PolicyChanged, encode
from engine.failpoints import failpoint
from engine.fold import fold, state_of

FOLLOW_UP_ROUNDS = 4


@dataclass(slots=True, kw_only=True)
class CycleReport:
    started_at: datetime
    duration_seconds: float = 0.0
    cpu_seconds: float = 0.0
    events_in: Counter[str] = field(default_factory=Counter)
    commands_out: Counter[str] = field(default_factory=Counter)
    held: int = 0
    errors: list[str] = field(default_factory=list)
    stopped: str | None = None

    @property
    def outcome(self) -> str:
        if self.stopped:
            return "stopped"
        return "errors" if self.errors else "ok"

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = to_plain(
            {
                k: getattr(self, k)
                for k in ("started_at", "duration_seconds", "cpu_seconds", "held", "errors", "stopped")
            }
        )
        data["events_in"] = dict(self.events_in)
        data["commands_out"] = dict(self.commands_out)
        data["outcome"] = self.outcome
        return data


async def run_once(
    ctx: Context, *, progress: Progress | None = None, send: bool = True, since: datetime | None = None
) -> CycleReport:
    """One cycle. `send=False` decides without sending (dry run); `since` also imports the checkout forms
    bought since then (orders older than the journal's start)."""
    report = CycleReport(started_at=ctx.clock.now())
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        await _cycle(ctx, report, progress, send, since)
    except StopEngine as exc:
        report.stopped = str(exc)
    report.duration_seconds = round(time.perf_counter() - wall, 4)
    report.cpu_seconds = round(time.process_time() - cpu, 4)
    return report


async def _cycle(
    ctx: Context, report: CycleReport, progress: Progress | None, send: bool, since: datetime | None
) -> None:
    _reduce(ctx, report, "engine", _configuration(ctx))
    if ctx.options.mapped_categories:
        await _step(report, "allegro.categories", lambda: _categories(ctx), ctx)
    await _step(report, "allegro.orders", lambda: ingest.orders_journal(ctx), ctx)
    _reduce(ctx, report, "engine", ingest.journal_coverage(ctx))
    await _step(report, "allegro.offers", lambda: ingest.offers_journal(ctx), ctx)
    await _step(report, "warehouse", lambda: _sync(ingest.warehouse(ctx)), ctx)
    await _step(report, "allegro.sweep", lambda: sweeps.sweep(ctx, since=since), ctx)
    await _step(report, "allegro.reconcile", lambda: sweeps.reconcile(ctx), ctx)
    if not send:
        return
    for _ in range(FOLLOW_UP_ROUNDS):
        sent = await dispatch(ctx, progress=progress)
        report.commands_out.update(sent)
        report.errors += ctx.dead_letters
        ctx.dead_letters.clear()
        follow_ups = _reduce(ctx, report, "engine", 0)
        if not sent and not follow_ups:
            break


async def _sync(value: int) -> int:
    return value


async def _step(report: CycleReport, name: str, step: Callable[[], Awaitable[int]], ctx: Context) -> None:
    try:
        appended = await step()
    except Resync as exc:
        report.errors.append(f"{name}: {exc}; reconciling everything and restarting the journal from now")
        try:
            appended = await sweeps.resync(ctx, name, str(exc))
        except (RetryLater, SkipItem) as again:
            report.errors.append(f"{name}: the reconciliation failed too ({again}); it is retried next cycle")
            return
    except (RetryLater, SkipItem) as exc:
        report.errors.append(f"{name}: {exc}")
        return
    failpoint(f"after_ingest_{name}")
    _reduce(ctx, report, name, appended)


def _reduce(ctx: Context, report: CycleReport, name: str, appended: int) -> int:
    """Fold what is new; returns how many new commands that planned."""
    if appended:
        report.events_in[name] += appended
    result = fold(ctx)
    report.held += len(result.held)
    report.errors += result.errors
    return len(result.commands)


def _configuration(ctx: Context) -> int:
    """Record a policy change, so that replaying the ledger applies the rules that were in force."""
    state = state_of(ctx)
    if state.policy == ctx.policy:
        return 0
    event = PolicyChanged(occurred_at=ctx.clock.now(), policy=ctx.policy)
    key = f"policy:{hash_of(event.policy)}:{ctx.ledger.last_seq()}"
    return len(ctx.ledger.append([encode(event, key)]))


async def _categories(ctx: Context) -> int:
    """Read the parameters of mapped categories the projection does not know yet."""
    state = state_of(ctx)
    missing = [c for c in ctx.options.mapped_categories if c not in state.categories]
    batch = []
    for category_id in missing:
        params = await ctx.allegro.category_parameters(category_id)
        event = CategoryObserved(occurred_at=ctx.clock.now(), category_id=category_id, parameters=tuple(params))
        batch.append(encode(event, f"category:{category_id}:{hash_of(event.parameters)}"))
    return len(ctx.ledger.append(batch))


def hash_of(value: object) -> str:
    return hashlib.blake2b(orjson.dumps(to_plain(value), option=orjson.OPT_SORT_KEYS), digest_size=8).hexdigest()
