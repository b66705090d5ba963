"""Contract: offers through AllegroClient against the emulator (in-process and over real HTTP)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from adapters.allegro.errors import UncertainOutcome
from engine.errors import RetryLater, SkipItem
from engine.model import OfferStatus

from .conftest import Emulator, offer_body
from .fakes import FakeClock

pytestmark = pytest.mark.anyio


async def test_create_offer_returns_the_new_offer(emulator: Emulator) -> None:
    client = await emulator.client()
    snapshot = await client.create_offer(offer_body(external={"id": "SKU-7"}))
    assert snapshot.external_id == "SKU-7"
    assert snapshot.status is OfferStatus.ACTIVE
    assert snapshot.available == 5
    assert snapshot.price == Decimal("19.99")
    assert [o["id"] for o in await emulator.offers()] == [snapshot.offer_id]


async def test_async_creation_is_followed_through_the_operation_to_the_offer(emulator: Emulator) -> None:
    await emulator.faults(async_offer_creation=True, async_operation_polls=2, retry_after_seconds=7)
    clock = FakeClock()  # the emulator's clock stands still: the operation ends by being polled
    client = await emulator.client(clock=clock)
    snapshot = await client.create_offer(offer_body(external={"id": "SKU-A"}))
    assert snapshot.status is OfferStatus.ACTIVE
    assert snapshot.external_id == "SKU-A"
    assert clock.sleeps == [7.0, 7.0, 7.0]  # Retry-After honoured before each poll
    routes = emulator.state.stats.by_route
    assert routes["GET /sale/product-offers/{offerId}/operations/{operationId}"] == 3  # 202, 202, 303
    assert routes["GET /sale/product-offers/{offerId}"] == 1  # the 303's target, read by us
    assert len(await emulator.offers()) == 1


async def test_rejected_offer_is_skipped_with_every_reason(emulator: Emulator) -> None:
    client = await emulator.client()
    body = offer_body(name="x", parameters=[], images=None, external={"id": "SKU-BAD"})
    with pytest.raises(SkipItem) as caught:
        await client.create_offer(body)
    assert len(caught.value.problems) >= 2
    assert any("name" in problem for problem in caught.value.problems)
    assert "POST /sale/product-offers answered 422" in str(caught.value)
    assert await emulator.offers() == []


async def test_creation_after_a_lost_answer_adopts_the_offer_instead_of_duplicating(emulator: Emulator) -> None:
    await emulator.faults(timeout_after_registration=1.0)
    clock = emulator.fake_clock()
    client = await emulator.client(clock=clock)
    snapshot = await client.create_offer(offer_body(external={"id": "SKU-LOST"}))
    offers = await emulator.offers()
    assert [o["id"] for o in offers] == [snapshot.offer_id]
    assert snapshot.external_id == "SKU-LOST"
    assert emulator.state.stats.by_route["POST /sale/product-offers"] == 1
    assert clock.sleeps == [3.0]  # waited before looking it up


async def test_creation_needs_an_external_id(emulator: Emulator) -> None:
    client = await emulator.client()
    with pytest.raises(ValueError, match="external"):
        await client.create_offer(offer_body(external=None))


async def test_patch_applies_and_answers_the_offer(emulator: Emulator) -> None:
    offer_id = await emulator.seller_offer()
    client = await emulator.client()
    snapshot = await client.patch_offer(offer_id, {"stock": {"available": 0}})
    assert snapshot.offer_id == offer_id
    assert snapshot.available == 0
    assert snapshot.status is OfferStatus.ENDED


async def test_slow_patch_is_followed_to_the_edited_offer(emulator: Emulator) -> None:
    offer_id = await emulator.seller_offer()
    await emulator.faults(patch_processing_seconds=3, async_operation_polls=0)
    client = await emulator.client()
    snapshot = await client.patch_offer(offer_id, {"sellingMode": {"price": {"amount": "25.00", "currency": "PLN"}}})
    assert snapshot.price == Decimal("25.00")
    assert emulator.state.stats.by_status[202] >= 1


async def test_an_edit_while_the_previous_one_is_processing_is_retried_later(emulator: Emulator) -> None:
    offer_id = await emulator.seller_offer()
    await emulator.faults(patch_processing_seconds=30)
    client = await emulator.client()
    token = await client.tokens.access_token()
    started = await client.http.patch(  # an edit started elsewhere, still processing
        f"/sale/product-offers/{offer_id}",
        content=b'{"stock": {"available": 3}}',
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/vnd.allegro.public.v1+json"},
    )
    assert started.status_code == 202
    with pytest.raises(RetryLater, match="still processing") as caught:
        await client.patch_offer(offer_id, {"stock": {"available": 4}})
    assert caught.value.retry_after_seconds is not None
    assert emulator.state.stats.by_status[409] == 1  # not hammered


async def test_offer_parts_reads_stock_price_and_status_and_archives_missing_offers(emulator: Emulator) -> None:
    active = await emulator.seller_offer(external={"id": "SKU-P1"})
    ended = await emulator.seller_offer(external={"id": "SKU-P2"}, stock={"available": 2, "unit": "UNIT"})
    await emulator.control.patch(f"/__emulator/offers/{ended}", json={"status": "ENDED"})
    client = await emulator.client()
    snapshots = await client.offer_parts([active, "99999999999", ended])
    assert [s.offer_id for s in snapshots] == [active, "99999999999", ended]
    assert snapshots[0].status is OfferStatus.ACTIVE and snapshots[0].available == 5
    assert snapshots[0].external_id == "SKU-P1" and snapshots[0].price == Decimal("19.99")
    assert snapshots[1].status is OfferStatus.ARCHIVED
    assert snapshots[2].status is OfferStatus.ENDED and snapshots[2].external_id == "SKU-P2"


async def test_offers_by_external_id_batches_100_per_call(emulator: Emulator) -> None:
    wanted = [await emulator.seller_offer(external={"id": f"SKU-{n}"}) for n in range(3)]
    client = await emulator.client()
    asked = [f"SKU-{n}" for n in range(150)]
    snapshots = await client.offers_by_external_id(asked)
    assert sorted(s.offer_id for s in snapshots) == sorted(wanted)
    assert emulator.state.stats.by_route["GET /sale/offers"] == 2


async def test_all_offers_pages_through_every_offer(emulator: Emulator) -> None:
    ids = {await emulator.seller_offer(external={"id": f"SKU-{n}"}) for n in range(7)}
    client = await emulator.client()
    client.offers.page_size = 3
    seen = [snapshot.offer_id async for snapshot in client.all_offers()]
    assert sorted(seen) == sorted(ids)
    assert emulator.state.stats.by_route["GET /sale/offers"] == 3


async def test_uncertain_outcome_is_a_retry_later(emulator: Emulator) -> None:
    assert issubclass(UncertainOutcome, RetryLater)


async def test_another_sellers_offer_is_skipped(emulator: Emulator) -> None:
    foreign = await emulator.seller_offer(seller_id="999", external={"id": "THEIRS"})
    client = await emulator.client()
    with pytest.raises(SkipItem, match="answered 403"):
        await client.offers.get_offer(foreign)
    with pytest.raises(SkipItem, match="answered 403"):
        await client.patch_offer(foreign, {"stock": {"available": 1}})
    assert await client.offers_by_external_id(["THEIRS"]) == []
