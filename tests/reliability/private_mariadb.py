"""A MariaDB server of the test's own (its own data folder and port), so that it can be killed with SIGKILL
and started again for real: InnoDB's crash recovery, refused connections, a pool full of dead connections."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pymysql

SERVER = shutil.which("mariadbd") or shutil.which("mysqld") or "/usr/sbin/mariadbd"
INSTALL = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")


def missing() -> str | None:
    """Why a private server cannot run here, or None."""
    if not Path(SERVER).exists():
        return f"no MariaDB server binary ({SERVER}); install the mariadb-server package"
    if INSTALL is None:
        return "no mariadb-install-db; install the mariadb-server package"
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PrivateMariaDB:
    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="allegro-sync-mdb-"))  # short: the socket path is limited
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.kills = 0
        self.starts = 0
        root = ["--user=root"] if os.geteuid() == 0 else []
        datadir = f"--datadir={self.folder / 'data'}"
        subprocess.run(
            [
                str(INSTALL),
                "--no-defaults",
                datadir,
                "--skip-test-db",
                "--auth-root-authentication-method=normal",
                *root,
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        self._root = root

    @property
    def url(self) -> str:
        return f"mysql+pymysql://root@127.0.0.1:{self.port}/sklep"

    def start(self, timeout: float = 60.0) -> None:
        log = self.folder / "error.log"
        files = [f"--datadir={self.folder / 'data'}", f"--socket={self.folder / 'sock'}", f"--log-error={log}"]
        small = ["--bind-address=127.0.0.1", "--skip-log-bin", "--innodb-buffer-pool-size=16M", "--skip-name-resolve"]
        self.process = subprocess.Popen(
            [
                SERVER,
                "--no-defaults",
                *files,
                f"--pid-file={self.folder / 'pid'}",
                f"--port={self.port}",
                *small,
                *self._root,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                pymysql.connect(host="127.0.0.1", port=self.port, user="root", connect_timeout=1).close()
                break
            except pymysql.err.OperationalError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"private MariaDB did not start: {log.read_text()[-2000:]}") from None
                time.sleep(0.1)
        self.starts += 1
        with pymysql.connect(host="127.0.0.1", port=self.port, user="root", autocommit=True) as admin:
            admin.cursor().execute("CREATE DATABASE IF NOT EXISTS sklep CHARACTER SET utf8mb4")

    def kill(self) -> None:
        """SIGKILL, as a power cut or the OOM killer would: no shutdown, no flush."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)
            self.kills += 1
        self.process = None

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        shutil.rmtree(self.folder, ignore_errors=True)
