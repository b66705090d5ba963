"""The long campaign's runner merges its worlds' results: sums, and every failure named with its world."""

from __future__ import annotations

import json
from pathlib import Path

from tests.reliability.long_campaign import Shard, merged


def _world(folder: Path, number: int, *, code: int, failures: list[str], kills: int) -> Shard:
    shard = Shard(number, 7 + number, 10, folder / f"world-{number}", code=code)
    shard.folder.mkdir(parents=True)
    result = {
        "rounds": 10,
        "kills": kills,
        "runs_not_killed": 10 - kills,
        "process_runs": 21,
        "kills_by_point": {"random": kills},
        "world_actions": {"purchase": 12},
        "checked": {"orders": 12, "units": 20},
        "failures": failures,
    }
    shard.results.write_text(json.dumps({f"long-10-seed-{7 + number}": result}))
    return shard


def test_worlds_are_summed(tmp_path: Path) -> None:
    shards = [_world(tmp_path, n, code=0, failures=[], kills=6 + n) for n in range(3)]
    result = merged(shards, 12.5)
    assert (result["rounds"], result["kills"], result["process_runs"]) == (30, 21, 63)
    assert result["kills_by_point"] == {"random": 21} and result["checked"] == {"orders": 36, "units": 60}
    assert result["failures"] == [] and [w["seed"] for w in result["per_world"]] == [7, 8, 9]


def test_a_failed_or_missing_world_is_a_failure_of_the_campaign(tmp_path: Path) -> None:
    failed = _world(tmp_path, 0, code=1, failures=["line x: taken off 2x"], kills=5)
    crashed = _world(tmp_path, 1, code=2, failures=[], kills=5)
    missing = Shard(2, 9, 10, tmp_path / "world-2", code=1)
    result = merged([failed, crashed, missing], 1.0)
    assert result["failures"] == [
        "world 0 (seed 7): line x: taken off 2x",
        "world 1 (seed 8): pytest exit 2",
        "world 2 (seed 9): no result (exit 1)",
    ]
