"""Recording what happened to a command: done with its outcome events, retried later with backoff, or dead.

Every outcome is appended with the command's status change in one ledger transaction, keyed by the command
id, so recording the same outcome twice is harmless.
"""

from __future__ import annotations

from datetime import timedelta

from engine import events as ev
from engine.context import Context
from engine.failpoints import failpoint
from engine.ports import CommandRecord


def done(ctx: Context, command: CommandRecord, *events: ev.Event) -> None:
    failpoint("before_outcome_recorded")
    ctx.ledger.record_outcome(
        command.id,
        status="done",
        attempts=command.attempts,
        next_attempt_at=None,
        last_error=None,
        events=[ev.encode(e, f"outcome:{command.id}:{i}") for i, e in enumerate(events)],
    )


def retry(
    ctx: Context,
    command: CommandRecord,
    error: str,
    *,
    retry_after_seconds: float | None = None,
    next_cycle: bool = False,
) -> bool:
    """Schedule another attempt (`next_cycle`: without backoff, for an attempt that begins with a read);
    after `max_attempts` the command goes dead instead. True if it went dead."""
    attempts = command.attempts
    if attempts >= ctx.options.max_attempts:
        dead(ctx, command, f"gave up after {attempts} attempts: {error}")
        return True
    wait = ctx.options.backoff_seconds * 2 ** max(0, attempts - 1)
    if retry_after_seconds is not None:
        wait = max(wait, retry_after_seconds)
    wait = 0 if next_cycle else min(wait, ctx.options.max_backoff_seconds)
    ctx.ledger.record_outcome(
        command.id,
        status="failed",
        attempts=attempts,
        next_attempt_at=ctx.clock.now() + timedelta(seconds=wait),
        last_error=error,
    )
    return False


def dead(ctx: Context, command: CommandRecord, error: str) -> None:
    """A permanent failure: the command stops blocking its neighbours and shows in `commands list --failed`."""
    ctx.dead_letters.append(f"command {command.id} ({command.kind} {command.target}) is dead: {error}")
    event = ev.CommandFailed(
        occurred_at=ctx.clock.now(),
        command_id=command.id,
        kind=command.kind,
        target=command.target,
        error=error,
        dead=True,
    )
    ctx.ledger.record_outcome(
        command.id,
        status="dead",
        attempts=command.attempts,
        next_attempt_at=None,
        last_error=error,
        events=[ev.encode(event, f"outcome:{command.id}:dead")],
    )
