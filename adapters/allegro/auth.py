"""Seller authorization: single-flight token refresh (`TokenProvider`), the device login and `auth_status`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import httpx

from adapters.allegro.budget import BudgetClock, RateBudget, SystemClock
from adapters.allegro.http import make_http_client
from adapters.allegro.oauth import OAuth
from adapters.allegro.secret import Secret
from adapters.allegro.settings import AllegroConfig
from adapters.allegro.tokens import TokenSet, TokenStore, jwt_claims
from engine.errors import RetryLater, StopEngine

LOGIN_HINT = "run `allegro-sync auth login`"


def _utcnow() -> datetime:
    return datetime.now(UTC)


class TokenProvider:
    """Hands out the current access token and refreshes it once for all concurrent callers.

    A refresh happens `refresh_margin_seconds` before expiry, or when Allegro rejects the token
    (401 invalid_token). It runs under one lock: callers that waited for it see that the token they were
    rejected with is no longer current and simply take the new one. The new pair is written to the store
    before the new access token is handed to anyone (the old refresh token dies 60 s after rotation).
    """

    def __init__(
        self,
        config: AllegroConfig,
        store: TokenStore,
        oauth: OAuth,
        *,
        now: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._config = config
        self._store = store
        self._oauth = oauth
        self._now = now
        self._current: TokenSet | None = None
        self._lock = asyncio.Lock()
        self.refreshes = 0

    def _load(self) -> TokenSet:
        tokens = self._store.load()
        if tokens is None:
            raise StopEngine(f"no Allegro token in {self._store.path}: {LOGIN_HINT}")
        if tokens.environment != self._config.environment or tokens.client_id != self._config.client_id:
            raise StopEngine(
                f"token file {self._store.path} belongs to {tokens.environment}/{tokens.client_id}, not "
                f"{self._config.environment}/{self._config.client_id}: {LOGIN_HINT}"
            )
        return tokens

    def current(self) -> TokenSet:
        if self._current is None:
            self._current = self._load()
        return self._current

    async def access_token(self) -> str:
        tokens = self.current()
        if tokens.expires_within(self._config.refresh_margin_seconds, self._now()):
            tokens = await self._refresh(tokens.access_token)
        return tokens.access_token.reveal()

    async def refresh_after_rejection(self, rejected: str) -> str:
        """Allegro answered 401 to `rejected`: refresh unless somebody already did; return the new token."""
        return (await self._refresh(Secret(rejected))).access_token.reveal()

    async def _refresh(self, seen: Secret) -> TokenSet:
        async with self._lock:
            current = self.current()
            if current.access_token != seen:
                return current  # refreshed while we waited
            on_disk = self._load()
            if on_disk.access_token != current.access_token:
                # Somebody (`auth login`) wrote a newer pair: adopt it instead of rotating the old one.
                self._current = on_disk
                return on_disk
            fresh = await self._oauth.refresh(current)
            try:
                self._store.save(fresh)
            except OSError as exc:
                raise StopEngine(
                    f"could not write the rotated Allegro tokens to {self._store.path} ({exc.strerror}); "
                    f"fix the file's folder and {LOGIN_HINT}"
                ) from None
            self._current = fresh
            self.refreshes += 1
            return fresh


async def device_login(
    config: AllegroConfig,
    store: TokenStore,
    out: TextIO,
    *,
    http: httpx.AsyncClient | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: BudgetClock | None = None,
) -> TokenSet:
    """The OAuth device flow: print the URL and `Code: <user_code>`, poll politely, store the pair.

    Reads nothing from stdin. Polls every `interval` seconds (+5 s on each `slow_down`), and stops with
    StopEngine on `access_denied`, `Invalid device code`, another 400, or expiry of the code.
    """
    clock = clock or SystemClock()
    own_http = http is None
    client = http if http is not None else make_http_client(config, transport=transport)
    try:
        budget = RateBudget(requests_per_minute=600, max_concurrency=1, clock=clock)
        oauth = OAuth(config, client, budget)
        code = await oauth.start_device()
        out.write(f"Open {code.verification_uri} , log in as the seller and enter the code below.\n")
        if code.verification_uri_complete:
            out.write(f"(or open {code.verification_uri_complete})\n")
        out.write(f"Code: {code.user_code}\n")
        out.flush()
        interval = max(0, code.interval)
        deadline = clock.monotonic() + code.expires_in
        while True:
            await clock.sleep(interval)
            if clock.monotonic() > deadline:
                raise StopEngine(f"the device code expired before it was approved: {LOGIN_HINT} again")
            try:
                result = await oauth.poll_device(code.device_code)
            except RetryLater:
                continue  # a hiccup of the token endpoint: keep polling until the code expires
            if isinstance(result, TokenSet):
                store.save(result)
                out.write(f"Authorized: seller {result.seller_id or '(unknown)'} on {config.environment}.\n")
                out.flush()
                return result
            if result == "authorization_pending":
                continue
            if result == "slow_down":
                interval += 5
                continue
            if result == "access_denied":
                raise StopEngine(f"the seller refused access to the application: {LOGIN_HINT} again")
            if result == "Invalid device code":
                raise StopEngine(f"Allegro says the device code is invalid, used or expired: {LOGIN_HINT} again")
            raise StopEngine(f"Allegro ended the device login ({result}): {LOGIN_HINT} again")
    finally:
        if own_http:
            await client.aclose()


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthStatus:
    """What `allegro-sync auth status` shows; never the token itself."""

    environment: str
    client_id: str
    token_file: Path
    logged_in: bool
    seller_id: str | None = None
    expires_at: datetime | None = None
    expired: bool = False
    scope: str = ""


def auth_status(config: AllegroConfig, store: TokenStore, *, now: datetime | None = None) -> AuthStatus:
    """Account (JWT `user_name`, else the stored seller id), expiry and environment of the stored token."""
    base = AuthStatus(
        environment=config.environment, client_id=config.client_id, token_file=store.path, logged_in=False
    )
    tokens = store.load()
    if tokens is None:
        return base
    claims = jwt_claims(tokens.access_token.reveal()) or {}
    seller = str(claims["user_name"]) if claims.get("user_name") else tokens.seller_id
    return AuthStatus(
        environment=tokens.environment,
        client_id=tokens.client_id,
        token_file=store.path,
        logged_in=True,
        seller_id=seller,
        expires_at=tokens.expires_at,
        expired=tokens.expires_at <= (now or _utcnow()),
        scope=tokens.scope,
    )
