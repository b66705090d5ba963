"""The `allegro-sync` command line: thin commands that load settings, call one function and print.

Adding a command: write its body as a plain function that takes what it needs (settings, a ledger, `now`)
and returns data, then a few lines that register it with `@command(<group>, "name")` and print the result.
`@command` turns every `SyncError` into `error: <message>` on stderr and a non-zero exit code (2 for
configuration and usage mistakes, 75 for "busy, try again later", 1 otherwise) without a traceback.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import getpass
import logging
import socket
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import orjson
import typer

from engine.context import CycleOptions
from engine.errors import ConfigError, RetryLater, SyncError
from engine.ingest import OFFERS_CURSOR, ORDERS_CURSOR, WAREHOUSE_CURSOR
from engine.ports import Ledger
from engine.settings import Settings, load_settings, sqlite_path
from engine.settings_check import is_loopback
from engine.sweeps import SWEEP_CURSOR

P = ParamSpec("P")
R = TypeVar("R")

EXIT_ERROR, EXIT_USAGE, EXIT_TEMPFAIL = 1, 2, 75
LOCK_WAIT_SECONDS = 30.0
COMMAND_STATUSES = ("pending", "held", "sent", "failed", "dead", "done")  # "held": waits for an operator


class UsageError(SyncError):
    """The command line asks for something impossible (an unknown cursor, a reserved position word)."""


def exit_code_of(exc: SyncError) -> int:
    if isinstance(exc, ConfigError | UsageError):
        return EXIT_USAGE
    return EXIT_TEMPFAIL if isinstance(exc, RetryLater) else EXIT_ERROR


def report_error(exc: SyncError) -> int:
    """Print each line of the message as `error: ...` on stderr; return the exit code."""
    for line in str(exc).splitlines() or [type(exc).__name__]:
        typer.echo(f"error: {line}", err=True)
    return exit_code_of(exc)


def command(group: typer.Typer, name: str | None = None, **options: Any) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Register `fn` as a command of `group`, with known errors turned into one-line messages."""

    def register(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return fn(*args, **kwargs)
            except SyncError as exc:
                raise typer.Exit(report_error(exc)) from None

        group.command(name, **options)(run)
        return fn

    return register


@dataclass(slots=True)
class AppState:
    """What the global options decided; settings are loaded on first use (some commands need none)."""

    config_path: Path
    _settings: Settings | None = field(default=None, repr=False)

    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config_path)
        return self._settings


