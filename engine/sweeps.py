"""Safety nets on a timer: the checkout-form sweep and the full offer reconciliation.

The sweep catches what the order journal never says (seller-panel cancellations) or lost; reconciliation
reads every offer and records the ones that differ from the model. Their last run times live in cursors.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from engine import events as ev
from engine.codec import format_time, parse_time
from engine.context import Context
from engine.errors import RetryLater
from engine.fold import state_of
from engine.ingest import OFFERS_CURSOR, ORDERS_CURSOR, record_reads
from engine.model import CheckoutForm, OfferSnapshot
from engine.state import State

SWEEP_CURSOR = "allegro.sweep"
RECONCILE_CURSOR = "allegro.reconcile"
SWEEP_OVERLAP = timedelta(minutes=5)
"""How far before the last sweep an incremental sweep starts reading (at least twice the journal grace):
the margin for a difference between our clock and Allegro's and for a form that reaches the search late."""


def _due(ctx: Context, cursor: str, every: timedelta) -> bool:
    last = ctx.ledger.cursor(cursor)
    return last is None or parse_time(last) + every <= ctx.clock.now()


async def sweep(ctx: Context, *, force: bool = False, since: datetime | None = None) -> int:
    """Read the checkout forms that changed since the last sweep (with an overlap), or, on the first sweep,
    when forced, or when the last one is older than the window, every form bought in the sweep window (or
    since `since`, for an explicit import). A form's `updatedAt` moves with every change Allegro makes to
    it (payment, cancellation in the seller panel, ...), so the incremental read sees what the window read
    would, and costs what changed rather than the window's whole history."""
    every = timedelta(seconds=ctx.options.sweep_seconds)
    if not force and since is None and not _due(ctx, SWEEP_CURSOR, every):
        return 0
    last = ctx.ledger.cursor(SWEEP_CURSOR)
    now = ctx.clock.now()
    window = now - timedelta(days=ctx.options.sweep_window_days)
    state = state_of(ctx)
    overlap = max(SWEEP_OVERLAP, timedelta(seconds=2 * state.policy.journal_grace_seconds))
    if since is not None:
        forms = await ctx.allegro.checkout_forms(bought_since=since)
    elif not force and last is not None and parse_time(last) - overlap > window:
        forms = await ctx.allegro.checkout_forms(updated_since=parse_time(last) - overlap)
    else:
        forms = await ctx.allegro.checkout_forms(bought_since=window)
    batch = [
        ev.encode(
            ev.CheckoutFormObserved(occurred_at=form.updated_at or now, form=form),
            f"sweep:{form.checkout_form_id}:{form.status}:{form.revision}",
        )
        for form in forms
        if _news(state, form)
    ]
    return len(ctx.ledger.append(batch, cursor=(SWEEP_CURSOR, format_time(now))))


def _news(state: State, form: CheckoutForm) -> bool:
    known = state.forms.get(form.checkout_form_id)
    if known is None:
        return True
    if form.status == "CANCELLED" and not known.cancelled:
        return True
    if form.status == "READY_FOR_PROCESSING" and not known.ready:
        return True
    return any(f"{form.checkout_form_id}:{line.line_id}" not in state.lines for line in form.lines)


async def reconcile(ctx: Context, *, force: bool = False) -> int:
    """Read every offer; record those that differ from the model (and the seller's offers for our products)."""
    every = timedelta(hours=ctx.options.reconcile_hours)
    if not force and not _due(ctx, RECONCILE_CURSOR, every):
        return 0
    now: datetime = ctx.clock.now()
    snapshots: list[OfferSnapshot] = [snap async for snap in ctx.allegro.all_offers()]
    appended = record_reads(ctx, snapshots, why="reconcile")
    ctx.ledger.append([], cursor=(RECONCILE_CURSOR, format_time(now)))
    return appended


async def resync(ctx: Context, cursor: str, reason: str) -> int:
    """A journal refused our cursor: reconcile everything, then restart the journal from its newest event."""
    if cursor not in (ORDERS_CURSOR, OFFERS_CURSOR):
        raise RetryLater(f"{cursor}: no journal to resynchronize; {reason}")
    appended = await reconcile(ctx, force=True)
    old = ctx.ledger.cursor(cursor)
    if cursor == ORDERS_CURSOR:
        appended += await sweep(ctx, force=True)
        position = await ctx.allegro.order_journal_start()
    else:
        position = None
        while True:
            page = await ctx.allegro.offer_events(position)
            if page.entries:
                position = page.entries[-1].event_id
            if page.caught_up:
                break
    event = ev.JournalResynced(
        occurred_at=ctx.clock.now(), cursor=cursor, from_position=old, to_position=position, reason=reason
    )
    key = f"resync:{cursor}:{old}:{position}"
    return appended + len(ctx.ledger.append([ev.encode(event, key)], cursor=(cursor, position)))
