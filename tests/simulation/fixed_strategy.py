"""The peers' design as a world strategy, to prove the simulation has teeth (stock-sync.md sections 2, 3, 7).

Every cycle: read the order journal, take new lines off the warehouse (and give cancelled ones back), then
push `FIXED = W - buffer` to every offer of every SKU with a raw quantity command (PATCH stock 0 to end at
zero). It never looks at what Allegro sold between its read and the command's execution, which is exactly
what resurrects units (timeline A).
"""

from __future__ import annotations

import random
import uuid

from adapters.allegro.client import AllegroClient
from adapters.allegro.http import VENDOR_TYPE
from adapters.allegro.tokens import TokenStore
from engine.model import StockChange
from tests.simulation.world import CATEGORY, World, WorldTransport

CANCELLING = ("BUYER_CANCELLED", "AUTO_CANCELLED")


class FixedStrategy:
    name = "fixed"

    def __init__(self, world: World, *, reactivate: bool = False) -> None:
        self.world = world
        self.reactivate = reactivate
        """A peer that also re-activates ended offers on restock (naively: PATCH stock W and ACTIVE)."""
        self.rng = random.Random(f"fixed:{world.seed}")
        self.store: TokenStore | None = None
        self.client: AllegroClient | None = None
        self.transport: WorldTransport | None = None
        self.cursor: str | None = None

    async def start(self) -> None:
        world = self.world
        world.checking_writes = False  # FIXED is what it does; S3 is not its contract
        self.store = await world.token_store()
        self.client, self.transport = world.new_client(self.store)
        self.cursor = await self.client.order_journal_start()
        for sku in world.skus:
            stock = max(0, world.warehouse.stock(world.pid_of[sku]) - world.profile.buffer)
            body = {
                "name": f"Kabel USB-C do telefonu model {sku}",
                "category": {"id": CATEGORY},
                "parameters": [{"id": "11323", "valuesIds": ["11323_1"]}],
                "sellingMode": {"format": "BUY_NOW", "price": {"amount": "19.99", "currency": "PLN"}},
                "stock": {"available": stock, "unit": "UNIT"},
                "external": {"id": sku},
                "images": ["https://example.invalid/1.jpg"],
                "publication": {"status": "ACTIVE" if stock > 0 else "INACTIVE"},
                "delivery": {"shippingRates": {"name": "Standard"}, "handlingTime": "PT24H"},
            }
            answer = await world.control.post("/__emulator/offers", json=body)
            answer.raise_for_status()

    async def cycle(self) -> None:
        assert self.client is not None
        world = self.world
        while True:
            page = await self.client.order_events(self.cursor)
            for event in page.entries:
                self.cursor = event.event_id
                for line in event.lines:
                    pid = world.pid_of.get(line.external_id or "")
                    if pid is None:
                        continue
                    key = f"{event.checkout_form_id}:{line.line_id}"
                    if event.type in CANCELLING:
                        if f"sale:{key}" in world.warehouse.applied:
                            change = StockChange(key=f"restore:{key}", product_id=pid, delta=line.quantity)
                            world.warehouse.apply_stock_changes([change])
                    elif f"restore:{key}" not in world.warehouse.applied:
                        change = StockChange(key=f"sale:{key}", product_id=pid, delta=-line.quantity)
                        world.warehouse.apply_stock_changes([change])
            if page.caught_up:
                break
        token = await self.client.tokens.access_token()
        headers = {"Authorization": f"Bearer {token}", "Accept": VENDOR_TYPE, "Content-Type": VENDOR_TYPE}
        for sku in world.skus:
            target = max(0, world.warehouse.stock(world.pid_of[sku]) - world.profile.buffer)
            for offer in await self.client.offers_by_external_id([sku]):
                if target >= 1 and self.reactivate and not offer.status.buyable:
                    body = {"stock": {"available": target}, "publication": {"status": "ACTIVE"}}
                    await self.client.http.patch(f"/sale/product-offers/{offer.offer_id}", json=body, headers=headers)
                elif target >= 1:
                    command = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
                    body = {
                        "modification": {"changeType": "FIXED", "value": target},
                        "offerCriteria": [{"type": "CONTAINS_OFFERS", "offers": [{"id": offer.offer_id}]}],
                    }
                    await self.client.http.put(
                        f"/sale/offer-quantity-change-commands/{command}", json=body, headers=headers
                    )
                elif offer.status.buyable:
                    await self.client.http.patch(
                        f"/sale/product-offers/{offer.offer_id}", json={"stock": {"available": 0}}, headers=headers
                    )

    async def crash(self, mid_cycle: bool) -> None:
        """The peers' crash handling is not what this strategy is about: a crash is a skipped cycle."""

    def retrying(self, sku: str) -> bool:
        return False

    def white_box(self) -> None:
        """The FIXED push keeps no model."""

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()
