"""Following an asynchronous offer operation: 202 + Location + Retry-After until a 303 to the offer."""

from __future__ import annotations

import logging

import httpx

from adapters.allegro.backoff import parse_retry_after
from adapters.allegro.budget import RateBudget
from adapters.allegro.caller import Call, Caller
from engine.errors import RetryLater

log = logging.getLogger("allegro_sync.allegro")
OFFER_PREFIX = "/sale/product-offers/"
DEFAULT_WAIT_SECONDS = 5.0


def same_origin_path(location: str, what: str) -> str:
    """The path (and query) of a `Location`: always sent to our own API base, never to another host.

    Allegro writes absolute URLs on its API host; the emulator writes its configured base URL, which
    an in-process test transport does not serve. Only offer URLs are followed.
    """
    url = httpx.URL(location)
    path = url.raw_path.decode("ascii")
    if not path.startswith(OFFER_PREFIX):
        raise RetryLater(f"Allegro {what} pointed to {url.path!r}, which is not an offer resource; not following it")
    return path


async def wait_for_operation(
    caller: Caller,
    budget: RateBudget,
    *,
    offer_id: str,
    location: str | None,
    retry_after: str | None,
    timeout_seconds: float,
    what: str,
) -> None:
    """Polls the operation until it is done (303, or 404 for an operation Allegro no longer knows).

    Honours Retry-After between polls; after `timeout_seconds` raises RetryLater (the offer exists: the
    next attempt finds it by its external id instead of creating another one).
    """
    if location is None:
        # No operation to poll (not documented): give Allegro the hinted time, then read the offer.
        await budget.sleep(parse_retry_after(retry_after) or DEFAULT_WAIT_SECONDS)
        return
    path = same_origin_path(location, what)
    waited = 0.0
    wait = parse_retry_after(retry_after)
    endpoint = "GET /sale/product-offers/{offerId}/operations/{operationId}"
    while True:
        wait = DEFAULT_WAIT_SECONDS if wait is None else wait
        if waited + wait > timeout_seconds:
            raise RetryLater(
                f"offer {offer_id}: Allegro is still processing {what} after {waited:.0f} s; will check again later",
                retry_after_seconds=wait,
            )
        await budget.sleep(wait)
        waited += wait
        response = await caller.send(
            Call(method="GET", path=path, endpoint=endpoint, expect=frozenset({200, 202, 303, 404}))
        )
        status = response.status_code
        if status == 202:
            wait = parse_retry_after(response.headers.get("retry-after"))
            if response.headers.get("location"):
                path = same_origin_path(response.headers["location"], what)
            continue
        if status == 404:
            log.info("offer %s: operation of %s unknown to Allegro (404); reading the offer", offer_id, what)
        return
