"""Sends one API call: rate budget, bearer token, retries with backoff, 401 refresh, error classification."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
import orjson

from adapters.allegro.backoff import parse_retry_after, rate_limited_wait, server_error_wait
from adapters.allegro.budget import RateBudget
from adapters.allegro.errors import ErrorClass, UncertainOutcome, classify, describe, oauth_error
from adapters.allegro.http import VENDOR_TYPE
from adapters.allegro.settings import AllegroConfig
from engine.errors import RetryLater, StopEngine

log = logging.getLogger("allegro_sync.allegro")


@dataclass(frozen=True, slots=True, kw_only=True)
class Call:
    """One request. `endpoint` names it in messages (`GET /sale/offer-events`); `expect` lists the statuses
    handed back to the caller as they are; `on` overrides the error table for this call; `idempotent`
    False means a timeout or 5xx raises UncertainOutcome instead of resending."""

    method: str
    path: str
    endpoint: str
    params: Sequence[tuple[str, str]] = ()
    body: Any = None
    idempotent: bool = True
    budget: str | None = None
    expect: frozenset[int] = frozenset({200})
    on: Mapping[int, ErrorClass] = field(default_factory=dict)


class TokenSource(Protocol):
    """What the caller needs from `auth.TokenProvider`."""

    async def access_token(self) -> str: ...

    async def refresh_after_rejection(self, rejected: str) -> str: ...


class Caller:
    def __init__(self, config: AllegroConfig, http: httpx.AsyncClient, budget: RateBudget, tokens: TokenSource) -> None:
        self._config = config
        self._http = http
        self._budget = budget
        self._tokens = tokens

    def _backoff(self, attempt: int, retry_after: float | None = None) -> float:
        return server_error_wait(
            retry_after,
            attempt,
            base_seconds=self._config.backoff_base_seconds,
            max_seconds=self._config.backoff_max_seconds,
        )

    async def send(self, call: Call) -> httpx.Response:
        """The answer when its status is in `call.expect`; otherwise an engine error (see errors.py)."""
        config = self._config
        endpoint = call.endpoint
        content = orjson.dumps(call.body) if call.body is not None else None
        attempt = 0
        refreshed = False
        while True:
            attempt += 1
            token = await self._tokens.access_token()
            headers = {"Authorization": f"Bearer {token}"}
            if content is not None:
                headers["Content-Type"] = VENDOR_TYPE
            try:
                async with self._budget.slot(call.budget):
                    response = await self._http.request(
                        call.method, call.path, params=list(call.params) or None, content=content, headers=headers
                    )
            except httpx.TransportError as exc:
                what = "timed out" if isinstance(exc, httpx.TimeoutException) else f"failed ({type(exc).__name__})"
                if not call.idempotent:
                    raise UncertainOutcome(f"Allegro {endpoint} {what}; it may have been applied") from None
                if attempt >= config.max_attempts:
                    raise RetryLater(f"Allegro {endpoint} {what} {attempt} times") from None
                log.warning("Allegro %s %s (attempt %d); retrying", endpoint, what, attempt)
                await self._budget.sleep(self._backoff(attempt))
                continue
            status = response.status_code
            if status in call.expect:
                return response
            if status == 401:
                if refreshed:
                    raise StopEngine(
                        f"Allegro {endpoint} rejected a freshly refreshed access token "
                        f"({oauth_error(response) or 401}): run `allegro-sync auth login`"
                    )
                refreshed = True
                attempt -= 1
                log.info("Allegro %s answered 401 %s; refreshing the token", endpoint, oauth_error(response) or "")
                await self._tokens.refresh_after_rejection(token)
                continue
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            if status == 429:
                wait = rate_limited_wait(retry_after, minimum_seconds=config.rate_limit_wait_seconds)
                self._budget.block_for(wait)  # everybody waits: hammering would extend the block
                if attempt >= config.max_attempts:
                    raise RetryLater(describe(endpoint, response), retry_after_seconds=wait)
                log.warning("Allegro %s answered 429; all requests wait %.1f s", endpoint, wait)
                continue
            if status >= 500:
                if not call.idempotent:
                    raise UncertainOutcome(describe(endpoint, response) + "; it may have been applied")
                if attempt >= config.max_attempts:
                    raise RetryLater(describe(endpoint, response), retry_after_seconds=retry_after)
                wait = self._backoff(attempt, retry_after)
                log.warning("Allegro %s answered %d (attempt %d); retrying in %.1f s", endpoint, status, attempt, wait)
                await self._budget.sleep(wait)
                continue
            raise classify(endpoint, response, call.on)
