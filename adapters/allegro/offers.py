"""Writing offers: create (never duplicated, 202 followed to the end) and PATCH (202 followed, 409 retried later)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import httpx

from adapters.allegro import answers, readers
from adapters.allegro.caller import Call
from adapters.allegro.errors import MalformedAnswer, UncertainOutcome, describe, malformed
from adapters.allegro.offer_reads import ON_OFFER, OfferReads
from adapters.allegro.operations import wait_for_operation
from engine.errors import RetryLater
from engine.model import OfferSnapshot, OfferStatus

__all__ = ["Offers"]
log = logging.getLogger("allegro_sync.allegro")


class Offers(OfferReads):
    async def create_offer(self, body: Mapping[str, Any]) -> OfferSnapshot:
        """POST /sale/product-offers, following a 202 to completion. Never creates two offers:

        after a timeout, a network error or a 5xx the POST may have been applied (or may still be running on
        Allegro's side), so it is never re-sent here: after `uncertain_lookup_delay_seconds` the offer is
        looked up by `external.id` and adopted when found; otherwise RetryLater, and the engine looks the
        external id up again before its next attempt. 422 -> SkipItem with every reason.
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
            on=ON_OFFER,
        )
        try:
            response = await self._caller.send(call)
        except UncertainOutcome as exc:
            await self._budget.sleep(self._config.uncertain_lookup_delay_seconds)
            try:
                existing = await self.offers_by_external_id([external_id])
            except RetryLater as failed:
                raise RetryLater(
                    f"{exc}; the look-up by external.id {external_id!r} failed too ({failed}), so it is not "
                    "re-sent now",
                    retry_after_seconds=failed.retry_after_seconds,
                ) from None
            if not existing:
                raise RetryLater(
                    f"{exc}; no offer with external.id {external_id!r} is listed yet, so it is not re-sent now",
                    retry_after_seconds=self._config.backoff_max_seconds,
                ) from None
            log.warning(
                "offer for external id %s was created despite: %s; adopting offer %s",
                external_id,
                exc,
                existing[0].offer_id,
            )
            return await self.get_offer(existing[0].offer_id)
        return await self._settle(response, "the new offer", "POST /sale/product-offers")

    async def patch_offer(self, offer_id: str, patch: Mapping[str, Any], *, idempotent: bool = True) -> OfferSnapshot:
        """PATCH (merge patch) and follow a 202. 409 (previous edit still processing) -> RetryLater.
        With `idempotent=False` a timeout or 5xx is not retried here (UncertainOutcome)."""
        endpoint = "PATCH /sale/product-offers/{offerId}"
        response = await self._caller.send(
            Call(
                method="PATCH",
                path=f"/sale/product-offers/{offer_id}",
                endpoint=endpoint,
                body=patch,
                budget="offer_patch",
                expect=frozenset({200, 202, 409}),
                on=ON_OFFER,
                idempotent=idempotent,
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
