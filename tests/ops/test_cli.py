"""The CLI through its entry points: exit codes, one-line errors, db upgrade, cursors, status."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from adapters.ledger import open_ledger
from adapters.memory_ledger import MemoryLedger
from engine.cli import UsageError, app, reset_cursor
from engine.settings import load_settings

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 28, 7, 0, tzinfo=UTC)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """The shipped config.toml in a fresh folder, so the ledger is a new file there."""
    path = tmp_path / "config.toml"
    shutil.copyfile(REPO / "config.toml", path)
    return path


def run(config: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["--config", str(config), *args])
    return result.exit_code, result.stdout, result.stderr


def test_db_upgrade_creates_a_new_ledger_file_then_is_idempotent(config: Path) -> None:
    code, out, err = run(config, "db", "upgrade")
    assert (code, err) == (0, "")
    assert out.startswith(f"ledger sqlite:///{config.parent / 'state.db'} upgraded from empty to revision ")
    assert (config.parent / "state.db").exists()
    code, out, _ = run(config, "db", "upgrade")
    assert code == 0 and "is already at revision" in out


def test_config_error_exits_2_with_one_line_on_stderr(config: Path) -> None:
    config.write_text(config.read_text().replace("poll_seconds = 30", "pol_seconds = 30"))
    code, out, err = run(config, "status")
    assert code == 2
    assert out == ""
    assert err == "error: [engine].pol_seconds: unknown key; did you mean poll_seconds?\n"


def test_missing_config_file_is_one_line(tmp_path: Path) -> None:
    code, _, err = run(tmp_path / "nope.toml", "db", "upgrade")
    assert code == 2
    assert err == f"error: {tmp_path / 'nope.toml'}: not found; expected a config.toml here (or pass --config PATH)\n"


def test_commands_on_a_ledger_not_created_yet_say_to_upgrade(config: Path) -> None:
    code, _, err = run(config, "status")
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("error: ledger ") and "allegro-sync db upgrade" in err
    assert "Traceback" not in err


def test_cursors_reset_is_recorded_as_an_operator_event(config: Path) -> None:
    assert run(config, "db", "upgrade")[0] == 0
    code, out, err = run(
        config, "cursors", "reset", "allegro.orders", "--to", "4711", "--reason", "lost events", "--yes"
    )
    assert (code, err) == (0, "")
    assert out.startswith("allegro.orders from (beginning) to 4711: order events between them will NOT be read")
    assert out.endswith("cursor allegro.orders moved from (beginning) to 4711\n")
    code, out, _ = run(config, "cursors", "reset", "allegro.orders", "--to", "beginning", "--yes")
    assert code == 0 and out.endswith("cursor allegro.orders moved from 4711 to (beginning)\n")

    with open_ledger(load_settings(config).engine.state_url.reveal()) as ledger:
        events = list(ledger.events())
        assert ledger.cursor("allegro.orders") is None
    assert [(e.stream, e.type, e.entity) for e in events] == [("operator", "CursorReset", "cursor:allegro.orders")] * 2
    first = events[0].payload
    assert first["cursor"] == "allegro.orders"
    assert (first["from_position"], first["to_position"]) == (None, "4711")
    assert first["reason"].endswith(": lost events") and "@" in first["reason"]  # who, from where, why
    assert events[0].source_key != events[1].source_key


def test_cursors_list_shows_name_position_and_age(config: Path) -> None:
    run(config, "db", "upgrade")
    run(config, "cursors", "reset", "warehouse.products", "--to", "2026-11-28 06:00:00", "--yes")
    code, out, _ = run(config, "cursors", "list")
    assert code == 0
    header, row = [line for line in out.splitlines() if "│" in line or "┃" in line][:2]
    assert [c.strip() for c in header.strip("┃ ").split("┃")] == ["name", "position", "age"]
    assert [c.strip() for c in row.strip("│ ").split("│")][:2] == ["warehouse.products", "2026-11-28 06:00:00"]


def test_unknown_cursor_names_the_nearest(config: Path) -> None:
    run(config, "db", "upgrade")
    code, _, err = run(config, "cursors", "reset", "allegro.order", "--to", "beginning")
    assert (code, err) == (2, "error: cursor allegro.order: unknown; did you mean allegro.orders?\n")


def test_reset_refuses_latest_as_a_literal_position() -> None:
    with pytest.raises(UsageError, match="--to latest"):
        reset_cursor(MemoryLedger(), "allegro.orders", "latest", reason="x", now=NOW)


def test_status_json_parses(config: Path) -> None:
    run(config, "db", "upgrade")
    run(config, "cursors", "reset", "allegro.offers", "--to", "abc", "--yes")
    code, out, err = run(config, "status", "--json")
    assert (code, err) == (0, "")
    status = orjson.loads(out)
    assert status["ledger"] == {"head_seq": 1, "folded_seq": 0, "unfolded": 1}
    assert status["state_file"] == str(config.parent / "state.db")
    assert [c["name"] for c in status["cursors"]] == ["allegro.offers"]
    assert status["commands"] == {"pending": 0, "held": 0, "sent": 0, "failed": 0, "dead": 0, "done": 0}
    code, out, _ = run(config, "status")
    assert code == 0 and "head seq 1, folded 0" in out


def test_reset_cursor_on_the_memory_ledger_moves_the_cursor_with_the_event() -> None:
    ledger = MemoryLedger()
    done = reset_cursor(ledger, "allegro.offers", "42", reason="me@host: test", now=NOW)
    assert done == {"cursor": "allegro.offers", "from": None, "to": "42", "reason": "me@host: test"}
    assert ledger.cursor("allegro.offers") == "42"
    assert [e.type for e in ledger.events()] == ["CursorReset"]


def test_no_arguments_prints_help(config: Path) -> None:
    result = CliRunner().invoke(app, [])
    assert "db" in result.output and "cursors" in result.output and "status" in result.output


def test_emulator_warns_only_off_loopback() -> None:
    from engine.cli import is_loopback

    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.10") and not is_loopback("example.com")
