"""Contract: the order and offer journals, paging, Allegro's clock, stale cursors; checkout forms."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from engine.errors import Resync

from .conftest import Emulator

pytestmark = pytest.mark.anyio


async def test_order_journal_starts_from_the_newest_event_and_reads_after_it(emulator: Emulator) -> None:
    offer_id = await emulator.seller_offer(external={"id": "SKU-J"}, stock={"available": 9, "unit": "UNIT"})
    client = await emulator.client()
    assert await client.order_journal_start() is None
    first = await emulator.purchase(offer_id, 2)
    start = await client.order_journal_start()
    assert start is not None
    second = await emulator.purchase(offer_id, 1, paid=True)

    page = await client.order_events(start, limit=10)

    assert page.caught_up
    assert [e.checkout_form_id for e in page.entries] == [second["checkout_form_id"]] * len(page.entries)
    assert {e.type for e in page.entries} >= {"BOUGHT"}
    line = page.entries[0].lines[0]
    assert (line.offer_id, line.external_id, line.quantity) == (offer_id, "SKU-J", 1)
    assert line.line_id == second["line_item_id"]
    everything = await client.order_events(None)
    assert everything.entries[0].checkout_form_id == first["checkout_form_id"]


async def test_read_at_is_allegros_clock_from_the_date_header(emulator: Emulator) -> None:
    client = await emulator.client()
    emulator.advance(3 * 3600)
    page = await client.offer_events(None)
    expected = datetime.now(UTC) + timedelta(hours=3)
    assert abs((page.read_at - expected).total_seconds()) < 5
    assert page.read_at.tzinfo is not None


async def test_offer_events_page_by_limit_until_caught_up(emulator: Emulator) -> None:
    offer_id = await emulator.seller_offer(external={"id": "SKU-E"}, stock={"available": 20, "unit": "UNIT"})
    for _ in range(5):
        await emulator.purchase(offer_id)
    client = await emulator.client()
    first = await client.offer_events(None, limit=3)
    assert not first.caught_up and len(first.entries) == 3
    rest = await client.offer_events(first.entries[-1].event_id, limit=1000)
    assert rest.caught_up
    ids = [e.event_id for e in first.entries + rest.entries]
    assert len(ids) == len(set(ids)) >= 6  # activation + one stock change per purchase
    assert all(e.offer_id == offer_id for e in first.entries + rest.entries)
    assert sum(e.type == "OFFER_STOCK_CHANGED" for e in first.entries + rest.entries) == 5
    whole = await client.journals.offer_events_to_end(None, max_pages=10)
    assert [e.event_id for e in whole.entries] == ids and whole.caught_up


async def test_paging_to_the_end_reads_every_order_event_once(emulator: Emulator) -> None:
    offer_id = await emulator.seller_offer(stock={"available": 30, "unit": "UNIT"})
    for _ in range(7):
        await emulator.purchase(offer_id)
    client = await emulator.client()
    pages = []

    async def small_pages(after: str | None, limit: int):  # type: ignore[no-untyped-def]
        page = await client.order_events(after, limit=2)
        pages.append(page)
        return page

    from adapters.allegro.journals import read_to_end

    whole = await read_to_end("order", small_pages, None, limit=2)
    assert len(whole.entries) == 7 and whole.caught_up
    assert len(pages) == 4


async def test_unknown_offer_cursor_asks_for_a_resync(emulator: Emulator) -> None:
    client = await emulator.client()
    with pytest.raises(Resync, match="offer journal refused the cursor 'garbage!'"):
        await client.offer_events("garbage!")


async def test_unknown_order_cursor_asks_for_a_resync(emulator: Emulator) -> None:
    client = await emulator.client()
    with pytest.raises(Resync, match=r"order journal .* 60 days"):
        await client.order_events("not-a-number")


async def test_checkout_forms_since_a_time_are_paged_100_at_a_time(emulator: Emulator) -> None:
    offer_id = await emulator.seller_offer(stock={"available": 500, "unit": "UNIT"})
    before = datetime.now(UTC) - timedelta(seconds=1)
    bought = [
        answer["checkout_form_id"]
        for answer in await asyncio.gather(*(emulator.purchase(offer_id) for _ in range(105)))
    ]
    client = await emulator.client()
    forms = await client.checkout_forms(updated_since=before)
    assert sorted(f.checkout_form_id for f in forms) == sorted(bought)
    assert emulator.state.stats.by_route["GET /order/checkout-forms"] == 2
    assert all(f.status == "BOUGHT" and f.lines[0].offer_id == offer_id for f in forms)
    later = await client.checkout_forms(bought_since=datetime.now(UTC) + timedelta(hours=1))
    assert later == []
