"""Faults the emulator does not offer, from a tiny local Starlette app: looping journals, malformed answers.

Everything else is tested against the emulator; these answers are impossible to get from it on purpose.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.allegro.client import AllegroClient
from adapters.allegro.journals import JournalLoop, read_to_end
from adapters.allegro.secret import Secret
from adapters.allegro.settings import AllegroConfig
from adapters.allegro.tokens import TokenSet, TokenStore
from engine.errors import RetryLater, SkipItem
from engine.model import JournalPage, OfferEvent

from .fakes import FakeClock

pytestmark = pytest.mark.anyio
VENDOR = "application/vnd.allegro.public.v1+json"


def _event(event_id: str) -> dict[str, object]:
    return {
        "id": event_id,
        "occurredAt": "2026-01-01T10:00:00.000Z",
        "type": "OFFER_STOCK_CHANGED",
        "offer": {"id": "1", "external": {"id": "SKU"}},
    }


def _json(body: object, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=VENDOR)


async def _client(tmp_path, routes: list[Route]) -> AllegroClient:  # type: ignore[no-untyped-def]
    store = TokenStore(tmp_path / "tokens.json")
    store.save(
        TokenSet(
            access_token=Secret("a.b.c"),
            refresh_token=Secret("r"),
            environment="emulator",
            client_id="emulator-client",
            expires_at=datetime.now(UTC) + timedelta(hours=1),
        )
    )
    config = AllegroConfig(api_url="http://misbehaving.test", client_secret=Secret("s"), max_attempts=2)
    transport = httpx.ASGITransport(app=Starlette(routes=routes))
    return AllegroClient(config, store, transport=transport, clock=FakeClock())


def _route(path: str, handler: Callable[[Request], Response]) -> Route:
    async def endpoint(request: Request) -> Response:
        return handler(request)

    return Route(path, endpoint)


async def test_a_journal_that_answers_with_the_cursor_itself_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    routes = [_route("/sale/offer-events", lambda r: _json({"offerEvents": [_event(r.query_params["from"])]}))]
    client = await _client(tmp_path, routes)
    try:
        with pytest.raises(JournalLoop, match="refusing to loop"):
            await client.offer_events("E5")
    finally:
        await client.aclose()


async def test_a_missing_field_names_the_endpoint_and_the_field(tmp_path) -> None:  # type: ignore[no-untyped-def]
    broken = _event("E1")
    del broken["occurredAt"]
    routes = [
        _route("/sale/offer-events", lambda r: _json({"offerEvents": [_event("E0"), broken]})),
        _route("/sale/product-offers/{id}", lambda r: _json({"id": "1", "publication": {"status": "WEIRD"}})),
        _route("/order/events", lambda r: Response(b"<html>oops</html>", media_type="text/html")),
    ]
    client = await _client(tmp_path, routes)
    try:
        with pytest.raises(
            RetryLater,
            match=r"GET /sale/offer-events sent an unusable answer: field "
            r"'offerEvents\[1\]\.occurredAt' is missing",
        ):
            await client.offer_events(None)
        with pytest.raises(RetryLater, match=r"GET /order/events .* field '\(body\)' is not JSON"):
            await client.order_events(None)
        with pytest.raises(SkipItem, match=r"offer 1.*'publication.status' is 'WEIRD'"):
            await client.offers.get_offer("1")
    finally:
        await client.aclose()


class FakeJournal:
    """Pages scripted by cursor, for the paging rules alone."""

    def __init__(self, pages: dict[str | None, list[str]], limit: int = 2) -> None:
        self.pages = pages
        self.limit = limit
        self.asked: list[str | None] = []

    async def __call__(self, after: str | None, limit: int) -> JournalPage[OfferEvent]:
        self.asked.append(after)
        ids = self.pages[after]
        entries = tuple(
            OfferEvent(
                event_id=i,
                type="OFFER_STOCK_CHANGED",
                occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
                offer_id="1",
                external_id=None,
            )
            for i in ids
        )
        return JournalPage(entries=entries, read_at=datetime(2026, 1, 1, tzinfo=UTC), caught_up=len(ids) < limit)


async def test_paging_stops_at_a_short_page() -> None:
    journal = FakeJournal({None: ["a", "b"], "b": ["c", "d"], "d": ["e"]})
    page = await read_to_end("offer", journal, None, limit=2)
    assert [e.event_id for e in page.entries] == ["a", "b", "c", "d", "e"]
    assert journal.asked == [None, "b", "d"] and page.caught_up


async def test_paging_refuses_a_page_of_only_old_events() -> None:
    journal = FakeJournal({None: ["a", "b"], "b": ["a", "b"]})
    with pytest.raises(JournalLoop, match="only events already read"):
        await read_to_end("offer", journal, None, limit=2)


async def test_paging_refuses_a_cursor_that_comes_back() -> None:
    journal = FakeJournal({"x": ["a", "b"], "b": ["c", "x"], "x2": []})
    with pytest.raises(JournalLoop, match="led back to cursor 'x'"):
        await read_to_end("offer", journal, "x", limit=2)


async def test_paging_drops_repeats_inside_a_new_page_and_stops_at_max_pages() -> None:
    journal = FakeJournal({None: ["a", "b"], "b": ["b", "c"], "c": ["d", "e"], "e": ["f", "g"]})
    page = await read_to_end("offer", journal, None, limit=2, max_pages=3)
    assert [e.event_id for e in page.entries] == ["a", "b", "c", "d", "e"]
    assert not page.caught_up
