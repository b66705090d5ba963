"""A seller's view of the emulator for tests: authenticated Allegro calls plus control-API shortcuts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

VENDOR_TYPE = "application/vnd.allegro.public.v1+json"
CLIENT = ("emulator-client", "emulator-secret")
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
VALID_EAN = "5901234123457"


def offer_body(**overrides: Any) -> dict[str, Any]:
    """A valid ACTIVE offer in the demo category 257931; keyword arguments replace top-level fields."""
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


@dataclass
class SellerApi:
    client: httpx.AsyncClient
    access_token: str
    refresh_token: str

    @classmethod
    async def login(cls, client: httpx.AsyncClient) -> SellerApi:
        response = await client.post("/__emulator/tokens", json={})
        assert response.status_code == 201, response.text
        body = response.json()
        return cls(client, body["access_token"], body["refresh_token"])

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}", "Accept": VENDOR_TYPE, "Content-Type": VENDOR_TYPE}

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.get(path, headers=self.headers, **kwargs)

    async def post(self, path: str, body: Any) -> httpx.Response:
        return await self.client.post(path, headers=self.headers, json=body)

    async def put(self, path: str, body: Any, **kwargs: Any) -> httpx.Response:
        return await self.client.put(path, headers=self.headers, json=body, **kwargs)

    async def patch(self, path: str, body: Any) -> httpx.Response:
        return await self.client.patch(path, headers=self.headers, json=body)

    async def create_offer(self, **overrides: Any) -> dict[str, Any]:
        response = await self.post("/sale/product-offers", offer_body(**overrides))
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    async def offer(self, offer_id: str) -> dict[str, Any]:
        response = await self.get(f"/sale/product-offers/{offer_id}")
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def offer_event_types(self, **params: Any) -> list[str]:
        response = await self.get("/sale/offer-events", params=params)
        assert response.status_code == 200, response.text
        return [event["type"] for event in response.json()["offerEvents"]]

    async def order_events(self, **params: Any) -> list[dict[str, Any]]:
        response = await self.get("/order/events", params=params)
        assert response.status_code == 200, response.text
        events: list[dict[str, Any]] = response.json()["events"]
        return events

    async def control(self, method: str, path: str, body: Any = None) -> httpx.Response:
        return await self.client.request(method, f"/__emulator/{path}", json=body)

    async def faults(self, **switches: Any) -> None:
        response = await self.control("PUT", "faults", switches)
        assert response.status_code == 200, response.text

    async def advance(self, seconds: float) -> None:
        """Moves the emulator's clock; past the 12 h token lifetime the seller logs in again."""
        response = await self.control("POST", "clock", {"advance_seconds": seconds})
        assert response.status_code == 200, response.text
        if seconds >= 43199:
            fresh = await SellerApi.login(self.client)
            self.access_token, self.refresh_token = fresh.access_token, fresh.refresh_token

    async def buy(self, offer_id: str, quantity: int = 1, *, paid: bool = False) -> dict[str, Any]:
        response = await self.control("POST", "purchases", {"offer_id": offer_id, "quantity": quantity, "paid": paid})
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    async def command(self, resource: str, command_id: str, body: dict[str, Any]) -> httpx.Response:
        return await self.put(f"/sale/{resource}/{command_id}", body)


def quantity_command(offer_ids: list[str], change_type: str, value: int) -> dict[str, Any]:
    return {
        "modification": {"changeType": change_type, "value": value},
        "offerCriteria": [{"type": "CONTAINS_OFFERS", "offers": [{"id": offer_id} for offer_id in offer_ids]}],
    }
