"""Running the emulator over real HTTP: `serve()` in the foreground, `start_in_thread()` for tests."""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from emulator.config import EmulatorConfig

if TYPE_CHECKING:
    import uvicorn
    from starlette.applications import Starlette

log = logging.getLogger(__name__)
STARTUP_TIMEOUT_SECONDS = 10.0


def warn_if_public(host: str) -> None:
    """The emulator has no real security: say so when it listens beyond this machine."""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        log.warning("emulator listening on %s: it has no real security, keep it off public networks", host)


def _uvicorn_config(app: Starlette, host: str, port: int) -> uvicorn.Config:
    import uvicorn  # imported lazily: keeps `import emulator.server` cheap

    # The emulator writes its own Date header (from its movable clock).
    return uvicorn.Config(
        app, host=host, port=port, log_level="warning", date_header=False, server_header=False, lifespan="on"
    )


def serve(host: str = "127.0.0.1", port: int = 8900, config: EmulatorConfig | None = None) -> None:
    """Serves until interrupted (Ctrl+C); the CLI's `allegro-sync emulator` calls this."""
    import uvicorn

    from emulator.app import create_app

    warn_if_public(host)
    config = config or EmulatorConfig()
    if config.base_url == EmulatorConfig().base_url:
        # Location headers and verification URIs must point at where this server really listens.
        config = replace(config, base_url=f"http://{host}:{port}")
    uvicorn.Server(_uvicorn_config(create_app(config), host, port)).run()


@dataclass(frozen=True, slots=True)
class RunningServer:
    """A server started by `start_in_thread`: its base URL, its app (for inspecting state) and how to stop it."""

    base_url: str
    app: Starlette
    stop: Callable[[], None]


def start_in_thread(
    config: EmulatorConfig | None = None,
    host: str = "127.0.0.1",
    prepare: Callable[[Starlette], object] | None = None,
) -> RunningServer:
    """Starts a real uvicorn server on a free port in a daemon thread and waits until it accepts connections.

    `prepare` gets the app before it serves (tests use it to add a checking middleware).
    """
    import uvicorn

    from emulator.app import create_app

    warn_if_public(host)
    # IPPROTO_TCP explicitly: asyncio turns Nagle off (TCP_NODELAY) only for sockets that say they are TCP;
    # without it every keep-alive answer waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    base_url = f"http://{host}:{port}"
    config = replace(config or EmulatorConfig(), base_url=base_url)
    app = create_app(config)
    if prepare is not None:
        prepare(app)
    server = uvicorn.Server(_uvicorn_config(app, host, port))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="allegro-emulator", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("the emulator server did not start")
        time.sleep(0.01)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=STARTUP_TIMEOUT_SECONDS)
        sock.close()

    return RunningServer(base_url=base_url, app=app, stop=stop)
