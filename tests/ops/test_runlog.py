"""The run log: one scrubbed JSON line per cycle in a daily file, and a readable console line."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from engine.runlog import CycleReport, RunLog, Scrubber

START = datetime(2026, 11, 28, 7, 0, tzinfo=UTC)


def report(**overrides: object) -> CycleReport:
    fields: dict[str, object] = {
        "started_at": START,
        "duration_seconds": 1.23456,
        "outcome": "ok",
        "events_in": {"warehouse": 3, "allegro.orders": 1},
        "commands_out": {"change_quantity": 2},
    }
    fields.update(overrides)
    return CycleReport(**fields)  # type: ignore[arg-type]


def read_lines(path: Path) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_each_cycle_appends_one_line_to_the_daily_file(tmp_path: Path) -> None:
    runlog = RunLog(tmp_path / "logs")
    first = runlog.write(report())
    second = runlog.write(report(outcome="problems", errors=["product 7: category 'KABLE' has no mapping"]))
    next_day = runlog.write(report(started_at=START + timedelta(days=1)))

    assert first == second == tmp_path / "logs" / "allegro-sync-2026-11-28.jsonl"
    assert next_day.name == "allegro-sync-2026-11-29.jsonl"
    lines = read_lines(first)
    assert len(lines) == 2
    assert lines[0] == {
        "ts": "2026-11-28T07:00:00.000+00:00",
        "outcome": "ok",
        "duration_seconds": 1.235,
        "events_in": {"warehouse": 3, "allegro.orders": 1},
        "commands_out": {"change_quantity": 2},
        "error_count": 0,
        "errors": [],
        "dry_run": False,
    }
    assert lines[1]["error_count"] == 1


def test_console_line_is_readable(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="allegro_sync.cycle"):
        RunLog(tmp_path).write(report(outcome="problems", errors=["product 7: bad price"]))
    assert caplog.messages == [
        "cycle problems in 1.24 s: events in allegro.orders=1 warehouse=3; commands out change_quantity=2; "
        "1 error(s); first: product 7: bad price"
    ]
    assert caplog.records[0].levelno == logging.WARNING


def test_known_secrets_and_token_shapes_never_reach_the_file(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    secret = "s3cr3t-client-value"
    errors = [
        f"POST /auth/oauth/token failed: client_secret={secret}",
        "401 with header Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123456789",
        '{"access_token": "opaque-access-value", "refresh_token":"opaque-refresh-value"}',
        "cannot connect to mysql+pymysql://shop:hunter2pw@db.local/shop",
        "token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXBhcnQ",
    ]
    with caplog.at_level(logging.INFO, logger="allegro_sync.cycle"):
        path = RunLog(tmp_path, secrets=[secret]).write(report(errors=errors, details={"note": secret}))
    text = path.read_text() + "\n".join(caplog.messages)
    for leaked in (secret, "abcdefghijklmnop", "opaque-access-value", "opaque-refresh-value", "hunter2pw",
                   "eyJhbGciOiJSUzI1NiJ9"):  # fmt: skip
        assert leaked not in text
    record = read_lines(path)[0]
    assert record["errors"] == [
        "POST /auth/oauth/token failed: client_secret=***",
        "401 with header Authorization: Bearer ***",
        '{"access_token": "***", "refresh_token":"***"}',
        "cannot connect to mysql+pymysql://shop:***@db.local/shop",
        "token ***",
    ]
    assert record["details"] == {"note": "***"}


def test_scrubber_leaves_ordinary_text_alone() -> None:
    scrub = Scrubber(["abc", "longsecret"])  # values shorter than 4 characters are not masked
    text = "product 1043: category 'KABLE' has no mapping in [mapping.categories]; abc"
    assert scrub.text(text) == text
    assert scrub.value({"a": ["longsecret", 3]}) == {"a": ["***", 3]}


def test_plain_dict_reports_are_accepted(tmp_path: Path) -> None:
    path = RunLog(tmp_path).write({"ts": "2026-11-28T23:59:59+00:00", "outcome": "skipped", "errors": []})
    assert path.name == "allegro-sync-2026-11-28.jsonl"
    assert read_lines(path)[0]["outcome"] == "skipped"


class CycleLikeReport:
    """Stands for the cycle's own report type: anything with `as_dict()`."""

    def as_dict(self) -> dict[str, object]:
        return {
            "started_at": "2026-11-27T10:00:00+00:00", "outcome": "stopped", "stopped": "token revoked",
            "events_in": {}, "commands_out": {}, "errors": [], "held": 2, "duration_seconds": 0.5,
        }  # fmt: skip


def test_reports_with_as_dict_are_accepted(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="allegro_sync.cycle"):
        path = RunLog(tmp_path).write(CycleLikeReport())
    assert path.name == "allegro-sync-2026-11-27.jsonl"
    assert read_lines(path)[0]["held"] == 2
    assert caplog.messages == [
        "cycle stopped in 0.50 s: events in none; commands out none; 1 error(s); 2 held for an operator; "
        "first: stopped: token revoked"
    ]
