"""Contract: category parameters, catalogue look-up by EAN, and the headers every request carries."""

from __future__ import annotations

import httpx
import pytest

from adapters.allegro.client import AllegroClient
from engine.errors import SkipItem

from .conftest import Emulator

pytestmark = pytest.mark.anyio
VALID_EAN = "5901234123457"


async def test_category_parameters_include_the_condition_dictionary(emulator: Emulator) -> None:
    client = await emulator.client()
    parameters = await client.category_parameters("257931")
    condition = next(p for p in parameters if p.parameter_id == "11323")
    assert condition.name == "Stan" and condition.type == "dictionary" and condition.required
    assert ("11323_1", "Nowy") in condition.dictionary


async def test_an_unknown_category_is_skipped_naming_the_mapping(emulator: Emulator) -> None:
    client = await emulator.client()
    with pytest.raises(SkipItem, match=r"no category '000'.*\[mapping\.categories\]"):
        await client.category_parameters("000")


async def test_product_by_gtin_finds_the_catalogue_product(emulator: Emulator) -> None:
    client = await emulator.client()
    product = await client.product_by_gtin(VALID_EAN)
    assert product is not None
    assert product.product_id.endswith(f"{int(VALID_EAN):012x}")
    assert len(product.images) == 2 and all(url.startswith("https://") for url in product.images)
    assert await client.product_by_gtin("1234567890123") is None  # bad check digit: no product


class Recording(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_requests_carry_allegros_media_types_and_our_user_agent(emulator: Emulator) -> None:
    offer_id = await emulator.seller_offer()
    transport = Recording(emulator.new_transport() or httpx.AsyncHTTPTransport())
    client = AllegroClient(
        emulator.config(user_agent="allegro-sync/9 (+https://x.invalid)"),
        await emulator.token_store(),
        transport=transport,
        clock=emulator.fake_clock(),
    )
    emulator.clients.append(client)
    await client.patch_offer(offer_id, {"stock": {"available": 2}})
    await client.offer_events(None)
    for request in transport.requests:
        assert request.headers["accept"] == "application/vnd.allegro.public.v1+json"
        assert request.headers["user-agent"] == "allegro-sync/9 (+https://x.invalid)"
    patch = next(r for r in transport.requests if r.method == "PATCH")
    assert patch.headers["content-type"] == "application/vnd.allegro.public.v1+json"
    assert "content-type" not in next(r for r in transport.requests if r.method == "GET").headers
