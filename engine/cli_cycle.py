"""CLI commands around the cycle: sync, run, replay, commands, auth, demo (registered on `engine.cli.app`)."""

from __future__ import annotations

import asyncio
import getpass
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from engine.cli import EXIT_ERROR, UsageError, app, command, open_state, state_of
from engine.errors import StopEngine

commands_app = typer.Typer(help="The outbox: list, retry or skip commands.", no_args_is_help=True)
auth_app = typer.Typer(help="Log in to Allegro and show the stored login.", no_args_is_help=True)
app.add_typer(commands_app, name="commands")
app.add_typer(auth_app, name="auth")


def _who() -> str:
    return f"{getpass.getuser()}@{socket.gethostname()}"


def _dump(data: Any) -> None:
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2, default=str).decode() + "\n")


# ------------------------------------------------------------------------------------------------ sync / run


@command(app, "sync")
def sync(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Decide everything, send nothing, record nothing.")
    ] = False,
    approve: Annotated[bool, typer.Option("--approve", help="Release held plans, then run the cycle.")] = False,
    since: Annotated[
        datetime | None,
        typer.Option("--since", help="Also import orders bought since this date (older than the journal's start)."),
    ] = None,
) -> None:
    """Run one cycle (for cron); exits 0 even when some products have problems."""
    from engine import operations
    from engine.runlog import summary_line

    settings = state_of(ctx).settings()
    if dry_run:
        result = asyncio.run(operations.dry_run(settings))
        _print_plan(result.planned, result.pending)
        typer.echo(summary_line(result.report.as_dict() | {"dry_run": True}))
        return
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    report = asyncio.run(operations.sync(settings, approve_held=approve, since=since))
    if report.stopped:
        raise StopEngine(report.stopped)


def _print_plan(planned: list[Any], pending: list[Any]) -> None:
    table = Table("status", "command", "target", "payload", "reason", title="What a real cycle would send")
    for record in [*pending, *planned]:
        payload = {k: v for k, v in record.payload.items() if k != "body"}
        table.add_row(
            record.status,
            record.kind,
            record.target,
            escape(orjson.dumps(payload).decode()[:60]),
            escape(record.reason),
        )
    Console(width=160).print(table if pending or planned else "nothing to send")


@command(app, "run")
def run(ctx: typer.Context) -> None:
    """Run cycles every [engine].poll_seconds until SIGTERM/SIGINT (the cycle in flight completes)."""
    from engine import operations

    cycles = asyncio.run(operations.run(state_of(ctx).settings()))
    typer.echo(f"stopped after {cycles} cycle(s)", err=True)


# ------------------------------------------------------------------------------------------------ replay


