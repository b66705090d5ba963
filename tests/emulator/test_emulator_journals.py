"""The offer and order event journals: cursors, limits, type filters, retention and what emits events."""

from __future__ import annotations

import base64

import pytest

from tests.emulator.seller_api import SellerApi

pytestmark = pytest.mark.anyio


async def _panel(seller: SellerApi, offer_id: str, **changes: object) -> None:
    response = await seller.control("PATCH", f"offers/{offer_id}", changes)
    assert response.status_code == 200, response.text


async def test_offer_event_ids_are_unpadded_base64_of_a_decimal(seller: SellerApi) -> None:
    await seller.create_offer()
    event_id = (await seller.get("/sale/offer-events")).json()["offerEvents"][0]["id"]
    assert "=" not in event_id
    assert base64.urlsafe_b64decode(event_id + "=" * (-len(event_id) % 4)).decode().isdigit()


async def test_offer_events_are_strictly_after_from(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    first = (await seller.get("/sale/offer-events")).json()["offerEvents"]
    await _panel(seller, offer["id"], stock=3)
    after = (await seller.get("/sale/offer-events", params={"from": first[-1]["id"]})).json()["offerEvents"]
    assert [event["type"] for event in after] == ["OFFER_STOCK_CHANGED"]
    assert after[0]["offer"] == {"id": offer["id"], "external": {"id": "SKU-1"}}
    caught_up = await seller.get("/sale/offer-events", params={"from": after[-1]["id"]})
    assert caught_up.json() == {"offerEvents": []}


async def test_offer_events_default_to_100_per_page(seller: SellerApi) -> None:
    offer = await seller.create_offer(stock={"available": 200})
    for stock in range(199, 89, -1):
        await _panel(seller, offer["id"], stock=stock)
    assert len(await seller.offer_event_types()) == 100
    assert len(await seller.offer_event_types(limit=5)) == 5


@pytest.mark.parametrize("limit", ["0", "1001", "x"])
async def test_offer_events_refuse_a_limit_outside_1_to_1000_with_400(seller: SellerApi, limit: str) -> None:
    response = await seller.get("/sale/offer-events", params={"limit": limit})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")


async def test_offer_events_refuse_an_unknown_from(seller: SellerApi) -> None:
    assert (await seller.get("/sale/offer-events", params={"from": "not-an-id"})).status_code == 400


async def test_offer_events_filter_by_repeated_type(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    await _panel(seller, offer["id"], stock=3, price="30.00")
    types = await seller.offer_event_types(type=["OFFER_PRICE_CHANGED", "OFFER_ACTIVATED"])
    assert types == ["OFFER_ACTIVATED", "OFFER_PRICE_CHANGED"]


async def test_price_event_names_the_marketplace_but_carries_no_price(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    await _panel(seller, offer["id"], price="30.00")
    event = (await seller.get("/sale/offer-events", params={"type": "OFFER_PRICE_CHANGED"})).json()["offerEvents"][0]
    assert event["offer"]["marketplaces"] == [{"id": "allegro-pl", "changeType": "MANUAL"}]
    assert "price" not in event["offer"]


async def test_offer_events_are_kept_for_24_hours(seller: SellerApi) -> None:
    await seller.create_offer()
    await seller.advance(24 * 3600 - 1)
    assert await seller.offer_event_types() == ["OFFER_ACTIVATED"]
    await seller.advance(2)
    assert await seller.offer_event_types() == []


async def test_drafts_and_ended_offers_emit_no_events(seller: SellerApi) -> None:
    draft = await seller.create_offer(publication=None)
    await _panel(seller, draft["id"], stock=9, price="1.00")
    ended = await seller.create_offer()
    await _panel(seller, ended["id"], status="ENDED")
    await _panel(seller, ended["id"], stock=9, price="2.00")
    assert await seller.offer_event_types() == ["OFFER_ACTIVATED", "OFFER_ENDED"]


async def test_purchase_emits_stock_changed_and_selling_out_ends_the_offer(seller: SellerApi) -> None:
    offer = await seller.create_offer(stock={"available": 2})
    await seller.buy(offer["id"], 1)
    await seller.buy(offer["id"], 1)
    response = (await seller.get("/sale/offer-events")).json()["offerEvents"]
    assert [event["type"] for event in response] == [
        "OFFER_ACTIVATED",
        "OFFER_STOCK_CHANGED",
        "OFFER_STOCK_CHANGED",
        "OFFER_ENDED",
    ]
    assert response[-1]["offer"]["publication"] == {"endedBy": "EMPTY_STOCK"}


async def test_seller_panel_end_is_ended_by_user(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    await _panel(seller, offer["id"], status="ENDED")
    event = (await seller.get("/sale/offer-events", params={"type": "OFFER_ENDED"})).json()["offerEvents"][0]
    assert event["offer"]["publication"] == {"endedBy": "USER"}


async def test_order_events_are_strictly_after_from(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    await seller.buy(offer["id"])
    first = await seller.order_events()
    await seller.buy(offer["id"], paid=True)
    after = await seller.order_events(**{"from": first[-1]["id"]})
    assert [event["type"] for event in after] == ["BOUGHT", "READY_FOR_PROCESSING"]
    assert await seller.order_events(**{"from": after[-1]["id"]}) == []


async def test_order_event_carries_the_order_with_the_checkout_form_revision(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    bought = await seller.buy(offer["id"], 2)
    order = (await seller.order_events())[0]["order"]
    assert order["seller"] == {"id": "437848322"}
    assert order["lineItems"][0]["offer"] == {"id": offer["id"], "name": offer["name"], "external": {"id": "SKU-1"}}
    assert order["lineItems"][0]["quantity"] == 2
    form = (await seller.get(f"/order/checkout-forms/{bought['checkout_form_id']}")).json()
    assert order["checkoutForm"] == {"id": bought["checkout_form_id"], "revision": form["revision"]}


@pytest.mark.parametrize("limit", ["0", "1001"])
async def test_order_events_refuse_a_limit_outside_1_to_1000_with_422(seller: SellerApi, limit: str) -> None:
    assert (await seller.get("/order/events", params={"limit": limit})).status_code == 422


async def test_order_events_filter_by_type(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    await seller.buy(offer["id"], paid=True)
    events = await seller.order_events(type="READY_FOR_PROCESSING")
    assert [event["type"] for event in events] == ["READY_FOR_PROCESSING"]


async def test_order_events_are_kept_for_60_days(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    await seller.buy(offer["id"])
    await seller.advance(60 * 24 * 3600 - 1)
    assert len(await seller.order_events()) == 1
    await seller.advance(2)
    assert await seller.order_events() == []


async def test_event_stats_point_at_the_latest_order_event(seller: SellerApi) -> None:
    assert (await seller.get("/order/event-stats")).json() == {}
    offer = await seller.create_offer()
    await seller.buy(offer["id"], paid=True)
    latest = (await seller.get("/order/event-stats")).json()["latestEvent"]
    events = await seller.order_events()
    assert latest == {"id": events[-1]["id"], "occurredAt": events[-1]["occurredAt"]}
    assert await seller.order_events(**{"from": latest["id"]}) == []


async def test_ended_offer_is_archived_after_60_days_with_an_archived_event(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    await _panel(seller, offer["id"], status="ENDED")
    await seller.advance(60 * 24 * 3600 + 61)
    assert await seller.offer_event_types() == ["OFFER_ARCHIVED"]
    assert (await seller.get(f"/sale/product-offers/{offer['id']}")).status_code == 404
    assert (await seller.get("/sale/offers")).json()["totalCount"] == 0


async def test_untouched_draft_is_deleted_after_60_days_without_an_event(seller: SellerApi) -> None:
    draft = await seller.create_offer(publication=None)
    await seller.advance(60 * 24 * 3600 + 61)
    assert (await seller.get(f"/sale/product-offers/{draft['id']}")).status_code == 404
    assert await seller.offer_event_types() == []


async def test_delayed_order_events_join_the_journal_late_and_behind_the_cursor(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    await seller.buy(offer["id"])
    seen = await seller.order_events()
    await seller.faults(order_event_delay_seconds=30)
    bought = await seller.buy(offer["id"])
    assert await seller.order_events(**{"from": seen[-1]["id"]}) == []
    await seller.advance(30)
    late = await seller.order_events(**{"from": seen[-1]["id"]})
    assert [event["type"] for event in late] == ["BOUGHT"]
    form = (await seller.get(f"/order/checkout-forms/{bought['checkout_form_id']}")).json()
    assert late[0]["occurredAt"] == form["lineItems"][0]["boughtAt"]


async def test_filled_in_purchase_emits_filled_in_before_payment(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    bought = await seller.control("POST", "purchases", {"offer_id": offer["id"], "quantity": 1, "filled_in": True})
    form = (await seller.get(f"/order/checkout-forms/{bought.json()['checkout_form_id']}")).json()
    assert form["status"] == "FILLED_IN"
    assert [event["type"] for event in await seller.order_events()] == ["BOUGHT", "FILLED_IN"]