app = typer.Typer(
    name="allegro-sync",
    help="Keep a warehouse database and an Allegro account in step.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="The ledger database.", no_args_is_help=True)
cursors_app = typer.Typer(help="Positions in the Allegro journals and the warehouse.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(cursors_app, name="cursors")


@app.callback()
def _global_options(
    ctx: typer.Context,
    config: Annotated[Path, typer.Option("--config", help="The configuration file.")] = Path("config.toml"),
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug details.")] = False,
) -> None:
    ctx.obj = AppState(config_path=config)
    configure_logging(logging.DEBUG if verbose else logging.INFO)


def configure_logging(level: int) -> None:
    """Readable log lines on stderr (rich), once per process."""
    root = logging.getLogger()
    if any(getattr(h, "_allegro_sync", False) for h in root.handlers):
        return
    from rich.console import Console
    from rich.logging import RichHandler

    handler = RichHandler(console=Console(stderr=True), show_path=False, rich_tracebacks=False)
    handler._allegro_sync = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.WARNING)  # libraries (alembic, httpx, apscheduler) only when something is wrong
    for name in ("allegro_sync", "engine", "adapters", "emulator"):
        logging.getLogger(name).setLevel(level)


def state_of(ctx: typer.Context) -> AppState:
    assert isinstance(ctx.obj, AppState)
    return ctx.obj


@contextlib.contextmanager
def open_state(settings: Settings) -> Iterator[Ledger]:
    """The ledger named by `[engine].state_url` (it must have been created with `db upgrade`)."""
    from adapters.ledger import open_ledger

    ledger = open_ledger(settings.engine.state_url.reveal())
    try:
        yield ledger
    finally:
        ledger.close()


def age_text(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit}"
    return f"{max(seconds, 0):.0f} s"


# ------------------------------------------------------------------------------------------------ db


def upgrade_ledger(settings: Settings) -> str:
    """Create the ledger or migrate it to the newest revision; say what changed."""
    from adapters.ledger import current_revision, upgrade
    from engine.lock import acquire_cycle_lock

    url = settings.engine.state_url
    path = sqlite_path(url.reveal())
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    with acquire_cycle_lock(url.reveal(), LOCK_WAIT_SECONDS):
        before = current_revision(url.reveal()) if path is None or path.exists() else None
        upgrade(url.reveal())
        after = current_revision(url.reveal())
    if before == after:
        return f"ledger {url} is already at revision {after}"
    return f"ledger {url} upgraded from {before or 'empty'} to revision {after}"


@command(db_app, "upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Create the ledger database or bring it to the newest schema."""
    typer.echo(upgrade_ledger(state_of(ctx).settings()))


RECENT_DAYS = 60  # the order journal's retention: events inside it may be delivered again


@command(db_app, "compact")
def db_compact(
    ctx: typer.Context,
    before: Annotated[datetime, typer.Option("--before", help="Archive the events recorded before this date (UTC).")],
    archive: Annotated[
        Path | None, typer.Option("--archive", help="JSON-lines file to append them to (default: next to config).")
    ] = None,
    allow_recent: Annotated[
        bool, typer.Option("--allow-recent", help=f"Allow a date within the last {RECENT_DAYS} days.")
    ] = False,
) -> None:
    """Archive old events to a JSON-lines file and delete them, keeping a projection snapshot at the cut."""
    from datetime import timedelta

    from engine.compact import compact
    from engine.lock import acquire_cycle_lock

    settings = state_of(ctx).settings()
    before = before if before.tzinfo else before.replace(tzinfo=UTC)
    now = datetime.now(UTC)
    if before > now - timedelta(days=RECENT_DAYS) and not allow_recent:
        raise UsageError(
            f"db compact --before {before.date()}: within the order journal's {RECENT_DAYS}-day retention, whose "
            "events are the ledger's duplicate check; pick an older date or pass --allow-recent"
        )
    target = archive or settings.config_path.parent / f"ledger-archive-before-{before.date().isoformat()}.jsonl"
    with acquire_cycle_lock(settings.engine.state_url.reveal(), LOCK_WAIT_SECONDS), open_state(settings) as ledger:
        done = compact(ledger, before=before, archive=target, now=now)
    if not done.archived:
        typer.echo(f"nothing to compact before {before.isoformat()} (the ledger starts after {done.cut_seq})")
        return
    typer.echo(
        f"archived {done.archived} event(s) up to seq {done.cut_seq} to {done.archive}; "
        f"snapshot of {done.snapshot_rows} projection row(s) kept at seq {done.cut_seq}"
    )


# ------------------------------------------------------------------------------------------------ cursors


def cursor_rows(ledger: Ledger, now: datetime) -> list[dict[str, Any]]:
    return [
        {
            "name": c.name,
            "position": c.position,
            "updated_at": c.updated_at.isoformat(),
            "age_seconds": round((now - c.updated_at).total_seconds(), 1),
        }
        for c in ledger.cursors()
    ]


def check_cursor_name(name: str, current: dict[str, str | None]) -> None:
    valid = sorted(set(current) | {ORDERS_CURSOR, OFFERS_CURSOR, WAREHOUSE_CURSOR})
    if name not in valid:
        close = difflib.get_close_matches(name, valid, n=1)
        hint = f"did you mean {close[0]}?" if close else f"expected one of {', '.join(valid)}"
        raise UsageError(f"cursor {name}: unknown; {hint}")


def reset_cursor(ledger: Ledger, name: str, to: str, *, reason: str, now: datetime) -> dict[str, Any]:
    """Move cursor `name` to `to` (`beginning` or a position) as an `operator` CursorReset event."""
    from engine.events import CursorReset, encode

    current = {c.name: c.position for c in ledger.cursors()}
    check_cursor_name(name, current)
    if to == "latest":
        raise UsageError("--to latest: resolve it against Allegro first (engine.cursors.resolve_latest)")
    target = None if to == "beginning" else to
    event = CursorReset(
        occurred_at=now, cursor=name, from_position=current.get(name), to_position=target, reason=reason
    )
    ledger.append([encode(event, f"cursor-reset:{uuid.uuid4()}")], cursor=(name, target))
    if name == ORDERS_CURSOR and SWEEP_CURSOR in current:
        # The next sweep reads the whole window again (not only what changed since the last one), so that
        # the orders whose events the reset skips are found, as `reset_consequences` promises.
        sweep = CursorReset(
            occurred_at=now, cursor=SWEEP_CURSOR, from_position=current[SWEEP_CURSOR], to_position=None, reason=reason
        )
        ledger.append([encode(sweep, f"cursor-reset:{uuid.uuid4()}")], cursor=(SWEEP_CURSOR, None))
    return {"cursor": name, "from": current.get(name), "to": target, "reason": reason}


@command(cursors_app, "list")
def cursors_list(ctx: typer.Context) -> None:
    """Show each cursor's position and how long ago it moved."""
    from rich.console import Console
    from rich.table import Table

    with open_state(state_of(ctx).settings()) as ledger:
        rows = cursor_rows(ledger, datetime.now(UTC))
    table = Table("name", "position", "age")
    for row in rows:
        table.add_row(row["name"], row["position"] or "(beginning)", age_text(row["age_seconds"]))
    Console(width=120).print(table if rows else "no cursors yet (the first cycle creates them)")


def reset_consequences(name: str, current: str | None, target: str | None, settings: Settings) -> list[str]:
    """What moving cursor `name` from `current` to `target` means: what is read again and what is skipped."""
    old, new = current or "(beginning)", target or "(beginning)"
    head = f"{name} from {old} to {new}"
    if current == target:
        return [f"{head}: the cursor is already there; nothing is skipped or read again."]
    reconcile = f"the next reconciliation (every {settings.engine.reconcile_hours:g} h) reads every offer"
    if name == "allegro.orders":
        if target is None:
            return [
                f"{head}: the whole order journal (60 days) is read again;",
                "events already in the ledger are recognised by their id and skipped, and order lines are",
                "decided from their state, so nothing is decremented twice.",
            ]
        if current is not None and current.isdigit() and target.isdigit() and int(target) < int(current):
            return [
                f"{head}: the order events between them are read again;",
                "they are recognised by their id and skipped, so nothing is decremented twice.",
            ]
        return [
            f"{head}: order events between them will NOT be read;",
            f"the checkout-form sweep covers orders bought in the last {CycleOptions().sweep_window_days} days;",
            "older orders missed this way need `allegro-sync sync --since DATE`.",
        ]
    if name == "allegro.offers":
        if target is None:
            return [
                f"{head}: the offer journal (24 hours) is read again; known events are skipped,",
                "changed offers are read back once.",
            ]
        return [
            f"{head}: offer events between them will NOT be read (if {new} is ahead of {old});",
            f"{reconcile}, which catches any change missed that way.",
        ]
    if name == "warehouse.products":
        return [
            f"{head}: every product row is read and compared again on the next cycle;",
            "rows that match the projection add nothing to the ledger.",
        ]
    return [f"{head}: the engine uses the new position on its next cycle."]


def stdin_is_terminal() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


@command(cursors_app, "reset")
def cursors_reset(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="allegro.orders, allegro.offers or warehouse.products")],
    to: Annotated[str, typer.Option("--to", help="latest, beginning or an explicit POSITION")],
    reason: Annotated[str, typer.Option("--reason", help="Why; kept in the ledger.")] = "",
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Move a cursor after saying what will be re-read or skipped; recorded as an operator event (who, from, to, why).

    Asks for confirmation on a terminal; without a terminal, `--yes` is required.
    """
    who = f"{getpass.getuser()}@{socket.gethostname()}"
    from engine.lock import acquire_cycle_lock

    settings = state_of(ctx).settings()
    with open_state(settings) as ledger:
        current = {c.name: c.position for c in ledger.cursors()}
    check_cursor_name(name, current)  # before asking Allegro where `latest` is
    if to == "latest":
        import asyncio

        from engine.cursors import resolve_latest

        to = asyncio.run(resolve_latest(settings, name)) or "beginning"
    target = None if to == "beginning" else to
    for line in reset_consequences(name, current.get(name), target, settings):
        typer.echo(line)
    if not yes:
        if not stdin_is_terminal():
            raise UsageError(f"cursors reset {name}: not confirmed; run it in a terminal or pass --yes")
        if not typer.confirm("Move the cursor?", default=False):
            typer.echo("nothing changed")
            raise typer.Exit(EXIT_ERROR)
    with acquire_cycle_lock(settings.engine.state_url.reveal(), LOCK_WAIT_SECONDS), open_state(settings) as ledger:
        done = reset_cursor(ledger, name, to, reason=f"{who}: {reason or 'no reason given'}", now=datetime.now(UTC))
    typer.echo(f"cursor {name} moved from {done['from'] or '(beginning)'} to {done['to'] or '(beginning)'}")


# ------------------------------------------------------------------------------------------------ status


def collect_status(settings: Settings, ledger: Ledger, now: datetime) -> dict[str, Any]:
    """The health summary `status` prints (engine.status.collect; schema engine.status.SCHEMA)."""
    from engine.status import collect

    return collect(settings, ledger, now)


def status_text(status: dict[str, Any]) -> str:
    from engine.status import text

    return text(status)


@command(app, "status")
def status(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False
) -> None:
    """Account, cursors, last cycles, the outbox, listing problems, holds, drift (--json for monitoring)."""
    settings = state_of(ctx).settings()
    with open_state(settings) as ledger:
        result = collect_status(settings, ledger, datetime.now(UTC))
    if as_json:
        sys.stdout.write(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        typer.echo(status_text(result))


# ------------------------------------------------------------------------------------------------ emulator


@command(app, "emulator")
def emulator(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8900,
) -> None:
    """Serve the Allegro emulator (for the demo and tests) until Ctrl+C."""
    from emulator.server import serve

    if not is_loopback(host):
        typer.echo(f"warning: the emulator on {host} has no real security; keep it off public networks", err=True)
    typer.echo(f"emulator on http://{host}:{port} (Ctrl+C stops it)", err=True)
    serve(host, port)


def main() -> None:
    """Console-script entry point (`allegro-sync`)."""
    try:
        app(prog_name="allegro-sync")
    except SyncError as exc:  # raised outside a command (e.g. in a callback)
        sys.exit(report_error(exc))
    except KeyboardInterrupt:
        sys.exit(130)


from engine import cli_cycle  # noqa: E402,F401  (registers sync, run, replay, commands, auth, demo)

if __name__ == "__main__":
    # `python -m engine.cli`: run the imported module's app, on which cli_cycle registered its commands.
    from engine.cli import main as imported_main

    imported_main()