@command(app, "replay")
def replay(
    ctx: typer.Context,
    verify: Annotated[
        bool, typer.Option("--verify", help="Rebuild from zero and compare; non-zero on a difference.")
    ] = False,
    product: Annotated[str | None, typer.Option("--product", help="Timeline of one warehouse product id.")] = None,
    order: Annotated[str | None, typer.Option("--order", help="Timeline of one checkout form id.")] = None,
    until: Annotated[int | None, typer.Option("--until", help="Stop at this ledger position.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Audit: the timeline of a product or an order, or a full verification of the projection."""
    from engine import operations
    from engine.timeline import timeline

    settings = state_of(ctx).settings()
    if verify:
        found = operations.verify(settings)
        if as_json:
            _dump({"differences": found})
        else:
            typer.echo("\n".join(found) if found else "the projection and the outbox match a rebuild from zero")
        if found:
            raise typer.Exit(EXIT_ERROR)
        return
    if (product is None) == (order is None):
        raise UsageError("replay: give --verify, or exactly one of --product ID and --order CHECKOUT_FORM_ID")
    with open_state(settings) as ledger:
        entries = timeline(ledger, product_id=product, order_id=order, until=until)
    if as_json:
        _dump([e.as_dict() for e in entries])
        return
    table = Table(
        "seq", "time", "kind", "what", "detail", title=f"{'product ' + product if product else 'order ' + str(order)}"
    )
    for e in entries:
        table.add_row(str(e.seq), e.at.strftime("%Y-%m-%d %H:%M:%S"), e.kind, escape(e.what), escape(e.detail))
    Console(width=160).print(table if entries else "nothing recorded for it")


# ------------------------------------------------------------------------------------------------ commands


@command(commands_app, "list")
def commands_list(
    ctx: typer.Context,
    failed: Annotated[bool, typer.Option("--failed", help="Only failed and dead commands.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The outbox, newest last (done commands are left out)."""
    statuses = ["failed", "dead"] if failed else ["pending", "held", "sent", "failed", "dead"]
    with open_state(state_of(ctx).settings()) as ledger:
        rows = ledger.commands(statuses=statuses)
    if as_json:
        _dump(
            [
                {
                    "id": c.id,
                    "kind": c.kind,
                    "target": c.target,
                    "status": c.status,
                    "attempts": c.attempts,
                    "last_error": c.last_error,
                    "reason": c.reason,
                }
                for c in rows
            ]
        )
        return
    table = Table("id", "kind", "target", "status", "attempts", "last error / reason")
    for c in rows:
        table.add_row(c.id, c.kind, c.target, c.status, str(c.attempts), escape(c.last_error or c.reason))
    Console(width=160).print(table if rows else "no commands waiting")


def operator_command_change(ledger: Any, command_id: str, status: str, reason: str) -> None:
    """Retry (status pending) or skip (status dead) a command as a recorded operator action."""
    from engine import events as ev

    record = ledger.command(command_id)
    if record is None:
        raise UsageError(f"command {command_id}: not in the outbox; see `allegro-sync commands list`")
    event: ev.Event
    now = datetime.now(UTC)
    if status == "pending":
        event = ev.CommandRetried(occurred_at=now, command_id=command_id, reason=reason)
    else:
        event = ev.CommandSkipped(
            occurred_at=now, command_id=command_id, kind=record.kind, target=record.target, reason=reason
        )
    ledger.set_command_status(
        command_id, status, note=reason, events=[ev.encode(event, f"operator:{command_id}:{now.isoformat()}")]
    )


@command(commands_app, "retry")
def commands_retry(ctx: typer.Context, command_id: Annotated[str, typer.Argument(help="Command id")]) -> None:
    """Send a failed or dead command again on the next cycle."""
    with open_state(state_of(ctx).settings()) as ledger:
        operator_command_change(ledger, command_id, "pending", f"retried by {_who()}")
    typer.echo(f"command {command_id} will be sent on the next cycle")


@command(commands_app, "skip")
def commands_skip(
    ctx: typer.Context,
    command_id: Annotated[str, typer.Argument(help="Command id")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is skipped (kept in the ledger).")],
) -> None:
    """Give a command up for good; what it targets is released and re-planned."""
    with open_state(state_of(ctx).settings()) as ledger:
        operator_command_change(ledger, command_id, "dead", f"{_who()}: {reason}")
    typer.echo(f"command {command_id} skipped")


# ------------------------------------------------------------------------------------------------ auth


@command(auth_app, "login")
def auth_login(ctx: typer.Context) -> None:
    """Device login: prints the URL and `Code: ...`; exits 0 once the seller approves."""
    from adapters.allegro.auth import device_login
    from adapters.allegro.tokens import TokenStore
    from engine.bootstrap import allegro_config

    settings = state_of(ctx).settings()
    asyncio.run(device_login(allegro_config(settings), TokenStore(settings.allegro.token_file), sys.stdout))


@command(auth_app, "status")
def auth_status(ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Account, token expiry and environment of the stored login (never the token)."""
    from adapters.allegro.auth import auth_status as status_of
    from adapters.allegro.tokens import TokenStore
    from engine.bootstrap import allegro_config

    settings = state_of(ctx).settings()
    status = status_of(allegro_config(settings), TokenStore(settings.allegro.token_file))
    data = {
        "environment": status.environment,
        "client_id": status.client_id,
        "logged_in": status.logged_in,
        "seller_id": status.seller_id,
        "expires_at": status.expires_at,
        "expired": status.expired,
        "token_file": str(status.token_file),
    }
    if as_json:
        _dump(data)
    elif not status.logged_in:
        typer.echo(f"not logged in to {status.environment}: run `allegro-sync auth login`")
    else:
        state = "EXPIRED" if status.expired else f"valid until {status.expires_at}"
        typer.echo(f"seller {status.seller_id} on {status.environment} (client {status.client_id}): {state}")


# ------------------------------------------------------------------------------------------------ demo


@command(app, "demo")
def demo(
    products: Annotated[int, typer.Option("--products", help="How many sample products.")] = 40,
    folder: Annotated[Path, typer.Option("--folder", help="Where the demo's files go (replaced).")] = Path("demo-run"),
) -> None:
    """The whole thing end to end: sample warehouse, emulator, login, listing, trade, checks."""
    from engine.demo import run_demo

    code = asyncio.run(run_demo(products, folder, Console()))
    if code:
        raise typer.Exit(code)
