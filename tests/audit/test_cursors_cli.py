"""`cursors reset`: says what will be re-read or skipped, asks on a terminal, needs --yes without one."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from adapters.ledger import open_ledger, upgrade
from engine.cli import reset_consequences
from engine.settings import load_settings
from tests.audit.conftest import cli

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    upgrade(url)
    path = tmp_path / "config.toml"
    shipped = (REPO / "config.toml").read_text(encoding="utf-8")
    path.write_text(shipped.replace('state_url = "sqlite:///state.db"', f'state_url = "{url}"'), encoding="utf-8")
    return path


def _events(config: Path) -> list[str]:
    with open_ledger(load_settings(config).engine.state_url.reveal()) as ledger:
        return [e.type for e in ledger.events()]


def test_without_a_terminal_and_without_yes_it_explains_then_refuses(config: Path) -> None:
    code, out, err = cli(config, "cursors", "reset", "allegro.orders", "--to", "4711")
    assert code == 2
    assert out.splitlines()[0] == "allegro.orders from (beginning) to 4711: order events between them will NOT be read;"
    assert "the checkout-form sweep covers orders bought in the last 10 days;" in out
    assert "`allegro-sync sync --since DATE`" in out
    assert err == "error: cursors reset allegro.orders: not confirmed; run it in a terminal or pass --yes\n"
    assert _events(config) == []


def test_with_yes_it_moves_the_cursor_as_an_operator_event(config: Path) -> None:
    code, out, err = cli(config, "cursors", "reset", "allegro.offers", "--to", "abc", "--yes", "--reason", "audit")
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == "cursor allegro.offers moved from (beginning) to abc"
    assert _events(config) == ["CursorReset"]


def test_each_cursor_says_what_a_reset_reads_again_or_skips(config: Path) -> None:
    settings = load_settings(config)
    to_beginning = " ".join(reset_consequences("allegro.orders", "99", None, settings))
    assert (
        "the whole order journal (60 days) is read again" in to_beginning
        and "nothing is decremented twice" in to_beginning
    )
    back = " ".join(reset_consequences("allegro.orders", "120", "100", settings))
    assert "the order events between them are read again" in back and "nothing is decremented twice" in back
    assert "already there" in " ".join(reset_consequences("allegro.orders", "7", "7", settings))
    offers = " ".join(reset_consequences("allegro.offers", "a", "b", settings))
    assert "offer events between them will NOT be read" in offers and "reconciliation (every 24 h)" in offers
    warehouse = " ".join(reset_consequences("warehouse.products", "{}", None, settings))
    assert "every product row is read and compared again" in warehouse


def _on_a_terminal(config: Path, answer: bytes) -> tuple[int, str]:
    """Run the real command with its stdin on a pseudo-terminal and type `answer` at the prompt."""
    leader, follower = pty.openpty()
    command = [sys.executable, "-c", "from engine.cli import main; main()"]
    args = ["--config", str(config), "cursors", "reset", "allegro.offers", "--to", "abc"]
    env = {**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1"}
    process = subprocess.Popen([*command, *args], stdin=follower, stdout=follower, stderr=follower, env=env)
    os.close(follower)
    seen = b""
    deadline = time.monotonic() + 30
    try:
        while b"Move the cursor?" not in seen and time.monotonic() < deadline:
            if select.select([leader], [], [], 0.5)[0]:
                seen += os.read(leader, 4096)
        os.write(leader, answer)
        code = process.wait(timeout=30)
        while select.select([leader], [], [], 0.2)[0]:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(leader)
        if process.poll() is None:
            process.kill()
            process.wait()
    return code, seen.decode(errors="replace")


def test_on_a_terminal_it_asks_and_no_changes_nothing(config: Path) -> None:
    code, shown = _on_a_terminal(config, b"n\n")
    assert code == 1 and "offer events between them will NOT be read" in shown and "nothing changed" in shown
    assert _events(config) == []
    code, shown = _on_a_terminal(config, b"y\n")
    assert code == 0 and "cursor allegro.offers moved from (beginning) to abc" in shown
    assert _events(config) == ["CursorReset"]
