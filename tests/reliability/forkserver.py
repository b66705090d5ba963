"""A zygote for the crash campaign: imports the CLI once, then forks one child per `allegro-sync` run.

Starting a fresh interpreter costs about two seconds of imports per run, which would make a hundred kill and
restart rounds take minutes. Each child is still a separate process running `engine.cli.main()` with its own
argv, environment and working folder, and dies by SIGKILL exactly as an exec'd `allegro-sync` would. The fail
point is re-read from the child's environment (the module reads it once, at import).

Protocol (JSON lines): the parent writes `{"argv", "env", "cwd", "out", "err", "kill_after"}`; the server
answers `{"pid"}` as soon as the child runs, then `{"pid", "status", "killed_by_us"}` when it has ended.
`kill_after` (seconds, optional) kills the child with `os.kill(pid, SIGKILL)` at that wall-clock moment.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import signal
import sys
import time

PRELOAD = (
    "sqlalchemy.dialects.sqlite",
    "adapters.allegro.auth",
    "adapters.allegro.client",
    "adapters.ledger",
    "adapters.warehouse",
    "engine.bootstrap",
    "engine.cli",
    "engine.cli_cycle",
    "engine.operations",
    "engine.replay",
    "engine.timeline",
    "anyio._backends._asyncio",
    "httpcore._async.http11",
    "rich.logging",
)
PACKAGES = ("engine", "adapters")


def _preload() -> None:
    for name in PRELOAD:
        importlib.import_module(name)
    for package in PACKAGES:  # every module the commands import lazily
        for info in pkgutil.walk_packages(importlib.import_module(package).__path__, package + "."):
            if not info.name.endswith("__main__"):
                importlib.import_module(info.name)


def _child(request: dict[str, object]) -> None:
    os.chdir(str(request["cwd"]))
    os.environ.clear()
    os.environ.update({str(k): str(v) for k, v in dict(request["env"]).items()})  # type: ignore[call-overload]
    out = os.open(str(request["out"]), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    err = os.open(str(request["err"]), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(out, 1)
    os.dup2(err, 2)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    from engine import failpoints

    failpoints._config = failpoints._Config(os.environ.get(failpoints.ENV, ""))
    sys.argv = ["allegro-sync", *[str(a) for a in request["argv"]]]  # type: ignore[attr-defined]
    code = 0
    try:
        from engine.cli import main

        main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 70
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _wait(pid: int, kill_after: float | None) -> tuple[int, bool]:
    started = time.monotonic()
    killed = False
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status, killed
        if kill_after is not None and not killed and time.monotonic() - started >= kill_after:
            os.kill(pid, signal.SIGKILL)
            killed = True
        time.sleep(0.002)


def serve() -> None:
    _preload()
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(request)
        print(json.dumps({"pid": pid}), flush=True)
        kill_after = request.get("kill_after")
        status, killed = _wait(pid, None if kill_after is None else float(kill_after))
        print(json.dumps({"pid": pid, "status": status, "killed_by_us": killed}), flush=True)


if __name__ == "__main__":
    serve()
