"""Folding new ledger events into the projection and the outbox, one transaction per fold.

A plan that would end more than `max_change_fraction` of the active offers, or move a price by more than
`price_band_fraction`, is stored as `held`: nothing of it is sent until `allegro-sync sync --approve`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.commands import ChangePrice, Command, EndOffer
from engine.context import Context
from engine.events import decode
from engine.failpoints import failpoint
from engine.ports import CommandRecord, ProjectionChanges
from engine.reducer import reduce
from engine.state import State, from_items, to_rows

MIN_HELD_ENDS = 5
"""A plan ending fewer offers than this is never held (a small shop selling out is normal)."""


@dataclass(slots=True)
class FoldResult:
    events: int = 0
    commands: list[Command] = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def state_of(ctx: Context) -> State:
    """The projection, loaded from the ledger on first use and kept between cycles."""
    if ctx.state is None:
        ctx.folded, state = ctx.ledger.read_projection(from_items)
        ctx.state = state
        return state
    return ctx.state


def fold(ctx: Context, *, persist: bool = True) -> FoldResult:
    state = state_of(ctx)
    result = FoldResult()
    pending: list[tuple[Command, int]] = []
    last = ctx.folded
    for stored in ctx.ledger.events(after_seq=ctx.folded):
        last = stored.seq
        try:
            event = decode(stored)
        except (KeyError, ValueError, TypeError) as exc:
            result.errors.append(
                f"ledger event {stored.seq} ({stored.type} v{stored.version}) cannot be read and was skipped: {exc}"
            )
            continue
        state, commands = reduce(state, event, stored.seq)
        result.events += 1
        pending += [(c, stored.seq) for c in commands]
    ctx.state = state
    if last == ctx.folded and not state.dirty:
        return result
    result.commands = [c for c, _ in pending]
    result.held = held_commands(
        state, result.commands, ctx.options.max_change_fraction, ctx.options.price_band_fraction
    )
    if persist:
        upserts, deletes = to_rows(state, state.dirty)
        records = [_record(c, seq, held=c.id in result.held) for c, seq in pending]
        ctx.ledger.commit_reduction(
            folded_seq=last, changes=ProjectionChanges(upserts=upserts, deletes=deletes), commands=records
        )
        ctx.changed_products |= {key for kind, key in state.dirty if kind == "product"}
        state.dirty.clear()
        failpoint("after_reduce")
    ctx.folded = last
    return result


def held_commands(state: State, commands: list[Command], max_fraction: float, price_band: float) -> list[str]:
    held: list[str] = []
    ends = [c for c in commands if isinstance(c, EndOffer)]
    active = sum(1 for o in state.offers.values() if o.status.buyable) + len(ends)
    if len(ends) >= MIN_HELD_ENDS and len(ends) > max_fraction * max(active, 1):
        held += [c.id for c in ends]
    for c in commands:
        if isinstance(c, ChangePrice):
            old = state.offers[c.offer_id].price
            if old is not None and old > 0 and abs(c.price - old) / old > price_band:
                held.append(c.id)
    return held


def _record(command: Command, seq: int, *, held: bool) -> CommandRecord:
    return CommandRecord(
        id=command.id,
        kind=type(command).KIND,
        target=command.target,
        payload=command.payload(),
        reason=command.reason,
        caused_by=seq,
        status="held" if held else "pending",
    )
