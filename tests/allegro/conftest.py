"""Fixtures of the Allegro client tests: the emulator, in-process and as a real local server."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"
