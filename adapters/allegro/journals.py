"""The offer and order event journals: one page at a time, or paged to the end, refusing to loop."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

import httpx

from adapters.allegro import answers, readers
from adapters.allegro.answers import Json
from adapters.allegro.caller import Call, Caller
from adapters.allegro.errors import MalformedAnswer, classify, malformed
from engine.errors import Resync, RetryLater
from engine.model import JournalPage, OfferEvent, OrderEvent

T = TypeVar("T")
MAX_LIMIT = 1000


class JournalLoop(RetryLater):
    """A journal answered with events already read in this pass: following it would never end."""


class Journals:
    def __init__(self, caller: Caller) -> None:
        self._caller = caller

    async def order_journal_start(self) -> str | None:
        """`/order/event-stats`: the newest order event id (None when the seller has no events yet)."""
        endpoint = "GET /order/event-stats"
        response = await self._caller.send(Call(method="GET", path="/order/event-stats", endpoint=endpoint))
        try:
            return answers.optional_text(answers.json_body(response), "latestEvent.id")
        except MalformedAnswer as exc:
            raise malformed(endpoint, exc, per_item=False) from None

    async def offer_events(self, after: str | None, limit: int = MAX_LIMIT) -> JournalPage[OfferEvent]:
        return await self._page("offer", "/sale/offer-events", "offerEvents", after, limit, readers.offer_event)

    async def order_events(self, after: str | None, limit: int = MAX_LIMIT) -> JournalPage[OrderEvent]:
        return await self._page("order", "/order/events", "events", after, limit, readers.order_event)

    async def offer_events_to_end(self, after: str | None, *, max_pages: int = 100) -> JournalPage[OfferEvent]:
        return await read_to_end("offer", self.offer_events, after, max_pages=max_pages)

    async def order_events_to_end(self, after: str | None, *, max_pages: int = 100) -> JournalPage[OrderEvent]:
        return await read_to_end("order", self.order_events, after, max_pages=max_pages)

    async def _page(
        self, name: str, path: str, key: str, after: str | None, limit: int, read: Callable[[Json], T]
    ) -> JournalPage[T]:
        if not 1 <= limit <= MAX_LIMIT:
            raise ValueError(f"limit must be 1..{MAX_LIMIT}, got {limit}")
        endpoint = f"GET {path}"
        params = [("limit", str(limit))] + ([("from", after)] if after else [])
        call = Call(method="GET", path=path, endpoint=endpoint, params=params, expect=frozenset({200, 400, 422}))
        response = await self._caller.send(call)
        if response.status_code != 200:
            raise _stale_or_refused(name, endpoint, response, after)
        try:
            body = answers.json_body(response)
            entries = []
            for index, item in enumerate(answers.items(body, key)):
                try:
                    entries.append(read(item))
                except MalformedAnswer as exc:
                    raise MalformedAnswer(f"{key}[{index}].{exc.field}", exc.detail) from None
            read_at = answers.server_time(response)
        except MalformedAnswer as exc:
            raise malformed(endpoint, exc, per_item=False) from None
        ids = [_event_id(entry) for entry in entries]
        if after is not None and after in ids:
            raise JournalLoop(
                f"the {name} journal answered `from={after}` with that same event again; refusing to loop"
            )
        return JournalPage(entries=tuple(entries), read_at=read_at, caught_up=len(entries) < limit)


def _event_id(entry: object) -> str:
    return str(getattr(entry, "event_id"))  # noqa: B009 - OfferEvent and OrderEvent share the field


def _stale_or_refused(name: str, endpoint: str, response: httpx.Response, after: str | None) -> Exception:
    """A 400/422 for a `from` Allegro no longer knows means the cursor fell out of retention (UNVERIFIED)."""
    paths = _error_paths(response)
    if after is not None and not paths & {"limit", "type"}:
        retention = "24 hours" if name == "offer" else "60 days"
        return Resync(
            f"the {name} journal refused the cursor {after!r} ({response.status_code}): it is unknown or older "
            f"than the journal's {retention} retention; run a full reconciliation, then move the cursor"
        )
    return classify(endpoint, response)


def _error_paths(response: httpx.Response) -> set[str]:
    try:
        body = answers.json_body(response)
    except MalformedAnswer:
        return set()
    return {str(e.get("path")) for e in answers.optional(body, "errors") or [] if isinstance(e, dict)}


async def read_to_end(
    name: str,
    fetch: Callable[[str | None, int], Awaitable[JournalPage[T]]],
    after: str | None,
    *,
    limit: int = MAX_LIMIT,
    max_pages: int = 100,
) -> JournalPage[T]:
    """Every entry after `after`, page by page, until a short page (caught up) or `max_pages`.

    Refuses to loop: a cursor used twice in one read, or a page made only of ids already read, raises
    JournalLoop. Repeats inside an otherwise new page (a shuffled page re-delivered from its last id) are
    dropped. `read_at` is the Date of the last page; `caught_up` is False when `max_pages` stopped the read.
    """
    cursors: set[str | None] = {after}
    seen: set[str] = set()
    entries: list[T] = []
    cursor = after
    read_at: datetime | None = None
    for _ in range(max_pages):
        page = await fetch(cursor, limit)
        read_at = page.read_at
        fresh = [entry for entry in page.entries if _event_id(entry) not in seen]
        if page.entries and not fresh:
            raise JournalLoop(f"the {name} journal re-sent only events already read after {cursor!r}; refusing to loop")
        seen.update(_event_id(entry) for entry in fresh)
        entries.extend(fresh)
        if page.caught_up:
            return JournalPage(entries=tuple(entries), read_at=read_at, caught_up=True)
        cursor = _event_id(page.entries[-1])
        if cursor in cursors:
            raise JournalLoop(f"the {name} journal led back to cursor {cursor!r}; refusing to loop")
        cursors.add(cursor)
    assert read_at is not None
    return JournalPage(entries=tuple(entries), read_at=read_at, caught_up=False)
