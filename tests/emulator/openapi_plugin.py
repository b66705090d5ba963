"""Pytest plugin: emulator fixtures whose every response is checked against Allegro's OpenAPI file."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from starlette.applications import Starlette

from emulator.app import EmulatorConfig, create_app
from emulator.server import RunningServer, start_in_thread
from tests.emulator.openapi_check import OpenApiMismatch, ResponseLog, install_openapi_check, response_hook

VENDOR_TYPE = "application/vnd.allegro.public.v1+json"


def _fail_on_problems(log: ResponseLog) -> None:
    if log.problems:
        raise OpenApiMismatch("emulator responses outside the OpenAPI spec:\n" + "\n".join(log.problems))


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    """Override in a test module to start the emulator differently (seed, state_file, ...)."""
    return EmulatorConfig()


@pytest.fixture
def emulator_app(emulator_config: EmulatorConfig) -> Iterator[Starlette]:
    """A fresh in-process emulator; the test fails if any of its responses leaves the spec."""
    app = create_app(emulator_config)
    log = install_openapi_check(app)
    yield app
    _fail_on_problems(log)


@pytest.fixture
async def emulator_client(emulator_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """`httpx.AsyncClient` bound to `emulator_app` in-process (base URL http://emulator.test)."""
    transport = httpx.ASGITransport(app=emulator_app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://emulator.test", event_hooks={"response": [response_hook()]}
    ) as client:
        yield client


@pytest.fixture
def emulator_server(emulator_config: EmulatorConfig) -> Iterator[RunningServer]:
    """A real uvicorn server on a free local port (`.base_url`, `.app`, `.stop`); responses are checked too."""
    log = ResponseLog()
    server = start_in_thread(emulator_config, prepare=lambda app: install_openapi_check(app, log))
    try:
        yield server
    finally:
        server.stop()
    _fail_on_problems(log)
