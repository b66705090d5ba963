"""Smoke: a purchase on an active offer shows up in both journals and in the checkout forms."""

from __future__ import annotations

import pytest

from tests.emulator.seller_api import SellerApi

pytestmark = pytest.mark.anyio


async def test_purchase_is_visible_in_journals_and_checkout_forms(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    bought = await seller.buy(offer["id"], 2, paid=True)

    assert await seller.offer_event_types() == ["OFFER_ACTIVATED", "OFFER_STOCK_CHANGED"]
    assert [event["type"] for event in await seller.order_events()] == ["BOUGHT", "READY_FOR_PROCESSING"]
    form = (await seller.get(f"/order/checkout-forms/{bought['checkout_form_id']}")).json()
    assert form["status"] == "READY_FOR_PROCESSING"
    assert form["lineItems"][0]["quantity"] == 2
    assert (await seller.offer(offer["id"]))["stock"]["available"] == 3
