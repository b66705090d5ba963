"""Fail points are inert by default and kill the process (SIGKILL) exactly where the environment says."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

SCRIPT = """
from engine.failpoints import failpoint
for name in ("after_ingest_warehouse", "after_reduce", "after_reduce"):
    failpoint(name)
    print(name, flush=True)
"""


def _run(spec: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "ALLEGRO_SYNC_FAILPOINT"}
    if spec is not None:
        env["ALLEGRO_SYNC_FAILPOINT"] = spec
    return subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=30)


def test_fail_points_are_inert_without_the_variable() -> None:
    done = _run(None)
    assert done.returncode == 0 and done.stdout.split() == ["after_ingest_warehouse", "after_reduce", "after_reduce"]


def test_named_fail_point_kills_at_its_nth_pass() -> None:
    done = _run("after_reduce:2")
    assert done.returncode == -signal.SIGKILL
    assert done.stdout.split() == ["after_ingest_warehouse", "after_reduce"]


def test_a_prefix_names_every_ingest_step() -> None:
    done = _run("after_ingest")
    assert done.returncode == -signal.SIGKILL and done.stdout == ""
