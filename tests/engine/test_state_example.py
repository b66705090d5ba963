"""`state.db.example` stays at the head migration, replays exactly, and the operator commands work on it."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from adapters.ledger import current_revision, head_revision, open_ledger
from engine.cli import app
from engine.replay import differences, rebuild

EXAMPLE = Path(__file__).resolve().parents[2] / "state.db.example"


def _copy(tmp_path: Path) -> str:
    target = tmp_path / "state.db"
    shutil.copy(EXAMPLE, target)
    return f"sqlite:///{target}"


def test_example_ledger_is_at_the_head_migration(tmp_path: Path) -> None:
    assert current_revision(_copy(tmp_path)) == head_revision()


def test_example_ledger_replays_to_its_stored_projection_and_outbox(tmp_path: Path) -> None:
    ledger = open_ledger(_copy(tmp_path))
    try:
        folded, rows = ledger.load_projection()
        assert folded == ledger.last_seq() > 0
        rebuilt = rebuild(ledger.events())
        assert rebuilt.unreadable == []
        assert differences(rebuilt, rows, ledger.commands()) == []
        assert {c.kind for c in ledger.commands()} >= {"create_offer", "change_stock"}
    finally:
        ledger.close()


def test_operator_commands_work_on_the_example(tmp_path: Path) -> None:
    url = _copy(tmp_path)
    config = tmp_path / "config.toml"
    shipped = (Path(__file__).resolve().parents[2] / "config.toml").read_text(encoding="utf-8")
    config.write_text(shipped.replace('state_url = "sqlite:///state.db"', f'state_url = "{url}"'), encoding="utf-8")
    runner = CliRunner()
    base = ["--config", str(config)]
    upgraded = runner.invoke(app, [*base, "db", "upgrade"])
    assert upgraded.exit_code == 0 and "already at revision" in upgraded.output
    status = runner.invoke(app, [*base, "status", "--json"])
    assert status.exit_code == 0 and '"head_seq"' in status.output
    verified = runner.invoke(app, [*base, "replay", "--verify"])
    assert verified.exit_code == 0, verified.output
    reset = runner.invoke(
        app, [*base, "cursors", "reset", "allegro.offers", "--to", "beginning", "--reason", "test", "--yes"]
    )
    assert reset.exit_code == 0, reset.output
    after = runner.invoke(app, [*base, "replay", "--verify"])
    assert after.exit_code == 0, "an operator event keeps the ledger replayable"
