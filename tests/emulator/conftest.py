"""Emulator test fixtures: the OpenAPI-checked plugin (also when the root conftest does not list it) and a seller."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    # Appended, not prepended: the installed `emulator` package must keep winning over this folder's name.
    sys.path.append(_ROOT)

from tests.emulator.openapi_plugin import (  # noqa: E402
    emulator_app,
    emulator_client,
    emulator_config,
    emulator_server,
)
from tests.emulator.seller_api import SellerApi  # noqa: E402

__all__ = ["emulator_app", "emulator_client", "emulator_config", "emulator_server"]


@pytest.fixture
async def seller(emulator_client: httpx.AsyncClient) -> SellerApi:
    """The default seller, holding a fresh token pair from the control API."""
    return await SellerApi.login(emulator_client)
