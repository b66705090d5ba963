"""Writes `state.db.example`: the ledger of a short scripted demo run (12 products, a day of trade).

Run `python -m demo.state_example` (or `make state-example`) after a change to the events or the schema;
tests/engine/test_state_example.py keeps the file at the head migration and replayable.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import tempfile
from pathlib import Path

from rich.console import Console

from engine.demo import run_demo

PRODUCTS = 12


def write_example(target: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "run"
        code = asyncio.run(run_demo(PRODUCTS, folder, Console(quiet=True)))
        if code:
            raise SystemExit(f"the demo run failed its invariants (exit {code}); state.db.example not written")
        target.unlink(missing_ok=True)
        source = sqlite3.connect(folder / "state.db")
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")
        finally:
            copy.close()
            source.close()


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("state.db.example")
    write_example(path)
    print(f"wrote {path}")
