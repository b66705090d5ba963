"""Reading and editing offers: parts, 403/404, merge-patch rules, ending and re-activation, slow edits, limits."""

from __future__ import annotations

import pytest

from tests.emulator.seller_api import SellerApi, offer_body

pytestmark = pytest.mark.anyio


async def test_unknown_offer_is_404_and_foreign_offer_is_403(seller: SellerApi) -> None:
    assert (await seller.get("/sale/product-offers/1")).status_code == 404
    foreign = await seller.control("POST", "offers", {**offer_body(), "seller_id": "99"})
    response = await seller.get(f"/sale/product-offers/{foreign.json()['id']}")
    assert response.status_code == 403


async def test_parts_return_only_what_was_included(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    both = await seller.get(
        f"/sale/product-offers/{offer['id']}/parts", params=[("include", "stock"), ("include", "price")]
    )
    assert both.json() == {
        "id": offer["id"],
        "stock": {"available": 5},
        "sellingMode": {"price": {"amount": "19.99", "currency": "PLN"}},
    }
    stock = await seller.get(f"/sale/product-offers/{offer['id']}/parts", params={"include": "stock"})
    assert stock.json() == {"id": offer["id"], "stock": {"available": 5}}


async def test_parts_without_include_is_a_bad_request(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    assert (await seller.get(f"/sale/product-offers/{offer['id']}/parts")).status_code == 400


async def test_patch_replaces_arrays_whole_and_emits_offer_changed(seller: SellerApi) -> None:
    offer = await seller.create_offer(images=["https://example.invalid/a.jpg", "https://example.invalid/b.jpg"])
    response = await seller.patch(f"/sale/product-offers/{offer['id']}", {"images": ["https://example.invalid/c.jpg"]})
    assert response.status_code == 200
    assert response.json()["images"] == ["https://example.invalid/c.jpg"]
    assert response.json()["name"] == offer["name"]
    assert await seller.offer_event_types() == ["OFFER_ACTIVATED", "OFFER_CHANGED"]


async def test_patch_price_emits_price_changed(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    response = await seller.patch(
        f"/sale/product-offers/{offer['id']}", {"sellingMode": {"price": {"amount": "25.50", "currency": "PLN"}}}
    )
    assert response.json()["sellingMode"]["price"]["amount"] == "25.50"
    assert await seller.offer_event_types() == ["OFFER_ACTIVATED", "OFFER_PRICE_CHANGED"]


async def test_patch_stock_zero_ends_an_active_offer_as_empty_stock(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    response = await seller.patch(f"/sale/product-offers/{offer['id']}", {"stock": {"available": 0}})
    assert response.status_code == 200
    assert response.json()["publication"]["status"] == "ENDED"
    assert response.json()["publication"]["endedBy"] == "EMPTY_STOCK"
    assert await seller.offer_event_types() == ["OFFER_ACTIVATED", "OFFER_STOCK_CHANGED", "OFFER_ENDED"]


async def test_raising_stock_alone_does_not_reactivate_an_ended_offer(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    await seller.patch(f"/sale/product-offers/{offer['id']}", {"stock": {"available": 0}})
    response = await seller.patch(f"/sale/product-offers/{offer['id']}", {"stock": {"available": 4}})
    assert response.json()["publication"]["status"] == "ENDED"
    assert response.json()["stock"]["available"] == 4


async def test_stock_and_active_in_one_patch_reactivate_an_ended_offer_keeping_its_id(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    await seller.patch(f"/sale/product-offers/{offer['id']}", {"stock": {"available": 0}})
    response = await seller.patch(
        f"/sale/product-offers/{offer['id']}", {"stock": {"available": 3}, "publication": {"status": "ACTIVE"}}
    )
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["publication"]["status"]) == (offer["id"], "ACTIVE")
    assert (await seller.offer_event_types())[-1] == "OFFER_ACTIVATED"


async def test_activation_requires_stock(seller: SellerApi) -> None:
    offer = await seller.create_offer(publication=None, stock={"available": 0})
    response = await seller.patch(f"/sale/product-offers/{offer['id']}", {"publication": {"status": "ACTIVE"}})
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "AvailableStockMustEqualToOneOrBeGreaterThanOne"
    assert (await seller.offer(offer["id"]))["publication"]["status"] == "INACTIVE"


async def test_ended_is_applied_even_when_other_fields_fail(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    response = await seller.patch(
        f"/sale/product-offers/{offer['id']}", {"name": "short", "publication": {"status": "ENDED"}}
    )
    assert response.status_code == 422
    ended = await seller.offer(offer["id"])
    assert (ended["publication"]["status"], ended["publication"]["endedBy"], ended["name"]) == (
        "ENDED",
        "USER",
        offer["name"],
    )


async def test_slow_patch_answers_202_and_409_until_processed(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    await seller.faults(patch_processing_seconds=10)
    first = await seller.patch(f"/sale/product-offers/{offer['id']}", {"stock": {"available": 2}})
    assert first.status_code == 202 and first.json()["stock"]["available"] == 5
    assert "location" in first.headers
    second = await seller.patch(f"/sale/product-offers/{offer['id']}", {"stock": {"available": 1}})
    assert second.status_code == 409
    await seller.advance(10)
    assert (await seller.offer(offer["id"]))["stock"]["available"] == 2
    third = await seller.patch(f"/sale/product-offers/{offer['id']}", {"stock": {"available": 1}})
    assert third.status_code == 202


async def test_offer_edits_per_seller_are_limited_per_minute(seller: SellerApi) -> None:
    await seller.faults(seller_offer_edits_per_minute=2, retry_after_on_429=True)
    offer = await seller.create_offer()
    for stock in (4, 3):
        assert (await seller.patch(f"/sale/product-offers/{offer['id']}", {"stock": {"available": stock}})).is_success
    refused = await seller.patch(f"/sale/product-offers/{offer['id']}", {"stock": {"available": 2}})
    assert refused.status_code == 429 and refused.headers["retry-after"] == "60"
    await seller.advance(60)
    assert (await seller.patch(f"/sale/product-offers/{offer['id']}", {"stock": {"available": 2}})).is_success


async def test_offer_reads_per_seller_are_limited_per_minute(seller: SellerApi) -> None:
    await seller.faults(seller_offer_reads_per_minute=1)
    offer = await seller.create_offer()
    assert (await seller.get(f"/sale/product-offers/{offer['id']}")).status_code == 200
    assert (await seller.get(f"/sale/product-offers/{offer['id']}")).status_code == 429
    parts = await seller.get(f"/sale/product-offers/{offer['id']}/parts", params={"include": "stock"})
    assert parts.status_code == 200
