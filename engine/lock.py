"""The process-level cycle lock: two allegro-sync processes on one ledger never run a cycle at once.

SQLite ledgers use `fcntl.flock` on `<state file>.lock`; PostgreSQL ledgers a session-level advisory lock held
on a dedicated connection. Both are released by the kernel or the server when the holder dies, so a lock left
by a killed process never blocks the next run.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from engine.errors import RetryLater
from engine.settings import mask_url, sqlite_path

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger("allegro_sync.lock")


class LockBusy(RetryLater):
    """Another allegro-sync process held the cycle lock for longer than we were willing to wait."""


@dataclass(frozen=True, slots=True)
class LockHolder:
    pid: int | None
    host: str | None
    since: str | None

    def describe(self) -> str:
        pid = f"pid {self.pid}" if self.pid is not None else "pid unknown"
        return f"{pid} on host {self.host or 'unknown'}, since {self.since or 'unknown'}"


def _me() -> LockHolder:
    return LockHolder(os.getpid(), socket.gethostname(), datetime.now(UTC).isoformat(timespec="seconds"))


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for an account or ledger name."""
    return int.from_bytes(hashlib.sha256(f"allegro-sync:{name}".encode()).digest()[:8], "big", signed=True)


@contextlib.contextmanager
def acquire_cycle_lock(
    state_url: str, wait_seconds: float, *, account: str | None = None, poll_seconds: float = 0.2
) -> Iterator[LockHolder]:
    """Hold the cycle lock of the ledger at `state_url` for the `with` block.

    Waits up to `wait_seconds` (0 = do not wait) while another process holds it, then raises `LockBusy`
    naming the holder. In-memory SQLite needs no lock (nothing else can open it).
    """
    shown = mask_url(state_url)
    scheme = state_url.split("://", 1)[0].split("+", 1)[0].lower()
    if scheme == "sqlite":
        path = sqlite_path(state_url)
        if path is None:
            yield _me()
            return
        with _file_lock(path.with_name(path.name + ".lock"), shown, wait_seconds, poll_seconds) as holder:
            yield holder
    elif scheme in ("postgresql", "postgres"):
        with _advisory_lock(state_url, account or shown, shown, wait_seconds, poll_seconds) as holder:
            yield holder
    else:
        raise RetryLater(f"{shown}: no cycle lock for this database; expected a sqlite or postgresql URL")


def _wait_or_give_up(holder: LockHolder, shown: str, wait_seconds: float, deadline: float, told: bool) -> bool:
    """Log once that we wait; raise `LockBusy` once the deadline has passed. Returns True (told)."""
    message = f"another allegro-sync ({holder.describe()}) holds the lock on {shown}"
    if time.monotonic() >= deadline:
        waited = f"waited {wait_seconds:g} s; " if wait_seconds > 0 else ""
        raise LockBusy(f"{message}; {waited}exiting (run again later, or stop the other process)")
    if not told:
        log.warning("%s; waiting up to %g s", message, wait_seconds)
    return True


@contextlib.contextmanager
def _file_lock(lock_path: Path, shown: str, wait_seconds: float, poll_seconds: float) -> Iterator[LockHolder]:
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline, told = time.monotonic() + wait_seconds, False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                told = _wait_or_give_up(_read_holder(lock_path), shown, wait_seconds, deadline, told)
                time.sleep(poll_seconds)
        me = _me()
        os.ftruncate(fd, 0)
        os.pwrite(fd, orjson.dumps({"pid": me.pid, "host": me.host, "since": me.since}), 0)
        try:
            yield me
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _read_holder(lock_path: Path) -> LockHolder:
    try:
        data = orjson.loads(lock_path.read_bytes() or b"{}")
    except (OSError, orjson.JSONDecodeError):
        data = {}
    pid = data.get("pid")
    return LockHolder(pid if isinstance(pid, int) else None, data.get("host"), data.get("since"))


@contextlib.contextmanager
def _advisory_lock(
    state_url: str, name: str, shown: str, wait_seconds: float, poll_seconds: float
) -> Iterator[LockHolder]:
    import psycopg  # imported here: SQLite installs need no PostgreSQL driver

    conninfo = "postgresql://" + state_url.split("://", 1)[1]
    key, me = lock_key(name), _me()
    app = f"allegro-sync pid {me.pid} on {me.host} since {me.since}"[:63]
    try:
        conn = psycopg.connect(conninfo, autocommit=True, application_name=app, connect_timeout=10)
    except psycopg.Error as exc:
        raise RetryLater(f"{shown}: cannot connect to take the cycle lock ({type(exc).__name__})") from None
    with conn:
        deadline, told = time.monotonic() + wait_seconds, False
        while not _scalar(conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()):
            told = _wait_or_give_up(_pg_holder(conn, key), shown, wait_seconds, deadline, told)
            time.sleep(poll_seconds)
        try:
            yield me
        finally:
            with contextlib.suppress(psycopg.Error):  # closing the session releases it anyway
                conn.execute("SELECT pg_advisory_unlock(%s)", (key,))


def _scalar(row: tuple[object, ...] | None) -> object:
    return None if row is None else row[0]


def _pg_holder(conn: psycopg.Connection[tuple[Any, ...]], key: int) -> LockHolder:
    """Who holds the advisory lock: our own processes name themselves in application_name."""
    row = conn.execute(
        "SELECT a.application_name, a.client_hostname, a.client_addr::text, a.backend_start::text "
        "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
        "AND l.granted AND l.classid::bigint = %s AND l.objid::bigint = %s AND l.objsubid = 1",
        ((key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF),
    ).fetchone()
    if row is None:
        return LockHolder(None, None, None)
    app, hostname, addr, started = row
    parts = str(app or "").split()
    if len(parts) >= 7 and parts[:2] == ["allegro-sync", "pid"]:
        return LockHolder(int(parts[2]) if parts[2].isdigit() else None, parts[4], parts[6])
    return LockHolder(None, hostname or addr, started)
