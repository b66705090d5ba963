"""Fixtures shared by every test package; package-specific fixtures live in each package's conftest."""

from __future__ import annotations

import pytest

# Plugins other test packages share (e.g. the emulator's fixtures) are listed here.
pytest_plugins: list[str] = ["tests.emulator.openapi_plugin"]


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """Async tests run on asyncio only (the engine and APScheduler 3.x use asyncio)."""
    return "asyncio"
