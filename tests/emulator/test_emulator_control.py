"""The control API: reset, the seller's panel, listings, the clock, counters, state dumps and persistence."""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx
import pytest

from emulator.app import EmulatorConfig, create_app
from tests.emulator.openapi_check import install_openapi_check
from tests.emulator.seller_api import SellerApi, offer_body

pytestmark = pytest.mark.anyio


async def test_reset_empties_the_world_and_restores_switches(seller: SellerApi) -> None:
    await seller.create_offer()
    await seller.faults(latency_ms=5)
    assert (await seller.control("POST", "reset")).status_code == 200
    assert (await seller.control("GET", "offers")).json() == {"offers": []}
    assert (await seller.control("GET", "faults")).json()["latency_ms"] == 0


async def test_reset_can_keep_tokens(seller: SellerApi) -> None:
    await seller.control("POST", "reset", {"keep_auth": True})
    assert (await seller.get("/sale/offers")).status_code == 200
    await seller.control("POST", "reset")
    assert (await seller.get("/sale/offers")).status_code == 401


async def test_panel_edit_changes_stock_price_and_status_with_events(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    edited = await seller.control("PATCH", f"offers/{offer['id']}", {"stock": 8, "price": "12.00"})
    assert edited.json()["stock"]["available"] == 8
    assert edited.json()["sellingMode"]["price"] == {"amount": "12.00", "currency": "PLN"}
    await seller.control("PATCH", f"offers/{offer['id']}", {"status": "ENDED"})
    await seller.control("PATCH", f"offers/{offer['id']}", {"status": "ACTIVE", "stock": 2})
    assert await seller.offer_event_types() == [
        "OFFER_ACTIVATED",
        "OFFER_PRICE_CHANGED",
        "OFFER_STOCK_CHANGED",
        "OFFER_ENDED",
        "OFFER_ACTIVATED",
    ]


async def test_panel_edit_refuses_impossible_changes(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    assert (await seller.control("PATCH", f"offers/{offer['id']}", {"stock": -1})).status_code == 422
    assert (await seller.control("PATCH", f"offers/{offer['id']}", {"status": "ACTIVE", "stock": 0})).status_code == 409
    assert (await seller.control("PATCH", "offers/1", {"stock": 1})).status_code == 404


async def test_control_offer_list_uses_allegros_shape(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    listed = (await seller.control("GET", "offers")).json()["offers"][0]
    assert listed["id"] == offer["id"]
    assert listed["external"] == {"id": "SKU-1"}
    assert listed["stock"]["available"] == 5
    assert listed["publication"]["status"] == "ACTIVE"
    assert listed["sellingMode"]["price"] == {"amount": "19.99", "currency": "PLN"}


async def test_control_checkout_form_list_shows_every_form(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    bought = await seller.buy(offer["id"])
    forms = (await seller.control("GET", "checkout-forms")).json()["checkoutForms"]
    assert [form["id"] for form in forms] == [bought["checkout_form_id"]]


async def test_control_checkout_form_list_filters_by_status_and_keeps_the_newest(seller: SellerApi) -> None:
    offer = await seller.create_offer(stock={"available": 10, "unit": "UNIT"})
    ids = [(await seller.buy(offer["id"]))["checkout_form_id"] for _ in range(4)]
    await seller.control("POST", "payments", {"checkout_form_id": ids[1]})

    async def listed(query: str) -> list[str]:
        response = await seller.client.get(f"/__emulator/checkout-forms?{query}")
        assert response.status_code == 200, response.text
        return [form["id"] for form in response.json()["checkoutForms"]]

    assert await listed("status=BOUGHT") == [ids[0], ids[2], ids[3]]
    assert await listed("status=BOUGHT&status=READY_FOR_PROCESSING&last=2") == [ids[2], ids[3]]
    assert await listed("last=0") == []
    assert (await seller.client.get("/__emulator/checkout-forms?last=many")).status_code == 422


async def test_clock_moves_the_date_header(seller: SellerApi) -> None:
    before = parsedate_to_datetime((await seller.get("/sale/offers")).headers["date"])
    await seller.advance(3 * 3600)
    after = parsedate_to_datetime((await seller.get("/sale/offers")).headers["date"])
    assert 3 * 3600 <= (after - before).total_seconds() < 3 * 3600 + 5


async def test_clock_refuses_going_backwards(seller: SellerApi) -> None:
    assert (await seller.control("POST", "clock", {"advance_seconds": -1})).status_code == 422


async def test_every_response_has_a_trace_id(seller: SellerApi) -> None:
    responses = [
        await seller.get("/sale/offers"),
        await seller.get("/sale/product-offers/1"),
        await seller.control("GET", "faults"),
    ]
    trace_ids = {response.headers["trace-id"] for response in responses}
    assert len(trace_ids) == 3


async def test_request_counters_count_api_calls_by_route(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    await seller.offer(offer["id"])
    await seller.offer(offer["id"])
    counters = (await seller.control("GET", "requests")).json()
    assert counters["by_route"] == {"POST /sale/product-offers": 1, "GET /sale/product-offers/{offerId}": 2}
    assert counters["total"] == 3
    cleared = (await seller.control("DELETE", "requests")).json()
    assert (cleared["total"], cleared["by_route"]) == (0, {})


async def test_state_dump_contains_the_world(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    dump = (await seller.control("GET", "state")).json()
    assert list(dump["world"]["offers"]) == [offer["id"]]
    assert dump["faults"]["seed"] == 0


async def test_state_file_survives_a_restart(tmp_path: Path) -> None:
    config = EmulatorConfig(state_file=str(tmp_path / "emulator.json"))
    first = create_app(config)
    first_log = install_openapi_check(first)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=first), base_url="http://e") as client:
        seller = await SellerApi.login(client)
        offer = await seller.create_offer()
        await seller.buy(offer["id"], 2)
    second = create_app(config)
    second_log = install_openapi_check(second)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=second), base_url="http://e") as client:
        seller.client = client
        assert (await seller.offer(offer["id"]))["stock"]["available"] == 3
        assert [event["type"] for event in await seller.order_events()] == ["BOUGHT"]
        another = await seller.create_offer()
        assert another["id"] != offer["id"]
    assert first_log.problems == second_log.problems == []


async def test_control_can_list_an_offer_for_another_seller(seller: SellerApi) -> None:
    response = await seller.control("POST", "offers", {**offer_body(), "seller_id": "99"})
    assert response.status_code == 201
    assert (await seller.get("/sale/offers")).json()["totalCount"] == 0


async def test_unknown_paths_and_methods_answer_json_errors(seller: SellerApi) -> None:
    control = await seller.control("GET", "nothing-here")
    assert (control.status_code, control.json()) == (404, {"error": "Not Found"})
    wrong_method = await seller.control("DELETE", "faults")
    assert wrong_method.status_code == 405 and wrong_method.json() == {"error": "Method Not Allowed"}


def test_config_repr_hides_the_client_secret() -> None:
    config = EmulatorConfig(client_secret="s3cr3t-value")
    assert "s3cr3t-value" not in repr(config)
    assert "client_id='emulator-client'" in repr(config)
