"""Fault switches: latency, injected 429/5xx, the client-id rate limit, order-event delivery faults, lost answers."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from emulator.app import EmulatorConfig, create_app
from tests.emulator.openapi_check import install_openapi_check
from tests.emulator.seller_api import SellerApi, quantity_command

pytestmark = pytest.mark.anyio


async def test_switches_start_at_their_defaults(seller: SellerApi) -> None:
    faults = (await seller.control("GET", "faults")).json()
    assert faults["client_rate_limit_per_minute"] == 9000
    assert (faults["error_rate_429"], faults["retry_after_on_429"], faults["fixed_below_one"]) == (
        0.0,
        False,
        "task_fail",
    )


@pytest.mark.parametrize(
    "switches",
    [
        {"no_such_switch": 1},
        {"error_rate_5xx": 2},
        {"gain_on_ended": "maybe"},
        {"latency_ms": -1},
        {"async_offer_creation": "yes"},
    ],
)
async def test_bad_switches_are_refused_with_422(seller: SellerApi, switches: dict[str, object]) -> None:
    assert (await seller.control("PUT", "faults", switches)).status_code == 422


async def test_latency_overlaps_for_concurrent_requests(seller: SellerApi) -> None:
    await seller.get("/sale/offers")  # warms the response checker up: its first use loads the spec
    await seller.faults(latency_ms=200)
    started = time.monotonic()
    responses = await asyncio.gather(*(seller.get("/sale/offers") for _ in range(8)))
    elapsed = time.monotonic() - started
    assert [response.status_code for response in responses] == [200] * 8
    assert 0.2 <= elapsed < 1.0  # one after another they would take 1.6 s


@pytest.mark.parametrize(("retry_after", "header"), [(False, None), (True, "1")])
async def test_injected_429_carries_retry_after_only_when_switched(
    seller: SellerApi, retry_after: bool, header: str | None
) -> None:
    await seller.faults(error_rate_429=1.0, retry_after_on_429=retry_after)
    response = await seller.get("/sale/offers")
    assert response.status_code == 429
    assert response.json()["errors"][0]["code"] == "RateLimitExceedException"
    assert response.headers.get("retry-after") == header


async def test_injected_5xx_answers_a_server_error(seller: SellerApi) -> None:
    await seller.faults(error_rate_5xx=1.0)
    response = await seller.get("/sale/offers")
    assert response.status_code in (500, 502, 503)


async def test_control_api_and_oauth_are_not_subject_to_faults(seller: SellerApi) -> None:
    await seller.faults(error_rate_5xx=1.0)
    assert (await seller.control("GET", "offers")).status_code == 200
    response = await seller.client.post(
        "/auth/oauth/token", auth=("emulator-client", "emulator-secret"), data={"grant_type": "client_credentials"}
    )
    assert response.status_code == 200


async def test_oauth_faults_use_the_oauth_error_shape_when_switched_on(seller: SellerApi) -> None:
    await seller.faults(error_rate_5xx=1.0, faults_on_oauth=True)
    response = await seller.client.post(
        "/auth/oauth/token", auth=("emulator-client", "emulator-secret"), data={"grant_type": "client_credentials"}
    )
    assert response.status_code in (500, 502, 503)
    assert response.json()["error"] == "server_error"


@pytest.mark.parametrize(("retry_after", "header"), [(False, None), (True, "60")])
async def test_client_rate_limit_blocks_the_client_id_for_a_minute(
    seller: SellerApi, retry_after: bool, header: str | None
) -> None:
    await seller.faults(client_rate_limit_per_minute=3, retry_after_on_429=retry_after)
    statuses = [(await seller.get("/sale/offers")).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    await seller.advance(30)
    blocked = await seller.get("/sale/offers")
    assert blocked.status_code == 429 and blocked.headers.get("retry-after") == (header and "30")
    await seller.advance(31)
    assert (await seller.get("/sale/offers")).status_code == 200
    counters = (await seller.control("GET", "requests")).json()
    assert counters["sent_429"] == 2


async def test_duplicated_order_events_are_delivered_again_later(seller: SellerApi) -> None:
    await seller.faults(duplicate_order_events=1.0)
    offer = await seller.create_offer()
    await seller.buy(offer["id"])
    first = await seller.order_events()
    assert [event["type"] for event in first] == ["BOUGHT"]
    again = await seller.order_events(**{"from": first[-1]["id"]})
    assert [event["type"] for event in again] == ["BOUGHT"]
    assert again[0]["id"] != first[0]["id"]
    assert (again[0]["occurredAt"], again[0]["order"]) == (first[0]["occurredAt"], first[0]["order"])
    assert await seller.order_events(**{"from": again[-1]["id"]}) == []


async def test_shuffled_order_events_arrive_out_of_order_within_a_page(seller: SellerApi) -> None:
    await seller.faults(shuffle_order_events=1.0, seed=3)
    offer = await seller.create_offer(stock={"available": 50})
    for _ in range(10):
        await seller.buy(offer["id"], paid=True)
    events = await seller.order_events()
    ids = [int(event["id"]) for event in events]
    assert len(ids) == 20 and ids != sorted(ids)


async def test_dropped_order_events_are_never_delivered_but_the_form_exists(seller: SellerApi) -> None:
    await seller.faults(drop_order_events=1.0)
    offer = await seller.create_offer()
    bought = await seller.buy(offer["id"], paid=True)
    assert await seller.order_events() == []
    forms = (await seller.get("/order/checkout-forms")).json()["checkoutForms"]
    assert [form["id"] for form in forms] == [bought["checkout_form_id"]]


async def test_lost_answer_after_registration_still_registers_the_command(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    await seller.faults(timeout_after_registration=1.0)
    body = quantity_command([offer["id"]], "GAIN", 2)
    lost = await seller.command("offer-quantity-change-commands", "lost-1", body)
    assert lost.status_code == 504
    await seller.faults(timeout_after_registration=0.0)
    retry = await seller.command("offer-quantity-change-commands", "lost-1", body)
    assert retry.status_code == 201
    assert (await seller.offer(offer["id"]))["stock"]["available"] == 7


async def test_lost_answer_after_offer_creation_leaves_the_offer(seller: SellerApi) -> None:
    from tests.emulator.seller_api import offer_body

    await seller.faults(timeout_after_registration=1.0)
    response = await seller.post("/sale/product-offers", offer_body())
    assert response.status_code == 504
    listed = (await seller.control("GET", "offers")).json()["offers"]
    assert len(listed) == 1


async def test_same_seed_gives_the_same_world() -> None:
    async def ids(seed: int) -> list[str]:
        app = create_app(EmulatorConfig(seed=seed))
        log = install_openapi_check(app)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://e") as client:
            seller = await SellerApi.login(client)
            offer = await seller.create_offer()
            found = [(await seller.buy(offer["id"]))["checkout_form_id"] for _ in range(2)]
        assert log.problems == [] and log.checked == 4
        return found

    assert await ids(7) == await ids(7)
    assert await ids(7) != await ids(8)


async def test_lost_answer_to_an_async_creation_still_activates_the_offer(seller: SellerApi) -> None:
    from tests.emulator.seller_api import offer_body

    await seller.faults(async_offer_creation=True, timeout_after_registration=1.0, retry_after_seconds=5)
    assert (await seller.post("/sale/product-offers", offer_body())).status_code == 504
    await seller.faults(timeout_after_registration=0.0)
    await seller.advance(5)
    listed = (await seller.get("/sale/offers")).json()["offers"]
    assert [offer["publication"]["status"] for offer in listed] == ["ACTIVE"]
