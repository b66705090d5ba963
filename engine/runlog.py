"""The per-cycle record: one JSON line in a daily file and one readable console line, with secrets masked."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import orjson

log = logging.getLogger("allegro_sync.cycle")

MASK = "***"
_PATTERNS = (
    # Authorization headers and bearer tokens wherever they appear.
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 " + MASK),
    # OAuth fields in JSON, form bodies or query strings: access_token, refresh_token, client_secret, ...
    (
        re.compile(
            r"""(?i)(["']?\b(?:access_token|refresh_token|id_token|client_secret|password|device_code)"""
            r"""\b["']?\s*[:=]\s*["']?)[^"'&\s,}]+"""
        ),
        r"\1" + MASK,
    ),
    # user:password@ in URLs.
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@/\s]+@"), r"\1" + MASK + "@"),
    # JWT-shaped strings (Allegro access tokens are JWTs).
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"), MASK),
)


class Scrubber:
    """Masks the known secret values it was given and anything shaped like a token or a URL password."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret containing another is masked whole; very short values would mask noise.
        self._secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self._secrets:
            value = value.replace(secret, MASK)
        for pattern, replacement in _PATTERNS:
            value = pattern.sub(replacement, value)
        return value

    def value(self, value: Any) -> Any:
        """`value` with every string inside it (keys included) scrubbed."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.text(str(k)): self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self.value(v) for v in value]
        return value


@dataclass(frozen=True, slots=True, kw_only=True)
class CycleReport:
    """What one cycle did. `outcome` is ok, problems (some items skipped), failed or skipped (lock busy)."""

    started_at: datetime
    duration_seconds: float
    outcome: str
    events_in: Mapping[str, int] = field(default_factory=dict)  # stream -> events appended
    commands_out: Mapping[str, int] = field(default_factory=dict)  # command kind -> commands sent
    errors: Sequence[str] = ()
    dry_run: bool = False
    details: Mapping[str, Any] = field(default_factory=dict)  # anything else worth keeping (JSON-able)

    def as_record(self) -> dict[str, Any]:
        return {
            "ts": self.started_at.astimezone(UTC).isoformat(timespec="milliseconds"),
            "outcome": self.outcome,
            "duration_seconds": round(self.duration_seconds, 3),
            "events_in": dict(self.events_in),
            "commands_out": dict(self.commands_out),
            "error_count": len(self.errors),
            "errors": list(self.errors),
            "dry_run": self.dry_run,
            **({"details": dict(self.details)} if self.details else {}),
        }


def summary_line(record: Mapping[str, Any]) -> str:
    """The readable console form of a cycle record."""

    def counts(values: Mapping[str, int]) -> str:
        return " ".join(f"{k}={v}" for k, v in sorted(values.items()) if v) or "none"

    errors = list(record.get("errors") or [])
    if record.get("stopped"):
        errors.insert(0, f"stopped: {record['stopped']}")
    text = (
        f"cycle {record.get('outcome', '?')} in {float(record.get('duration_seconds', 0)):.2f} s"
        f"{' (dry run)' if record.get('dry_run') else ''}: events in {counts(record.get('events_in') or {})}; "
        f"commands out {counts(record.get('commands_out') or {})}; {len(errors)} error(s)"
    )
    held = f"; {record['held']} held for an operator" if record.get("held") else ""
    return text + held + (f"; first: {errors[0]}" if errors else "")


class HasAsDict(Protocol):
    def as_dict(self) -> Mapping[str, Any]: ...


class RunLog:
    """Appends one line per cycle to `<log_dir>/allegro-sync-YYYY-MM-DD.jsonl` (UTC date of the cycle start)."""

    def __init__(self, log_dir: Path, *, secrets: Iterable[str] = ()) -> None:
        self.log_dir = log_dir
        self.scrub = Scrubber(secrets)

    def path_for(self, when: datetime) -> Path:
        return self.log_dir / f"allegro-sync-{when.astimezone(UTC).date().isoformat()}.jsonl"

    def write(self, report: CycleReport | HasAsDict | Mapping[str, Any]) -> Path:
        """Record one cycle: the scrubbed JSON line first (the durable record), then the console line.

        Accepts this module's `CycleReport`, any object with `as_dict()` (the cycle's own report) or a dict;
        the day of the file comes from `ts` or `started_at`.
        """
        if isinstance(report, CycleReport):
            record = report.as_record()
        elif isinstance(report, Mapping):
            record = dict(report)
        else:
            record = dict(report.as_dict())
        record = self.scrub.value(record)
        when = _parse_ts(record.get("ts") or record.get("started_at"))
        path = self.path_for(when)
        path.parent.mkdir(parents=True, exist_ok=True)
        line = orjson.dumps(record, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SORT_KEYS, default=str)
        with path.open("ab") as handle:  # one write of a whole line: concurrent appenders do not interleave
            handle.write(line + b"\n")
        level = logging.INFO if record.get("outcome") in ("ok", "skipped", None) else logging.WARNING
        log.log(level, "%s", summary_line(record))
        return path


def _parse_ts(value: object) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except ValueError:
            pass
    return datetime.now(UTC)
