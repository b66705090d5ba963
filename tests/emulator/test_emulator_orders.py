"""Orders on the emulator: purchases, payments, cancellations, checkout forms and the fulfillment status."""

from __future__ import annotations

import pytest

from tests.emulator.seller_api import SellerApi

pytestmark = pytest.mark.anyio


async def _form(seller: SellerApi, form_id: str) -> dict[str, object]:
    response = await seller.get(f"/order/checkout-forms/{form_id}")
    assert response.status_code == 200
    form: dict[str, object] = response.json()
    return form


async def _cancel(seller: SellerApi, form_id: str, by: str) -> None:
    response = await seller.control("POST", "cancellations", {"checkout_form_id": form_id, "by": by})
    assert response.status_code == 200, response.text


async def test_unpaid_purchase_is_bought_and_payment_makes_it_ready(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    bought = await seller.buy(offer["id"])
    assert (await _form(seller, bought["checkout_form_id"]))["status"] == "BOUGHT"
    paid = await seller.control("POST", "payments", {"checkout_form_id": bought["checkout_form_id"]})
    assert paid.json()["status"] == "READY_FOR_PROCESSING"
    form = await _form(seller, bought["checkout_form_id"])
    assert form["status"] == "READY_FOR_PROCESSING"
    assert form["payment"]["paidAmount"] == {"amount": "19.99", "currency": "PLN"}  # type: ignore[index]
    assert [event["type"] for event in await seller.order_events()] == ["BOUGHT", "READY_FOR_PROCESSING"]


async def test_paying_twice_is_refused(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    bought = await seller.buy(offer["id"], paid=True)
    again = await seller.control("POST", "payments", {"checkout_form_id": bought["checkout_form_id"]})
    assert again.status_code == 409


async def test_buying_more_than_the_stock_is_refused(seller: SellerApi) -> None:
    offer = await seller.create_offer(stock={"available": 2})
    response = await seller.control("POST", "purchases", {"offer_id": offer["id"], "quantity": 3, "paid": False})
    assert response.status_code == 409
    assert (await seller.offer(offer["id"]))["stock"]["available"] == 2


async def test_buying_from_an_inactive_offer_is_refused(seller: SellerApi) -> None:
    offer = await seller.create_offer(publication=None)
    response = await seller.control("POST", "purchases", {"offer_id": offer["id"], "quantity": 1})
    assert response.status_code == 409


async def test_buying_from_an_unknown_offer_is_unprocessable(seller: SellerApi) -> None:
    response = await seller.control("POST", "purchases", {"offer_id": "1", "quantity": 1})
    assert response.status_code == 422


async def test_buyer_cancellation_emits_buyer_cancelled_after_ready_for_processing(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    bought = await seller.buy(offer["id"], paid=True)
    await _cancel(seller, bought["checkout_form_id"], "BUYER")
    assert (await _form(seller, bought["checkout_form_id"]))["status"] == "CANCELLED"
    types = [event["type"] for event in await seller.order_events()]
    assert types == ["BOUGHT", "READY_FOR_PROCESSING", "BUYER_CANCELLED"]


async def test_auto_cancellation_emits_auto_cancelled(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    bought = await seller.buy(offer["id"])
    await _cancel(seller, bought["checkout_form_id"], "AUTO")
    assert [event["type"] for event in await seller.order_events()] == ["BOUGHT", "AUTO_CANCELLED"]


async def test_seller_cancellation_changes_only_the_checkout_form(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    bought = await seller.buy(offer["id"], paid=True)
    await _cancel(seller, bought["checkout_form_id"], "SELLER")
    assert (await _form(seller, bought["checkout_form_id"]))["status"] == "CANCELLED"
    assert [event["type"] for event in await seller.order_events()] == ["BOUGHT", "READY_FOR_PROCESSING"]


async def test_cancelling_twice_is_refused(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    bought = await seller.buy(offer["id"])
    await _cancel(seller, bought["checkout_form_id"], "BUYER")
    again = await seller.control(
        "POST", "cancellations", {"checkout_form_id": bought["checkout_form_id"], "by": "AUTO"}
    )
    assert again.status_code == 409


@pytest.mark.parametrize(("restores", "expected"), [(False, 3), (True, 5)])
async def test_cancellation_restores_stock_only_when_switched_on(
    seller: SellerApi, restores: bool, expected: int
) -> None:
    await seller.faults(cancellation_restores_stock=restores)
    offer = await seller.create_offer()
    bought = await seller.buy(offer["id"], 2)
    await _cancel(seller, bought["checkout_form_id"], "BUYER")
    assert (await seller.offer(offer["id"]))["stock"]["available"] == expected


async def test_checkout_forms_filter_by_status_and_bought_at(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    early = await seller.buy(offer["id"])
    await seller.advance(3600)
    late = await seller.buy(offer["id"], paid=True)
    late_form = await _form(seller, late["checkout_form_id"])
    bought_at = late_form["lineItems"][0]["boughtAt"]  # type: ignore[index]
    ready = (await seller.get("/order/checkout-forms", params={"status": "READY_FOR_PROCESSING"})).json()
    assert [form["id"] for form in ready["checkoutForms"]] == [late["checkout_form_id"]]
    recent = (await seller.get("/order/checkout-forms", params={"lineItems.boughtAt.gte": bought_at})).json()
    assert [form["id"] for form in recent["checkoutForms"]] == [late["checkout_form_id"]]
    older = (await seller.get("/order/checkout-forms", params={"lineItems.boughtAt.lte": bought_at})).json()
    assert {form["id"] for form in older["checkoutForms"]} == {early["checkout_form_id"], late["checkout_form_id"]}


async def test_checkout_forms_filter_by_updated_at(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    first = await seller.buy(offer["id"])
    await seller.buy(offer["id"])
    await seller.advance(60)
    await seller.control("POST", "payments", {"checkout_form_id": first["checkout_form_id"]})
    updated_at = (await _form(seller, first["checkout_form_id"]))["updatedAt"]
    found = (await seller.get("/order/checkout-forms", params={"updatedAt.gte": updated_at})).json()
    assert [form["id"] for form in found["checkoutForms"]] == [first["checkout_form_id"]]


async def test_checkout_forms_page_with_count_and_total_count(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    for _ in range(3):
        await seller.buy(offer["id"])
    page = (await seller.get("/order/checkout-forms", params={"limit": 2, "offset": 1})).json()
    assert (page["count"], page["totalCount"], len(page["checkoutForms"])) == (2, 3, 2)


async def test_empty_checkout_form_list_counts_zero(seller: SellerApi) -> None:
    page = (await seller.get("/order/checkout-forms")).json()
    assert page == {"checkoutForms": [], "count": 0, "totalCount": 0}


@pytest.mark.parametrize("limit", ["0", "101"])
async def test_checkout_forms_refuse_a_limit_outside_1_to_100(seller: SellerApi, limit: str) -> None:
    assert (await seller.get("/order/checkout-forms", params={"limit": limit})).status_code == 422


async def test_malformed_checkout_form_id_is_422_and_unknown_is_404(seller: SellerApi) -> None:
    assert (await seller.get("/order/checkout-forms/not-a-uuid")).status_code == 422
    unknown = await seller.get("/order/checkout-forms/29738e61-7f6a-11e8-ac45-09db60ede9d6")
    assert unknown.status_code == 404


async def test_fulfillment_change_answers_204_changes_revision_and_emits_an_event(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    bought = await seller.buy(offer["id"], paid=True)
    before = await _form(seller, bought["checkout_form_id"])
    response = await seller.put(
        f"/order/checkout-forms/{bought['checkout_form_id']}/fulfillment",
        {"status": "PROCESSING"},
        params={"checkoutForm.revision": before["revision"]},
    )
    assert response.status_code == 204 and response.content == b""
    after = await _form(seller, bought["checkout_form_id"])
    assert after["fulfillment"]["status"] == "PROCESSING"  # type: ignore[index]
    assert after["revision"] != before["revision"]
    assert (await seller.order_events())[-1]["type"] == "FULFILLMENT_STATUS_CHANGED"


async def test_fulfillment_with_a_stale_revision_is_409(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    bought = await seller.buy(offer["id"])
    stale = (await _form(seller, bought["checkout_form_id"]))["revision"]
    await seller.control("POST", "payments", {"checkout_form_id": bought["checkout_form_id"]})
    response = await seller.put(
        f"/order/checkout-forms/{bought['checkout_form_id']}/fulfillment",
        {"status": "PROCESSING"},
        params={"checkoutForm.revision": stale},
    )
    assert response.status_code == 409


@pytest.mark.parametrize("status", ["RETURNED", "NONSENSE"])
async def test_fulfillment_status_the_seller_cannot_set_is_422(seller: SellerApi, status: str) -> None:
    offer = await seller.create_offer()
    bought = await seller.buy(offer["id"])
    response = await seller.put(f"/order/checkout-forms/{bought['checkout_form_id']}/fulfillment", {"status": status})
    assert response.status_code == 422


async def test_line_item_of_an_offer_without_signature_has_no_external_id(seller: SellerApi) -> None:
    offer = await seller.create_offer(external=None)
    bought = await seller.buy(offer["id"])
    line = (await _form(seller, bought["checkout_form_id"]))["lineItems"][0]  # type: ignore[index]
    assert line["offer"].get("external") is None
    event_offer = (await seller.order_events())[0]["order"]["lineItems"][0]["offer"]
    assert event_offer.get("external") is None
    listed = (await seller.get("/sale/offers")).json()["offers"][0]
    assert "external" not in listed
    stock_event = (await seller.get("/sale/offer-events")).json()["offerEvents"][-1]
    assert stock_event["offer"] == {"id": offer["id"], "external": None}
