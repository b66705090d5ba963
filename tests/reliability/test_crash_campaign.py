"""Crash campaign (design.md invariant 6): the engine, as separate `allegro-sync sync` processes, is killed
again and again (named fail points, `random:RATE:SEED`, SIGKILL at a random wall-clock moment) while buyers,
payments, cancellations, deliveries and the shop's other channels change the world between runs; after each
kill a plain `sync` restarts it. At the end: cycles to quiescence and every invariant of section 9 checked.

CI size: `ALLEGRO_SYNC_CRASH_KILLS` (default 100) kills. The long form is marked slow: one world of
`ALLEGRO_SYNC_CRASH_ROUNDS` rounds; `make crash-campaign` (`long_campaign.py`) runs 10,000 over 8 worlds.
A few rounds exec the real console script; the rest fork from a pre-imported zygote (forkserver.py)."""

from __future__ import annotations

import json
import os
import random
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.crash_world import NAMED_POINTS, CrashWorld, RunResult
from tests.reliability.servers import server_warehouse

RESULTS = Path(__file__).with_name("results") / "crash-campaign.json"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[CrashWorld]:
    built = CrashWorld(tmp_path, products=15, seed=11)
    try:
        yield built
    finally:
        built.close()


def _plan(round_no: int, rng: random.Random) -> tuple[str, str | None, float | None]:
    """What kills round `round_no`: a named point (cycling, with :N), random:0.2:SEED, or the wall clock."""
    kind = round_no % 4
    if kind in (0, 1):
        named = (round_no // 4) * 2 + kind  # 0, 1, 2, 3, ... over the named rounds
        point = NAMED_POINTS[named % len(NAMED_POINTS)]
        nth = 1 + (named // len(NAMED_POINTS)) % 2
        spec = point if nth == 1 else f"{point}:{nth}"
        return spec, spec, None
    if kind == 2:
        spec = f"random:0.2:{rng.randrange(1 << 30)}"
        return spec, spec, None
    moment = round(rng.uniform(0.0, 0.4), 3)
    return f"wall-clock {moment}s", None, moment


def campaign(
    world: CrashWorld,
    *,
    kills_wanted: int,
    max_rounds: int,
    exec_rounds: int,
    seed: int,
    progress_every: int = 0,
) -> dict[str, object]:
    first = world.runner.run("db", "upgrade", exec_script=True)
    assert first.code == 0, first.stderr
    listing = world.runner.run("sync", exec_script=True)
    assert listing.code == 0, listing.stderr
    started = time.perf_counter()
    kills: Counter[str] = Counter()
    survived_runs = 0
    rounds = 0
    log: list[str] = []
    while rounds < max_rounds and sum(kills.values()) < kills_wanted:
        rng = random.Random(seed * 1_000_003 + rounds)
        changes = world.trade(rng)
        world.advance(rng.choice([0, 1, 3]))
        label, failpoint, moment = _plan(rounds, rng)
        real = rounds < exec_rounds
        crashed: RunResult = world.runner.run("sync", failpoint=failpoint, kill_after=moment, exec_script=real)
        if crashed.killed:
            kills[label.split(":")[0] if failpoint else "wall-clock"] += 1
        else:
            assert crashed.code == 0, f"round {rounds} ({label}): {crashed.stderr[-3000:]}"
            survived_runs += 1
        restart = world.runner.run("sync", exec_script=real)
        assert restart.code == 0, f"round {rounds} restart after {label}: {restart.stderr[-3000:]}"
        log.append(f"{rounds} {label} killed={crashed.killed} {'; '.join(changes)}")
        rounds += 1
        if progress_every and rounds % progress_every == 0:
            print(
                f"crash campaign: {rounds} rounds, {sum(kills.values())} kills, {time.perf_counter() - started:.0f} s",
                flush=True,
            )
    campaign_seconds = time.perf_counter() - started
    world.quiesce()
    failures, stats = world.invariant_failures()
    writes_before = world.write_requests()
    for _ in range(2):
        world.advance(3)
        idle = world.runner.run("sync")
        assert idle.code == 0, idle.stderr
    if world.write_requests() != writes_before:
        failures.append(f"idle cycles wrote to Allegro: {world.write_requests() - writes_before}")
    verify = world.runner.run("replay", "--verify")
    if verify.code != 0 or "match a rebuild from zero" not in verify.stdout:
        failures.append(f"replay --verify: {verify.stdout[-2000:]} {verify.stderr[-2000:]}")
    return {
        "rounds": rounds,
        "kills": sum(kills.values()),
        "kills_by_point": dict(sorted(kills.items())),
        "runs_not_killed": survived_runs,
        "process_runs": world.runner.runs,
        "campaign_seconds": round(campaign_seconds, 1),
        "world_actions": dict(sorted(world.book.actions.items())),
        "checked": stats,
        "failures": failures,
        "log_tail": log[-5:],
    }


def _report(result: dict[str, object], name: str) -> None:
    print(json.dumps(result, indent=2))
    if not os.environ.get("ALLEGRO_SYNC_RECORD_RESULTS"):
        return
    path = Path(os.environ.get("ALLEGRO_SYNC_CRASH_RESULTS", RESULTS))  # a world of `long_campaign` has its own
    path.parent.mkdir(exist_ok=True)
    data = json.loads(path.read_text()) if path.exists() else {}
    data[name] = result
    path.write_text(json.dumps(data, indent=2) + "\n")


def test_engine_survives_a_hundred_kills_and_loses_nothing(world: CrashWorld) -> None:
    kills = int(os.environ.get("ALLEGRO_SYNC_CRASH_KILLS", "100"))
    result = campaign(world, kills_wanted=kills, max_rounds=3 * kills, exec_rounds=2, seed=1)
    _report(result, "ci")
    assert result["failures"] == [], result
    assert int(str(result["kills"])) >= kills, result


@pytest.mark.postgres
def test_engine_on_a_postgresql_ledger_survives_kills(tmp_path: Path) -> None:
    """The same campaign with the ledger on PostgreSQL (a schema of our own): the ledger's transactions are
    the server's, and a SIGKILL leaves the session to be aborted by the server."""
    kills = int(os.environ.get("ALLEGRO_SYNC_CRASH_PG_KILLS", "30"))
    with server_warehouse("postgres") as schema:
        built = CrashWorld(tmp_path, products=10, seed=12, ledger_url=schema.url)
        try:
            result = campaign(built, kills_wanted=kills, max_rounds=3 * kills, exec_rounds=1, seed=3)
        finally:
            built.close()
    assert not (tmp_path / "state.db").exists(), "the ledger was meant to be on PostgreSQL"
    _report(result, "ci-postgres-ledger")
    assert result["failures"] == [], result
    assert int(str(result["kills"])) >= kills, result


@pytest.mark.slow
def test_long_crash_campaign(world: CrashWorld) -> None:
    rounds = int(os.environ.get("ALLEGRO_SYNC_CRASH_ROUNDS", "10000"))
    seed = int(os.environ.get("ALLEGRO_SYNC_CRASH_SEED", "7"))
    result = campaign(world, kills_wanted=rounds, max_rounds=rounds, exec_rounds=0, seed=seed, progress_every=250)
    _report(result, f"long-{rounds}-seed-{seed}")
    assert result["failures"] == [], result
