"""`allegro-sync status`: the operator's at-a-glance summary, from one projection load and a few cheap reads.

The JSON form (`status --json`) is for monitoring; its schema is `SCHEMA` and is documented in
README.md ("Operating it"). Keys are only ever added, never renamed, within one schema version.
Nothing secret is read into it: the account comes from the token file's claims, never the token.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import orjson

from engine.codec import parse_time
from engine.ingest import RETENTION
from engine.ports import Ledger, StoredEvent
from engine.settings import Settings, sqlite_path

SCHEMA = "allegro-sync.status/1"
COMMAND_STATUSES = ("pending", "held", "sent", "failed", "dead", "done")
FIRST = 5
"""How many examples each list shows (counts are always complete)."""
LISTED_COMMANDS = 20
RECENT_CYCLES = 50
"""Allegro keeps the order journal 60 days and the offer journal 24 hours."""
WARN_FRACTION, CRITICAL_FRACTION = 0.5, 0.8
RECONCILE_CURSOR = "allegro.reconcile"
RECONCILE_KEY = "reconcile:"  # source_key prefix of offers read by a reconciliation (engine/ingest.record_reads)


def collect(settings: Settings, ledger: Ledger, now: datetime) -> dict[str, Any]:
    """Everything `status` shows, as JSON-able data (see `SCHEMA`)."""
    url = settings.engine.state_url
    path = sqlite_path(url.reveal())
    folded_seq, rows = _attention_rows(ledger)
    head_seq = ledger.last_seq()
    counts = _command_counts(ledger)
    cursors = [cursor_health(c.name, c.position, c.updated_at, now) for c in ledger.cursors()]
    waiting = ledger.commands(statuses=["held", "failed", "dead"])
    projection = _projection_summary(rows.items())
    cycles = read_cycles(settings.engine.log_dir)
    status: dict[str, Any] = {
        "schema": SCHEMA,
        "generated_at": now.isoformat(),
        "config": str(settings.config_path),
        "environment": settings.allegro.environment,
        "state_url": str(url),
        "state_file": str(path) if path else None,
        "account": account(settings, now),
        "ledger": {"head_seq": head_seq, "folded_seq": folded_seq, "unfolded": head_seq - folded_seq},
        "compaction": {"snapshot_seq": _snapshot_seq(ledger)},
        "cursors": cursors,
        "cycles": cycles,
        "commands": {s: counts.get(s, 0) for s in COMMAND_STATUSES},
        "held": [_command(c) for c in waiting if c.status == "held"][:LISTED_COMMANDS],
        "failed": [_command(c) for c in waiting if c.status == "failed"][:LISTED_COMMANDS],
        "dead": [_command(c) for c in waiting if c.status == "dead"][:LISTED_COMMANDS],
        **projection,
        "drift": drift(ledger, now),
    }
    status["warnings"] = warnings(status)
    return status


# ------------------------------------------------------------------------------------------------ account


def account(settings: Settings, now: datetime) -> dict[str, Any]:
    """Who the stored login is for (seller id from the token's claims), never the token itself."""
    from adapters.allegro.auth import auth_status
    from adapters.allegro.tokens import TokenStore

    a = settings.allegro
    # auth_status reads only these two fields of the config: no client secret is needed to show the account.
    config = SimpleNamespace(environment=a.environment, client_id=a.client_id)
    try:
        found = auth_status(cast(Any, config), TokenStore(a.token_file), now=now)
    except (OSError, ValueError) as exc:
        return {"logged_in": False, "environment": a.environment, "problem": f"token file {a.token_file}: {exc}"}
    return {
        "logged_in": found.logged_in,
        "seller_id": found.seller_id,
        "environment": found.environment,
        "client_id": found.client_id,
        "expires_at": found.expires_at.isoformat() if found.expires_at else None,
        "expired": found.expired if found.logged_in else None,
        "token_file": str(found.token_file),
    }


# ------------------------------------------------------------------------------------------------ cursors


def cursor_health(name: str, position: str | None, updated_at: datetime, now: datetime) -> dict[str, Any]:
    """Position and age; for a journal cursor, how much of the journal's retention the age has used.

    The age is the time since the cursor last moved, a lower bound on the age of the event it points at:
    once that event is older than the retention, Allegro may refuse the cursor and the engine falls back to
    a full reconciliation (design.md section 8). Warning at 50 %, critical at 80 % of the retention.
    """
    age = max(0.0, (now - updated_at).total_seconds())
    row: dict[str, Any] = {
        "name": name,
        "position": position,
        "updated_at": updated_at.isoformat(),
        "age_seconds": round(age, 1),
        "retention_seconds": None,
        "retention_used": None,
        "seconds_left": None,
        "level": "ok",
        "message": None,
    }
    kept = RETENTION.get(name)
    retention = kept.total_seconds() if kept is not None else None
    if retention is None:
        return row
    used = age / retention
    left = max(0.0, retention - age)
    row |= {"retention_seconds": retention, "retention_used": round(used, 3), "seconds_left": round(left, 1)}
    if used >= WARN_FRACTION:
        row["level"] = "critical" if used >= CRITICAL_FRACTION else "warning"
        row["message"] = (
            f"{name}: last moved {duration_text(age)} ago, {used:.0%} of the journal's "
            f"{duration_text(retention)} retention ({duration_text(left)} left); if cycles are failing, fix them "
            "before then, or the engine will have to reconcile every offer and restart the journal"
            if left > 0
            else f"{name}: last moved {duration_text(age)} ago, past the journal's {duration_text(retention)} "
            "retention; the next cycle reconciles every offer and restarts the journal (nothing is lost, "
            "but it is a full read)"
        )
    return row


def duration_text(seconds: float) -> str:
    """`3 d 4 h`, `5 h 12 min`, `7 min`, `12 s`: two units at most."""
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days >= 2:
        return f"{days} d {hours} h" if hours else f"{days} d"
    hours += 24 * days
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min" if minutes else f"{secs} s"


# ------------------------------------------------------------------------------------------------ run log


def read_cycles(log_dir: Path, *, limit: int = RECENT_CYCLES) -> dict[str, Any]:
    """The newest cycle records of the run log (`<log_dir>/allegro-sync-YYYY-MM-DD.jsonl`), newest last."""
    records = _tail_records(log_dir, limit)
    by_outcome: dict[str, int] = {}
    for record in records:
        outcome = str(record.get("outcome", "?"))
        by_outcome[outcome] = by_outcome.get(outcome, 0) + 1
    last_ok = next((r for r in reversed(records) if r.get("outcome") == "ok"), None)
    return {
        "log_dir": str(log_dir),
        "recent": len(records),
        "by_outcome": by_outcome,
        "last": _cycle(records[-1]) if records else None,
        "last_ok_at": _started(last_ok) if last_ok else None,
    }


def _tail_records(log_dir: Path, limit: int) -> list[dict[str, Any]]:
    try:
        files = sorted(log_dir.glob("allegro-sync-*.jsonl"))
    except OSError:
        return []
    found: list[dict[str, Any]] = []
    for path in reversed(files[-2:]):  # today's file and yesterday's are enough for `limit` recent cycles
        lines = _last_lines(path, limit - len(found))
        found = [*_parse(lines), *found]
        if len(found) >= limit:
            break
    return found[-limit:]


def _last_lines(path: Path, count: int, chunk: int = 64 * 1024) -> list[bytes]:
    """The last `count` complete lines, reading backwards from the end (the file may be large)."""
    if count <= 0:
        return []
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        end = handle.tell()
        data = b""
        while end > 0 and data.count(b"\n") <= count:
            start = max(0, end - chunk)
            handle.seek(start)
            data = handle.read(end - start) + data
            end = start
    lines = [line for line in data.split(b"\n") if line.strip()]
    if end > 0:
        lines = lines[1:]  # the first one may be cut
    return lines[-count:]


def _parse(lines: Iterable[bytes]) -> list[dict[str, Any]]:
    parsed = []
    for line in lines:
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue  # a line being written right now
        if isinstance(value, dict):
            parsed.append(value)
    return parsed


def _started(record: Mapping[str, Any]) -> str | None:
    value = record.get("started_at") or record.get("ts")
    return str(value) if value else None


def _cycle(record: Mapping[str, Any]) -> dict[str, Any]:
    errors = list(record.get("errors") or [])
    return {
        "started_at": _started(record),
        "outcome": record.get("outcome"),
        "duration_seconds": record.get("duration_seconds"),
        "events_in": dict(record.get("events_in") or {}),
        "commands_out": dict(record.get("commands_out") or {}),
        "held": record.get("held", 0),
        "error_count": len(errors),
        "errors": errors[:FIRST],
        "stopped": record.get("stopped"),
    }


# ------------------------------------------------------------------------------------------------ projection


def _projection_summary(rows: Iterable[tuple[tuple[str, str], Mapping[str, Any]]]) -> dict[str, Any]:
    """Listing problems, increase holds, untrusted stock and unmapped lines, from the raw projection rows."""
    problems: list[dict[str, Any]] = []
    holds: list[dict[str, Any]] = []
    unknown: list[dict[str, Any]] = []
    unmapped: list[dict[str, Any]] = []
    for (kind, key), data in rows:
        if kind == "product":
            if data.get("problems"):
                problems.append({"product_id": key, "problems": list(data["problems"])})
            if data.get("hold_until"):
                holds.append({"product_id": key, "hold_until": data["hold_until"]})
            if data.get("unknown"):
                unknown.append({"product_id": key, "reason": data["unknown"]})
        elif kind == "line" and data.get("status") == "UNMAPPED":
            unmapped.append(
                {
                    "line": key,
                    "checkout_form_id": data.get("checkout_form_id"),
                    "offer_id": data.get("offer_id"),
                    "quantity": data.get("quantity"),
                    "bought_at": data.get("bought_at"),
                }
            )

    def first(items: list[dict[str, Any]], key: str) -> dict[str, Any]:
        return {"count": len(items), "first": sorted(items, key=lambda i: _natural(i[key]))[:FIRST]}

    return {
        "listing_problems": first(problems, "product_id"),
        "holds": first(holds, "product_id"),
        "unknown_stock": first(unknown, "product_id"),
        "unmapped_lines": first(unmapped, "line"),
    }


def _unprefixed(message: str, product_id: str) -> str:
    return message.replace(f"product {product_id}: ", "")


ATTENTION = ('"problems":["', '"hold_until":"', '"unknown":"', '"status":"UNMAPPED"')
"""JSON fragments of the projection rows `status` shows (a set value, not null or empty)."""


def _attention_rows(ledger: Ledger) -> tuple[int, dict[tuple[str, str], dict[str, Any]]]:
    """The folded seq and the product and line rows worth showing; the SQL ledger filters them in SQL."""
    containing = getattr(ledger, "projection_rows_containing", None)
    folded_of = getattr(ledger, "folded_seq", None)
    if callable(containing) and callable(folded_of):
        return int(folded_of()), dict(containing(("product", "line"), ATTENTION))
    return ledger.load_projection()


def _natural(key: str) -> tuple[int, int | str]:
    return (0, int(key)) if key.isdigit() else (1, key)


# ------------------------------------------------------------------------------------------------ drift


def drift(ledger: Ledger, now: datetime) -> dict[str, Any]:
    """How many offers the last reconciliation found different from the model.

    A reconciliation records the time it started as the `allegro.reconcile` position and moves the cursor
    when it is done; the offers it recorded are `OfferObserved` events keyed `reconcile:...` in between.
    """
    cursor = next((c for c in ledger.cursors() if c.name == RECONCILE_CURSOR), None)
    if cursor is None or not cursor.position:
        return {"last_reconcile_at": None, "age_seconds": None, "offers": 0}
    try:
        started = parse_time(cursor.position)
    except ValueError:
        started = cursor.updated_at
    counter = getattr(ledger, "count_events", None)
    if callable(counter):
        found = int(counter("allegro.offers", RECONCILE_KEY, started, cursor.updated_at))
    else:
        found = sum(1 for e in ledger.events() if _is_reconcile_read(e, started, cursor.updated_at))
    return {
        "last_reconcile_at": started.isoformat(),
        "age_seconds": round(max(0.0, (now - cursor.updated_at).total_seconds()), 1),
        "offers": found,
    }


def _is_reconcile_read(event: StoredEvent, start: datetime, end: datetime) -> bool:
    return (
        event.stream == "allegro.offers"
        and event.source_key.startswith(RECONCILE_KEY)
        and start <= event.recorded_at <= end
    )


# ------------------------------------------------------------------------------------------------ the rest


def _command_counts(ledger: Ledger) -> dict[str, int]:
    counts_of = getattr(ledger, "command_counts", None)
    if callable(counts_of):
        return dict(counts_of())
    counts: dict[str, int] = {}
    for record in ledger.commands():
        counts[record.status] = counts.get(record.status, 0) + 1
    return counts


def _snapshot_seq(ledger: Ledger) -> int:
    seq_of = getattr(ledger, "snapshot_seq", None)
    return int(seq_of()) if callable(seq_of) else 0


def _command(c: Any) -> dict[str, Any]:
    return {
        "id": c.id,
        "kind": c.kind,
        "target": c.target,
        "status": c.status,
        "attempts": c.attempts,
        "reason": c.reason,
        "last_error": c.last_error,
    }


def warnings(status: Mapping[str, Any]) -> list[str]:
    """One line per thing an operator should look at, most urgent first."""
    found = [c["message"] for c in status["cursors"] if c["level"] == "critical"]
    found += [c["message"] for c in status["cursors"] if c["level"] == "warning"]
    account = status["account"]
    if not account.get("logged_in"):
        found.append(f"not logged in to {account.get('environment')}: run `allegro-sync auth login`")
    elif account.get("expired"):
        found.append("the stored access token has expired; the next cycle refreshes it (or run `auth login`)")
    counts = status["commands"]
    if counts["dead"]:
        found.append(f"{counts['dead']} dead command(s): `allegro-sync commands list --failed`, then retry or skip")
    if counts["held"]:
        found.append(f"{counts['held']} command(s) held for approval: review, then `allegro-sync sync --approve`")
    last = status["cycles"]["last"]
    if last is not None and last["outcome"] not in ("ok", "skipped"):
        found.append(f"the last cycle ({last['started_at']}) ended {last['outcome']}: {'; '.join(last['errors'][:1])}")
    if status["ledger"]["unfolded"]:
        found.append(f"{status['ledger']['unfolded']} event(s) not folded yet (a cycle is running or failed)")
    return found


def now_utc() -> datetime:
    return datetime.now(UTC)


def text(status: Mapping[str, Any]) -> str:
    """The readable form: one line per topic, examples indented under it, warnings last."""
    ledger, commands, acct = status["ledger"], status["commands"], status["account"]
    if acct.get("logged_in"):
        expiry = "EXPIRED" if acct.get("expired") else f"token valid until {acct.get('expires_at')}"
        who = f"seller {acct.get('seller_id')} on {acct.get('environment')} ({expiry})"
    else:
        who = f"not logged in ({acct.get('environment')})"
    lines = [
        f"account      {who}",
        f"config       {status['config']} ({status['environment']})",
        f"ledger       {status['state_url']}: head seq {ledger['head_seq']}, folded {ledger['folded_seq']}"
        + (f", compacted up to {status['compaction']['snapshot_seq']}" if status["compaction"]["snapshot_seq"] else ""),
    ]
    for row in status["cursors"]:
        position = row["position"] or "(beginning)"
        if len(position) > 60:
            position = position[:57] + "..."
        line = f"cursor       {row['name']}: {position}, moved {duration_text(row['age_seconds'])} ago"
        if row["retention_seconds"] is not None:
            line += f" ({row['retention_used']:.0%} of {duration_text(row['retention_seconds'])} retention)"
        lines.append(line + (f"  [{row['level'].upper()}]" if row["level"] != "ok" else ""))
    cycles = status["cycles"]
    last = cycles["last"]
    if last is None:
        lines.append(f"last cycle   none recorded in {cycles['log_dir']}")
    else:
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(cycles["by_outcome"].items()))
        lines.append(
            f"last cycle   {last['started_at']}: {last['outcome']} in {float(last['duration_seconds'] or 0):.2f} s"
            f" (last {cycles['recent']}: {outcomes}; last ok {cycles['last_ok_at'] or 'never'})"
        )
        lines += [f"               {error}" for error in last["errors"]]
    lines.append("commands     " + ", ".join(f"{k} {v}" for k, v in commands.items()))
    for name in ("held", "failed", "dead"):
        for c in status[name][:FIRST]:
            detail = c["reason"] if name == "held" else c["last_error"] or c["reason"]
            lines.append(f"  {name:<6} {c['id']} {c['kind']} {c['target']}: {detail}")
    sections = (
        ("listing", "listing_problems", "product(s) with listing problems", lambda i: "; ".join(i["problems"])),
        ("holds", "holds", "product(s) on an increase hold", lambda i: f"until {i['hold_until']}"),
        ("unknown", "unknown_stock", "product(s) with untrusted stock", lambda i: i["reason"]),
    )
    for label, key, title, describe in sections:
        part = status[key]
        lines.append(f"{label:<12} {part['count']} {title}")
        lines += [f"  product {i['product_id']}: {_unprefixed(describe(i), i['product_id'])}" for i in part["first"]]
    unmapped = status["unmapped_lines"]
    lines.append(f"unmapped     {unmapped['count']} order line(s) whose offer maps to no product")
    lines += [f"  {i['quantity']} x offer {i['offer_id']} (form {i['checkout_form_id']})" for i in unmapped["first"]]
    found = status["drift"]
    if found["last_reconcile_at"] is None:
        lines.append("drift        no reconciliation yet")
    else:
        lines.append(
            f"drift        {found['offers']} offer(s) differed from the model at the last reconciliation "
            f"({found['last_reconcile_at']})"
        )
    lines += [f"WARNING      {w}" for w in status["warnings"]] or ["warnings     none"]
    return "\n".join(lines)
