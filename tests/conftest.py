"""Fixtures shared by every test package; package-specific fixtures live in each package's conftest."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

# Plugins other test packages share (e.g. the emulator's fixtures) are listed here.
pytest_plugins: list[str] = ["tests.emulator.openapi_plugin"]


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """Async tests run on asyncio only (the engine and APScheduler 3.x use asyncio)."""
    return "asyncio"


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """The CLI configures logging for the process; no test inherits what another one set."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    names = ("allegro_sync", "engine", "adapters", "emulator")
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)
