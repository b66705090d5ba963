"""The API gateway in front of every route: trace ids, clock, counters, latency, faults, auth, limits, Accept."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emulator import tokens
from emulator.clock import http_date
from emulator.housekeeping import tick
from emulator.http import accepts_vendor_type, auth_error, error, json_response
from emulator.records import AccessToken
from emulator.state import EmulatorState, RateWindow

# Resources an application (client_credentials) token may call.
APPLICATION_PATHS = ("/sale/categories", "/sale/products")
RATE_LIMIT_BODY = {
    "errors": [error("RateLimitExceedException", "An error has occurred", user_message="Przekroczony limit zapytań.")]
}
WINDOW_SECONDS = 60.0


class Gateway:
    """Pure ASGI middleware; control calls (`/__emulator/`) only get headers and counters, never faults."""

    def __init__(
        self, app: ASGIApp, state: EmulatorState, routes: Sequence[BaseRoute], after_write: Callable[[], None]
    ) -> None:
        self.app = app
        self.state = state
        self.routes = routes
        self.after_write = after_write

    def _template(self, scope: Scope) -> str:
        for route in self.routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return str(getattr(route, "path", scope["path"]))
        return str(scope["path"])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = self.state
        path: str = scope["path"]
        method: str = scope["method"]
        control = path.startswith("/__emulator")
        oauth = path.startswith("/auth/oauth")
        stats = state.stats
        if not control:
            stats.total += 1
            stats.by_route[f"{method} {self._template(scope)}"] += 1
        trace_id = str(uuid.uuid4())

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status = int(message["status"])
                if not control:
                    stats.by_status[status] += 1
                    stats.sent_429 += status == 429
                headers = [(key, value) for key, value in message.get("headers", []) if key.lower() != b"date"]
                headers += [(b"trace-id", trace_id.encode()), (b"date", http_date(state.now()).encode())]
                message = {**message, "headers": headers}
            await send(message)

        tick(state, run_commands=not (method == "PUT" and "-commands/" in path))
        early: Response | None = None
        if not control and (not oauth or state.faults.faults_on_oauth):
            if state.faults.latency_ms > 0:
                await asyncio.sleep(state.faults.latency_ms / 1000)
            if not oauth:
                early = self._gate(scope)
            if early is None:
                early = self._random_fault(oauth=oauth)
        if early is not None:
            await early(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)
        if method != "GET" and state.config.state_file:
            self.after_write()

    def _gate(self, scope: Scope) -> Response | None:
        """Authentication, the client-id rate limit and the Accept header, in the gateway's order."""
        state = self.state
        request = Request(scope)
        checked = tokens.check_access(state, request.headers.get("authorization"))
        if not isinstance(checked, AccessToken):
            return auth_error(401, *checked)
        if checked.seller_id is None and not scope["path"].startswith(APPLICATION_PATHS):
            return json_response(
                {
                    "errors": [
                        error(
                            "AccessDenied",
                            "Access is denied: this resource needs a user token, not an application token",
                        )
                    ]
                },
                403,
            )
        scope.setdefault("state", {})["seller_id"] = checked.seller_id or ""
        limited = self._rate_limit(checked.client_id)
        if limited is not None:
            return limited
        if not accepts_vendor_type(request):
            return json_response(
                {
                    "errors": [
                        error(
                            "NotAcceptableException",
                            "Not acceptable representation requested. Please check 'Accept' request header",
                        )
                    ]
                },
                406,
            )
        return None

    def _too_many(self, retry_after: float, *, oauth: bool = False) -> Response:
        headers = {"Retry-After": str(max(1, round(retry_after)))} if self.state.faults.retry_after_on_429 else None
        if oauth:
            return auth_error(429, "too_many_requests", "Too many requests", headers=headers)
        return json_response(RATE_LIMIT_BODY, 429, headers=headers, media_type="application/json")

    def _rate_limit(self, client_id: str) -> Response | None:
        """9000 requests a minute per client id (configurable); beyond it the client id is blocked a minute."""
        state = self.state
        now = state.now()
        window = state.rate_windows.setdefault(client_id, RateWindow())
        if window.blocked_until > now:
            return self._too_many(window.blocked_until - now)
        while window.stamps and window.stamps[0] <= now - WINDOW_SECONDS:
            window.stamps.popleft()
        if len(window.stamps) >= state.faults.client_rate_limit_per_minute:
            window.blocked_until = now + WINDOW_SECONDS
            window.stamps.clear()
            return self._too_many(WINDOW_SECONDS)
        window.stamps.append(now)
        return None

    def _random_fault(self, *, oauth: bool) -> Response | None:
        state = self.state
        if state.chance(state.faults.error_rate_429):
            return self._too_many(1, oauth=oauth)
        if state.chance(state.faults.error_rate_5xx):
            status = state.rng.choice((500, 502, 503))
            if oauth:
                return auth_error(status, "server_error", "An error has occurred")
            return json_response({"errors": [error("InternalServerError", "An error has occurred")]}, status)
        return None
