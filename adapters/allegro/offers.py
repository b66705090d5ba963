"""Offers: create (never duplicated), PATCH, stock/price reads, look-ups by external id, the full list."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import httpx

from adapters.allegro import answers, readers
from adapters.allegro.budget import RateBudget
from adapters.allegro.caller import Call, Caller
from adapters.allegro.errors import MalformedAnswer, UncertainOutcome, describe, malformed
from adapters.allegro.operations import wait_for_operation
from adapters.allegro.settings import AllegroConfig
from engine.errors import RetryLater, SkipItem
from engine.model import OfferSnapshot, OfferStatus

log = logging.getLogger("allegro_sync.allegro")
PAGE = 1000  # the endpoint maximum; `Offers.page_size` may lower it (tests)
EXTERNAL_IDS_PER_CALL = 100
OFFER_IDS_PER_CALL = 100
_ON_OFFER = {403: SkipItem}


def _chunks(values: Sequence[str], size: int) -> list[list[str]]:
    return [list(values[i : i + size]) for i in range(0, len(values), size)]


class OfferIterator:
    """Adapts an async generator to the port's `AsyncIteratorOfOffers` (whose `__anext__` is a coroutine)."""

    def __init__(self, source: AsyncIterator[OfferSnapshot]) -> None:
        self._source = source

    def __aiter__(self) -> OfferIterator:
        return self

    async def __anext__(self) -> OfferSnapshot:
        return await anext(self._source)

    async def aclose(self) -> None:
        closer = getattr(self._source, "aclose", None)
        if closer is not None:
            await closer()


class Offers:
    def __init__(self, config: AllegroConfig, caller: Caller, budget: RateBudget) -> None:
        self._config = config
        self._caller = caller
        self._budget = budget
        self.page_size = PAGE

    # ------------------------------------------------------------------------------------------ reading

    async def get_offer(self, offer_id: str) -> OfferSnapshot:
        """The full offer; 404 -> an ARCHIVED snapshot; 403 (another seller's offer) -> SkipItem."""
        endpoint = "GET /sale/product-offers/{offerId}"
        response = await self._caller.send(
            Call(
                method="GET",
                path=f"/sale/product-offers/{offer_id}",
                endpoint=endpoint,
                expect=frozenset({200, 404}),
                on=_ON_OFFER,
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

    async def _parts(self, offer_id: str) -> tuple[Any, answers.Json | None]:
        endpoint = "GET /sale/product-offers/{offerId}/parts"
        response = await self._caller.send(
            Call(
                method="GET",
                path=f"/sale/product-offers/{offer_id}/parts",
                endpoint=endpoint,
                params=[("include", "stock"), ("include", "price")],
                expect=frozenset({200, 404}),
                on=_ON_OFFER,
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

    def all_offers(self) -> OfferIterator:
        """Every offer of the seller, 1000 per request (ids already yielded are not repeated)."""
        return OfferIterator(self._list([]))

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

    # ------------------------------------------------------------------------------------------ writing

    async def create_offer(self, body: Mapping[str, Any]) -> OfferSnapshot:
        """POST /sale/product-offers, following a 202 to completion. Never creates two offers:

        after a timeout, a network error or a 5xx the POST may have been applied, so the offer is looked up
        by `external.id` first; it is re-POSTed only when the look-up finds nothing. 422 -> SkipItem.
        """
        external_id = answers.optional_text(dict(body), "external.id")
        if not external_id:
            raise ValueError("create_offer needs body['external']['id']: it is what prevents duplicate offers")
        call = Call(
            method="POST",
            path="/sale/product-offers",
            endpoint="POST /sale/product-offers",
            body=body,
            idempotent=False,
            budget="offer_create",
            expect=frozenset({200, 201, 202}),
            on=_ON_OFFER,
        )
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._caller.send(call)
            except UncertainOutcome as exc:
                existing = await self.offers_by_external_id([external_id])
                if existing:
                    log.warning(
                        "offer for external id %s was created despite %s; adopting %s",
                        external_id,
                        exc,
                        existing[0].offer_id,
                    )
                    return await self.get_offer(existing[0].offer_id)
                if attempt >= self._config.max_attempts:
                    raise RetryLater(f"{exc}; no offer with external.id {external_id!r} exists yet") from None
                log.warning("%s; no offer with external.id %s exists, so POSTing again", exc, external_id)
                await self._budget.sleep(self._config.backoff_base_seconds * attempt)
                continue
            return await self._settle(response, "the new offer", "POST /sale/product-offers")

    async def patch_offer(self, offer_id: str, patch: Mapping[str, Any]) -> OfferSnapshot:
        """PATCH (merge patch) and follow a 202. 409 (previous edit still processing) -> RetryLater."""
        endpoint = "PATCH /sale/product-offers/{offerId}"
        response = await self._caller.send(
            Call(
                method="PATCH",
                path=f"/sale/product-offers/{offer_id}",
                endpoint=endpoint,
                body=patch,
                budget="offer_patch",
                expect=frozenset({200, 202, 409}),
                on=_ON_OFFER,
            )
        )
        if response.status_code == 409:
            raise RetryLater(
                f"offer {offer_id}: {describe(endpoint, response)} (a previous edit is still processing)",
                retry_after_seconds=self._config.backoff_max_seconds,
            )
        return await self._settle(response, f"the edit of offer {offer_id}", endpoint, offer_id)

    async def _settle(
        self, response: httpx.Response, what: str, endpoint: str, offer_id: str | None = None
    ) -> OfferSnapshot:
        try:
            body = answers.json_body(response)
            offer_id = offer_id or answers.text(body, "id")
            if response.status_code != 202:
                return readers.offer(body, answers.server_time(response))
        except MalformedAnswer as exc:
            raise malformed(endpoint, exc, per_item=False) from None
        await wait_for_operation(
            self._caller,
            self._budget,
            offer_id=offer_id,
            location=response.headers.get("location"),
            retry_after=response.headers.get("retry-after"),
            timeout_seconds=self._config.operation_timeout_seconds,
            what=what,
        )
        snapshot = await self.get_offer(offer_id)
        if snapshot.status is OfferStatus.ARCHIVED:
            raise RetryLater(f"offer {offer_id}: Allegro finished {what} but the offer cannot be read (404)")
        return snapshot
