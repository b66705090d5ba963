"""The one pooled `httpx.AsyncClient` per process: timeouts, limits, base URL and Allegro's headers."""

from __future__ import annotations

import httpx

from adapters.allegro.settings import AllegroConfig

VENDOR_TYPE = "application/vnd.allegro.public.v1+json"


def make_http_client(config: AllegroConfig, *, transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    """Create the shared client. `transport` lets tests plug in `httpx.ASGITransport(app=emulator_app)`.

    Redirects are NOT followed: the offer operation endpoint ends with a 303 that the client must see.
    OAuth calls use absolute URLs under `auth_url` through this same pool.
    """
    return httpx.AsyncClient(
        base_url=config.api_base,
        transport=transport,
        follow_redirects=False,
        timeout=httpx.Timeout(
            connect=config.connect_timeout_seconds,
            read=config.read_timeout_seconds,
            write=config.write_timeout_seconds,
            pool=config.pool_timeout_seconds,
        ),
        limits=httpx.Limits(
            max_connections=config.max_concurrency,
            max_keepalive_connections=config.max_concurrency,
            keepalive_expiry=30.0,
        ),
        headers={"User-Agent": config.user_agent, "Accept": VENDOR_TYPE},
    )
