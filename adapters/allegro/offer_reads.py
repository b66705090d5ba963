"""Reading offers: full offer, `/parts` of many (concurrently), look-ups by external id, the paged list."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

from adapters.allegro import answers, readers
from adapters.allegro.budget import RateBudget
from adapters.allegro.caller import Call, Caller
from adapters.allegro.errors import MalformedAnswer, malformed
from adapters.allegro.settings import AllegroConfig
from engine.errors import SkipItem
from engine.model import OfferSnapshot

PAGE = 1000  # the endpoint maximum; `page_size` may lower it (tests)
EXTERNAL_IDS_PER_CALL = 100
OFFER_IDS_PER_CALL = 100
PARTS_AT_MOST = 20
"""Up to this many offers are read through `/parts` (the cheapest read of one offer); more through the list."""
ON_OFFER = {403: SkipItem}


def _chunks(values: Sequence[str], size: int) -> list[list[str]]:
    return [list(values[i : i + size]) for i in range(0, len(values), size)]


class OfferReads:
    """Reading offers: one in full, stock/price of many, look-ups by external id, the whole list."""

    def __init__(self, config: AllegroConfig, caller: Caller, budget: RateBudget) -> None:
        self._config = config
        self._caller = caller
        self._budget = budget
        self.page_size = PAGE

    async def get_offer(self, offer_id: str) -> OfferSnapshot:
        """The full offer; 404 -> an ARCHIVED snapshot; 403 (another seller's offer) -> SkipItem."""
        endpoint = "GET /sale/product-offers/{offerId}"
        response = await self._caller.send(
            Call(
                method="GET",
                path=f"/sale/product-offers/{offer_id}",
                endpoint=endpoint,
                expect=frozenset({200, 404}),
                on=ON_OFFER,
            )
        )
        try:
            read_at = answers.server_time(response)
            if response.status_code == 404:
                return readers.archived(offer_id, read_at)
            return readers.offer(answers.json_body(response), read_at)
        except MalformedAnswer as exc:
            raise malformed(f"{endpoint} (offer {offer_id})", exc, per_item=True) from None

    async def offer_parts(self, offer_ids: Sequence[str]) -> list[OfferSnapshot]:
        """Stock and price from `/parts` (concurrently), status and external id from the offer list.

        `/parts` has no status, so one `GET /sale/offers?offer.id=...` per 100 offers supplies it; an offer
        missing from the list but present in `/parts` is read in full. 404 -> ARCHIVED.
        """
        ids = list(dict.fromkeys(offer_ids))
        if len(ids) > PARTS_AT_MOST:
            return await self._many(ids)
        parts_task = asyncio.gather(*(self._parts(offer_id) for offer_id in ids))
        listing_task = asyncio.gather(*(self._listed(chunk) for chunk in _chunks(ids, OFFER_IDS_PER_CALL)))
        parts, listings = await asyncio.gather(parts_task, listing_task)
        listed = {snapshot.offer_id: snapshot for chunk in listings for snapshot in chunk}
        result: list[OfferSnapshot] = []
        missing: list[str] = []
        for offer_id, (read_at, body) in zip(ids, parts, strict=True):
            if body is None:
                result.append(
                    readers.archived(offer_id, read_at, listed[offer_id].external_id if offer_id in listed else None)
                )
            elif offer_id in listed:
                meta = listed[offer_id]
                try:
                    result.append(readers.parts(body, read_at, meta.status, meta.external_id))
                except MalformedAnswer as exc:
                    raise malformed(f"GET /sale/product-offers/{offer_id}/parts", exc, per_item=True) from None
            else:
                missing.append(offer_id)
        result.extend(await asyncio.gather(*(self.get_offer(offer_id) for offer_id in missing)))
        order = {offer_id: index for index, offer_id in enumerate(ids)}
        return sorted(result, key=lambda snapshot: order[snapshot.offer_id])

    async def _many(self, ids: list[str]) -> list[OfferSnapshot]:
        """Many offers at once: stock, price and status from the offer list, 100 per request (an order
        burst would otherwise cost one `/parts` read per offer); offers it does not return are read in full."""
        listings = await asyncio.gather(*(self._listed(chunk) for chunk in _chunks(ids, OFFER_IDS_PER_CALL)))
        listed = {snapshot.offer_id: snapshot for chunk in listings for snapshot in chunk}
        missing = [offer_id for offer_id in ids if offer_id not in listed]
        result = [listed[offer_id] for offer_id in ids if offer_id in listed]
        result.extend(await asyncio.gather(*(self.get_offer(offer_id) for offer_id in missing)))
        order = {offer_id: index for index, offer_id in enumerate(ids)}
        return sorted(result, key=lambda snapshot: order[snapshot.offer_id])

    async def _parts(self, offer_id: str) -> tuple[Any, answers.Json | None]:
        endpoint = "GET /sale/product-offers/{offerId}/parts"
        response = await self._caller.send(
            Call(
                method="GET",
                path=f"/sale/product-offers/{offer_id}/parts",
                endpoint=endpoint,
                params=[("include", "stock"), ("include", "price")],
                expect=frozenset({200, 404}),
                on=ON_OFFER,
            )
        )
        try:
            read_at = answers.server_time(response)
            return read_at, (answers.json_body(response) if response.status_code == 200 else None)
        except MalformedAnswer as exc:
            raise malformed(f"{endpoint} (offer {offer_id})", exc, per_item=True) from None

    async def _listed(self, offer_ids: list[str]) -> list[OfferSnapshot]:
        params = [("offer.id", offer_id) for offer_id in offer_ids]
        return [snapshot async for snapshot in self._list(params)]

    async def offers_by_external_id(self, external_ids: Sequence[str]) -> list[OfferSnapshot]:
        """Every offer whose external id is one of these: 100 ids per call, each call paged 1000 at a time."""
        ids = list(dict.fromkeys(external_ids))
        too_long = [value for value in ids if len(value) > 100]
        if too_long:
            raise ValueError(f"external ids longer than 100 characters cannot exist on Allegro: {too_long[:3]}")
        chunks = await asyncio.gather(
            *(
                self._collect([("external.id", value) for value in chunk])
                for chunk in _chunks(ids, EXTERNAL_IDS_PER_CALL)
            )
        )
        return [snapshot for chunk in chunks for snapshot in chunk]

    async def _collect(self, params: list[tuple[str, str]]) -> list[OfferSnapshot]:
        return [snapshot async for snapshot in self._list(params)]

    def all_offers(self) -> AsyncIterator[OfferSnapshot]:
        """Every offer of the seller, 1000 per request (ids already yielded are not repeated)."""
        return self._list([])

    async def _list(self, filters: list[tuple[str, str]]) -> AsyncIterator[OfferSnapshot]:
        endpoint = "GET /sale/offers"
        offset = 0
        seen: set[str] = set()
        while True:
            params = [*filters, ("limit", str(self.page_size)), ("offset", str(offset))]
            response = await self._caller.send(
                Call(method="GET", path="/sale/offers", endpoint=endpoint, params=params)
            )
            try:
                body = answers.json_body(response)
                read_at = answers.server_time(response)
                rows = answers.items(body, "offers")
                total = answers.optional_integer(body, "totalCount")
                snapshots = []
                for index, row in enumerate(rows):
                    try:
                        snapshots.append(readers.offer(row, read_at))
                    except MalformedAnswer as exc:
                        raise MalformedAnswer(f"offers[{index}].{exc.field}", exc.detail) from None
            except MalformedAnswer as exc:
                raise malformed(endpoint, exc, per_item=False) from None
            for snapshot in snapshots:
                if snapshot.offer_id not in seen:
                    seen.add(snapshot.offer_id)
                    yield snapshot
            offset += len(rows)
            if len(rows) < self.page_size or (total is not None and offset >= total):
                return
