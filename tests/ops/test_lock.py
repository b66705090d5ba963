"""The cycle lock: a second process waits or exits naming the holder; a killed holder never blocks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.lock import LockBusy, acquire_cycle_lock, lock_key
from tests.databases import PG_CANDIDATES

HOLD_SCRIPT = """
import sys, time
from engine.lock import acquire_cycle_lock
with acquire_cycle_lock(sys.argv[1], 0):
    print("locked", flush=True)
    time.sleep(60)
"""


def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'state.db'}"


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """A separate process that holds the lock on `url(tmp_path)` until it is killed."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_SCRIPT, url(tmp_path)], stdout=subprocess.PIPE, text=True,
        cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        yield proc
    finally:
        proc.kill()
        proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()


def test_second_acquirer_exits_naming_the_holder(tmp_path: Path) -> None:
    with acquire_cycle_lock(url(tmp_path), 0) as holder:
        assert holder.pid == os.getpid()
        with pytest.raises(LockBusy) as caught, acquire_cycle_lock(url(tmp_path), 0):
            pass
    message = str(caught.value)
    assert message.startswith(f"another allegro-sync (pid {os.getpid()} on host ")
    assert f"holds the lock on {url(tmp_path)}; exiting" in message
    with acquire_cycle_lock(url(tmp_path), 0):  # released on exit of the with block
        pass


def test_second_acquirer_waits_then_gives_up(tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    started = time.monotonic()
    busy = rf"pid {holder.pid} on host .* waited 0.5 s; exiting"
    with pytest.raises(LockBusy, match=busy), acquire_cycle_lock(url(tmp_path), 0.5, poll_seconds=0.05):
        pass
    assert time.monotonic() - started >= 0.5


def test_waiting_acquirer_gets_the_lock_once_the_holder_ends(tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    os.kill(holder.pid, signal.SIGTERM)
    with acquire_cycle_lock(url(tmp_path), 10, poll_seconds=0.05) as me:
        assert me.pid == os.getpid()


def test_lock_of_a_sigkilled_process_does_not_block(tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    with pytest.raises(LockBusy), acquire_cycle_lock(url(tmp_path), 0):
        pass
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    assert (tmp_path / "state.db.lock").exists()  # the file stays; the kernel dropped the lock with the process
    with acquire_cycle_lock(url(tmp_path), 0):
        pass


def test_password_never_appears_in_the_message(tmp_path: Path) -> None:
    masked = f"sqlite:///{tmp_path / 'state.db'}"
    with acquire_cycle_lock(masked, 0), pytest.raises(LockBusy) as caught, acquire_cycle_lock(masked, 0):
        pass
    assert "***" not in str(caught.value)  # nothing to mask on sqlite; see the PostgreSQL test for URLs


def test_in_memory_sqlite_needs_no_lock() -> None:
    with acquire_cycle_lock("sqlite://", 0), acquire_cycle_lock("sqlite:///:memory:", 0):
        pass


def test_lock_keys_are_stable_signed_64_bit() -> None:
    assert lock_key("shop-a") == lock_key("shop-a") != lock_key("shop-b")
    assert -(2**63) <= lock_key("shop-a") < 2**63


def reachable_postgres() -> str:
    """ALLEGRO_SYNC_PG_URL or a local default; skipped when absent, except in CI where absence fails."""
    import psycopg

    env_url = os.environ.get("ALLEGRO_SYNC_PG_URL")
    for candidate in [env_url] if env_url else PG_CANDIDATES:
        try:
            psycopg.connect("postgresql://" + candidate.split("://", 1)[1], connect_timeout=3).close()
        except psycopg.Error:
            continue
        return candidate
    message = "PostgreSQL is not reachable; set ALLEGRO_SYNC_PG_URL=postgresql+psycopg://user@host:port/db"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.mark.postgres
def test_postgres_advisory_lock_excludes_a_second_session() -> None:
    pg_url = reachable_postgres()
    busy = rf"another allegro-sync \(pid {os.getpid()} on host .*\) holds the lock on postgresql"
    with (
        acquire_cycle_lock(pg_url, 0, account="test-lock"),
        pytest.raises(LockBusy, match=busy),
        acquire_cycle_lock(pg_url, 0, account="test-lock"),
    ):
        pass
    with acquire_cycle_lock(pg_url, 0, account="test-lock"):
        pass


@pytest.mark.postgres
def test_postgres_lock_of_a_sigkilled_process_does_not_block() -> None:
    pg_url = reachable_postgres()
    script = HOLD_SCRIPT.replace("(sys.argv[1], 0)", "(sys.argv[1], 0, account='kill')")
    proc = subprocess.Popen([sys.executable, "-c", script, pg_url], stdout=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[2])  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        with pytest.raises(LockBusy, match=rf"pid {proc.pid} "), acquire_cycle_lock(pg_url, 0, account="kill"):
            pass
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        with acquire_cycle_lock(pg_url, 5, account="kill", poll_seconds=0.05):  # the server ends the session
            pass
    finally:
        proc.kill()
        proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()
