"""Fixtures of the Allegro client tests: one emulator fixture, run in-process (ASGI) and as a real server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from adapters.allegro.client import AllegroClient
from adapters.allegro.secret import Secret
from adapters.allegro.settings import AllegroConfig
from adapters.allegro.tokens import TokenStore, from_token_response
from emulator.app import EmulatorConfig, create_app
from emulator.server import start_in_thread
from emulator.state import EmulatorState

from .fakes import FakeClock

IN_PROCESS_URL = "http://emulator.test"


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Emulator:
    """A running emulator: its app (and state), how the client reaches it, and control-API shortcuts."""

    mode: str
    app: Starlette
    base_url: str
    transport: httpx.AsyncBaseTransport | None
    control: httpx.AsyncClient
    tmp_path: Path
    clients: list[AllegroClient] = field(default_factory=list)

    @property
    def state(self) -> EmulatorState:
        state: EmulatorState = self.app.state.emulator
        return state

    def new_transport(self) -> httpx.AsyncBaseTransport | None:
        return httpx.ASGITransport(app=self.app) if self.mode == "in_process" else None

    async def faults(self, **switches: Any) -> dict[str, Any]:
        response = await self.control.put("/__emulator/faults", json=switches)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def advance(self, seconds: float) -> None:
        self.state.clock.advance(seconds)

    async def seller_offer(self, **fields: Any) -> str:
        """An offer listed in the seller panel (no limits, no faults); returns its id."""
        response = await self.control.post("/__emulator/offers", json=offer_body(**fields))
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    async def purchase(self, offer_id: str, quantity: int = 1, paid: bool = False) -> dict[str, Any]:
        response = await self.control.post(
            "/__emulator/purchases", json={"offer_id": offer_id, "quantity": quantity, "paid": paid}
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def offers(self) -> list[dict[str, Any]]:
        response = await self.control.get("/__emulator/offers")
        offers: list[dict[str, Any]] = response.json()["offers"]
        return offers

    async def token_store(self, name: str = "tokens.json") -> TokenStore:
        """A token file holding a fresh seller pair issued by the control API."""
        response = await self.control.post("/__emulator/tokens", json={})
        assert response.status_code == 201, response.text
        store = TokenStore(self.tmp_path / name)
        store.save(
            from_token_response(
                response.json(), environment="emulator", client_id="emulator-client", now=datetime.now(UTC)
            )
        )
        return store

    def config(self, **overrides: Any) -> AllegroConfig:
        settings: dict[str, Any] = {
            "environment": "emulator",
            "api_url": self.base_url,
            "client_id": "emulator-client",
            "client_secret": Secret("emulator-secret"),
            "max_attempts": 4,
            "backoff_base_seconds": 0.5,
            "rate_limit_wait_seconds": 60.0,
            "read_timeout_seconds": 5.0,
        }
        settings.update(overrides)
        return AllegroConfig(**settings)

    def fake_clock(self) -> FakeClock:
        """A clock whose sleeps also move the emulator's clock, so Retry-After and delays are honoured."""
        return FakeClock(on_sleep=self.advance)

    async def client(
        self, store: TokenStore | None = None, *, clock: FakeClock | None = None, **overrides: Any
    ) -> AllegroClient:
        store = store or await self.token_store()
        client = AllegroClient(
            self.config(**overrides), store, transport=self.new_transport(), clock=clock or self.fake_clock()
        )
        self.clients.append(client)
        return client


def offer_body(**overrides: Any) -> dict[str, Any]:
    """A valid ACTIVE offer in the emulator's demo category; keyword arguments replace top-level fields."""
    body: dict[str, Any] = {
        "name": "Kabel USB-C do telefonu 1 m",
        "category": {"id": "257931"},
        "parameters": [{"id": "11323", "valuesIds": ["11323_1"]}],
        "sellingMode": {"format": "BUY_NOW", "price": {"amount": "19.99", "currency": "PLN"}},
        "stock": {"available": 5, "unit": "UNIT"},
        "external": {"id": "SKU-1"},
        "images": ["https://example.invalid/1.jpg"],
        "publication": {"status": "ACTIVE"},
        "delivery": {"shippingRates": {"name": "Standard"}, "handlingTime": "PT24H"},
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return EmulatorConfig(seed=7)


@pytest.fixture(params=["in_process", "real_server"])
def emulator_mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def _running(emulator_mode: str, emulator_config: EmulatorConfig) -> Iterator[tuple[Starlette, str]]:
    if emulator_mode == "in_process":
        yield create_app(emulator_config), IN_PROCESS_URL
        return
    server = start_in_thread(emulator_config)
    try:
        yield server.app, server.base_url
    finally:
        server.stop()


@pytest.fixture
async def emulator(emulator_mode: str, _running: tuple[Starlette, str], tmp_path: Path) -> AsyncIterator[Emulator]:
    """The emulator, in-process through `httpx.ASGITransport` or as a real uvicorn server on a free port."""
    app, base_url = _running
    transport = httpx.ASGITransport(app=app) if emulator_mode == "in_process" else None
    async with httpx.AsyncClient(base_url=base_url, transport=transport) as control:
        emulator = Emulator(
            mode=emulator_mode, app=app, base_url=base_url, transport=transport, control=control, tmp_path=tmp_path
        )
        try:
            yield emulator
        finally:
            for client in emulator.clients:
                await client.aclose()
