"""Calls to Allegro's OAuth endpoints (token refresh, device code, device polling) and their error mapping."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from adapters.allegro import answers
from adapters.allegro.backoff import exponential, parse_retry_after, rate_limited_wait
from adapters.allegro.budget import RateBudget
from adapters.allegro.endpoints import device_url, token_url
from adapters.allegro.errors import MalformedAnswer, oauth_error, redact
from adapters.allegro.settings import AllegroConfig
from adapters.allegro.tokens import TokenSet, from_token_response
from engine.errors import RetryLater, StopEngine

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
INVALID_GRANT_MESSAGE = "Allegro refused the refresh token (invalid_grant): re-run `allegro-sync auth login`"
# The previous refresh token keeps working for 60 s after a rotation, so a refresh whose answer was lost
# (timeout, 5xx) can be repeated safely within that window; retries here stay well inside it.
_REFRESH_RETRY_BUDGET_SECONDS = 30.0


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceCode:
    device_code: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str | None
    expires_in: int
    interval: int

    def __repr__(self) -> str:
        return f"DeviceCode(user_code={self.user_code!r}, expires_in={self.expires_in})"


def _utcnow() -> datetime:
    return datetime.now(UTC)


class OAuth:
    """The token and device endpoints under `{auth_url}/auth/oauth/`, with HTTP Basic client auth."""

    def __init__(
        self,
        config: AllegroConfig,
        http: httpx.AsyncClient,
        budget: RateBudget,
        *,
        now: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._config = config
        self._http = http
        self._budget = budget
        self._now = now

    async def _post(self, url: str, endpoint: str, data: dict[str, str]) -> httpx.Response:
        auth = httpx.BasicAuth(self._config.client_id, self._config.client_secret.reveal())
        try:
            async with self._budget.slot():
                return await self._http.post(url, data=data, auth=auth, headers={"Accept": "application/json"})
        except httpx.TimeoutException:
            raise RetryLater(f"Allegro {endpoint} timed out") from None
        except httpx.TransportError as exc:
            raise RetryLater(f"Allegro {endpoint} is unreachable ({type(exc).__name__})") from None

    def _fail(self, endpoint: str, response: httpx.Response) -> Exception:
        """Errors common to every grant (the per-grant ones are handled by the callers)."""
        status = response.status_code
        error = oauth_error(response)
        if status == 429:
            wait = rate_limited_wait(
                parse_retry_after(response.headers.get("retry-after")),
                minimum_seconds=self._config.rate_limit_wait_seconds,
            )
            return RetryLater(f"Allegro {endpoint} answered 429 (too many tokens)", retry_after_seconds=wait)
        if status >= 500:
            return RetryLater(f"Allegro {endpoint} answered {status}")
        if status == 401 or error in ("invalid_client", "unauthorized_client"):
            return StopEngine(
                f"Allegro {endpoint} refused the application credentials ({error or status}): check "
                "[allegro].client_id, ALLEGRO_CLIENT_SECRET and [allegro].environment"
            )
        description = redact(str((answers.json_body(response) if error else {}).get("error_description") or ""))
        return StopEngine(f"Allegro {endpoint} answered {status} {error or ''} {description}".strip())

    def _token_set(self, endpoint: str, response: httpx.Response, previous: TokenSet | None) -> TokenSet:
        try:
            return from_token_response(
                answers.json_body(response),
                environment=self._config.environment,
                client_id=self._config.client_id,
                now=self._now(),
                previous=previous,
            )
        except MalformedAnswer as exc:
            raise RetryLater(f"Allegro {endpoint} sent an unusable token answer: {exc.field} {exc.detail}") from None

    async def refresh(self, current: TokenSet) -> TokenSet:
        """A new pair. invalid_grant -> StopEngine; transient failures: retried, then RetryLater."""
        if current.refresh_token is None:
            raise StopEngine("the stored token has no refresh token: run `allegro-sync auth login`")
        endpoint = "POST /auth/oauth/token (refresh_token)"
        data = {"grant_type": "refresh_token", "refresh_token": current.refresh_token.reveal()}
        spent = 0.0
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._post(token_url(self._config.auth_base), endpoint, data)
            except RetryLater:
                if attempt >= self._config.max_attempts or spent >= _REFRESH_RETRY_BUDGET_SECONDS:
                    raise
                response = None
            if response is not None:
                if response.status_code == 200:
                    return self._token_set(endpoint, response, current)
                if oauth_error(response) == "invalid_grant":
                    raise StopEngine(INVALID_GRANT_MESSAGE)
                failure = self._fail(endpoint, response)
                retryable = response.status_code >= 500
                if not retryable or attempt >= self._config.max_attempts or spent >= _REFRESH_RETRY_BUDGET_SECONDS:
                    raise failure
            wait = exponential(
                attempt,
                base_seconds=self._config.backoff_base_seconds,
                max_seconds=self._config.backoff_max_seconds,
            )
            spent += wait
            await self._budget.sleep(wait)

    async def start_device(self) -> DeviceCode:
        endpoint = "POST /auth/oauth/device"
        response = await self._post(device_url(self._config.auth_base), endpoint, {"client_id": self._config.client_id})
        if response.status_code != 200:
            raise self._fail(endpoint, response)
        try:
            body = answers.json_body(response)
            return DeviceCode(
                device_code=answers.text(body, "device_code"),
                user_code=answers.text(body, "user_code"),
                verification_uri=answers.text(body, "verification_uri"),
                verification_uri_complete=answers.optional_text(body, "verification_uri_complete"),
                expires_in=answers.integer(body, "expires_in"),
                interval=answers.optional_integer(body, "interval") or 5,
            )
        except MalformedAnswer as exc:
            raise RetryLater(f"Allegro {endpoint} sent an unusable answer: field {exc.field!r} {exc.detail}") from None

    async def poll_device(self, device_code: str) -> TokenSet | str:
        """The TokenSet once approved, else the OAuth `error` (authorization_pending, slow_down, ...)."""
        endpoint = "POST /auth/oauth/token (device_code)"
        data = {"grant_type": DEVICE_GRANT, "device_code": device_code}
        response = await self._post(token_url(self._config.auth_base), endpoint, data)
        if response.status_code == 200:
            return self._token_set(endpoint, response, None)
        error = oauth_error(response)
        if response.status_code == 400 and error:
            return error
        raise self._fail(endpoint, response)
