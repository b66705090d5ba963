"""The long crash campaign (`make crash-campaign`): ROUNDS kill/restart rounds split over SHARDS independent
worlds (seeds SEED, SEED+1, ...), JOBS of them at a time, each one `pytest -m slow` run of
`test_long_crash_campaign` with its own emulator, warehouse, ledger and temp folder.

Why several worlds of about a thousand rounds rather than one of 10,000: the test moves the emulator's clock
ahead of the engine's (to get past journal grace periods without waiting), so from the engine's side every
checkout form of the world stays "recent" and every cycle's sweep reads all of them; a round costs more the
longer a world lives (engine CPU per cycle 0.06 s at the start, 0.11 s after 1,250 rounds, 0.30 s after about
2,400). In a deployment both clocks agree and a sweep reads what changed. Each world checks every invariant
at its end; the figures are merged into `results/crash-campaign.json`.

    python -m tests.reliability.long_campaign --rounds 10000 --shards 8 --jobs 2 [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[2]
RESULTS = Path(__file__).with_name("results") / "crash-campaign.json"
TEST = "tests/reliability/test_crash_campaign.py::test_long_crash_campaign"


@dataclass
class Shard:
    number: int
    seed: int
    rounds: int
    folder: Path
    process: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None
    started: float = 0.0
    code: int | None = None
    shown: set[str] = field(default_factory=set)

    @property
    def results(self) -> Path:
        return self.folder / "result.json"

    @property
    def log_path(self) -> Path:
        return self.folder / "pytest.log"

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        env = os.environ | {
            "ALLEGRO_SYNC_CRASH_ROUNDS": str(self.rounds),
            "ALLEGRO_SYNC_CRASH_SEED": str(self.seed),
            "ALLEGRO_SYNC_CRASH_RESULTS": str(self.results),
            "ALLEGRO_SYNC_RECORD_RESULTS": "1",
        }
        self.log = self.log_path.open("wb")
        command = [sys.executable, "-m", "pytest", "-m", "slow", "-s", "-q", "-p", "no:cacheprovider", TEST]
        self.process = subprocess.Popen(
            [*command, f"--basetemp={self.folder / 'tmp'}"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.started = time.monotonic()
        print(f"[world {self.number} seed {self.seed}] started: {self.rounds} rounds, log {self.log_path}", flush=True)

    def poll(self) -> bool:
        """Print its new progress lines; True once it has ended."""
        assert self.process is not None and self.log is not None
        for line in self.log_path.read_text(errors="replace").splitlines():
            if "crash campaign:" in line:
                progress = line[line.index("crash campaign:") :]
                if progress not in self.shown:
                    self.shown.add(progress)
                    print(f"[world {self.number} seed {self.seed}] {progress}", flush=True)
        self.code = self.process.poll()
        if self.code is None:
            return False
        self.log.close()
        verdict = "passed" if self.code == 0 else f"FAILED (exit {self.code}; see {self.log_path})"
        print(f"[world {self.number} seed {self.seed}] {verdict} after {time.monotonic() - self.started:.0f} s")
        return True


def merged(shards: list[Shard], wall_seconds: float) -> dict[str, Any]:
    """The worlds' results side by side, and their sums."""
    worlds: list[dict[str, Any]] = []
    totals: dict[str, Counter[str]] = {"kills_by_point": Counter(), "world_actions": Counter(), "checked": Counter()}
    sums: Counter[str] = Counter()
    failures: list[str] = []
    for shard in shards:
        if not shard.results.exists():
            failures.append(f"world {shard.number} (seed {shard.seed}): no result (exit {shard.code})")
            continue
        result = next(iter(json.loads(shard.results.read_text()).values()))
        worlds.append({"world": shard.number, "seed": shard.seed, "exit": shard.code, **result})
        for key in ("rounds", "kills", "runs_not_killed", "process_runs"):
            sums[key] += int(result[key])
        for key, counter in totals.items():
            counter.update(result[key])
        failures += [f"world {shard.number} (seed {shard.seed}): {f}" for f in result["failures"]]
        if shard.code != 0 and not result["failures"]:
            failures.append(f"world {shard.number} (seed {shard.seed}): pytest exit {shard.code}")
    return {
        **dict(sums),
        **{key: dict(sorted(counter.items())) for key, counter in totals.items()},
        "worlds": len(shards),
        "wall_seconds": round(wall_seconds, 1),
        "failures": failures,
        "per_world": worlds,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.long_campaign", description=__doc__)
    parser.add_argument("--rounds", type=int, default=10_000, help="kill/restart rounds in all (default 10,000)")
    parser.add_argument("--shards", type=int, default=8, help="independent worlds to split them over (default 8)")
    parser.add_argument("--jobs", type=int, default=2, help="worlds run at the same time (default 2)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the first world (default 7)")
    args = parser.parse_args(argv)
    per_world = math.ceil(args.rounds / args.shards)
    folder = Path(tempfile.mkdtemp(prefix="allegro-sync-crash-campaign-"))
    shards = [Shard(number, args.seed + number, per_world, folder / f"world-{number}") for number in range(args.shards)]
    started = time.monotonic()
    waiting, running = list(shards), []
    while waiting or running:
        while waiting and len(running) < args.jobs:
            shard = waiting.pop(0)
            shard.start()
            running.append(shard)
        time.sleep(5)
        running = [shard for shard in running if not shard.poll()]
    result = merged(shards, time.monotonic() - started)
    RESULTS.parent.mkdir(exist_ok=True)
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    name = f"long-{per_world * args.shards}-{args.shards}x{per_world}-seed-{args.seed}"
    data[name] = result
    RESULTS.write_text(json.dumps(data, indent=2) + "\n")
    summary = {k: v for k, v in result.items() if k != "per_world"}
    print(json.dumps(summary, indent=2))
    print(f"recorded as {name!r} in {RESULTS}")
    return 0 if not result["failures"] else 1


if __name__ == "__main__":
    sys.exit(main())
