"""Batch commands: registration, reports and tasks, idempotent replay, delays, ordering and the open questions."""

from __future__ import annotations

from typing import Any

import pytest

from tests.emulator.seller_api import SellerApi, quantity_command

pytestmark = pytest.mark.anyio
QUANTITY = "offer-quantity-change-commands"
PRICE = "offer-price-change-commands"
PUBLICATION = "offer-publication-commands"
COMMAND_ID = "8a6f3c1e-4b7d-4f0a-9c2e-1d5b7e9f0a11"


async def _report(seller: SellerApi, resource: str, command_id: str = COMMAND_ID) -> dict[str, Any]:
    response = await seller.get(f"/sale/{resource}/{command_id}")
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


async def _tasks(seller: SellerApi, resource: str, command_id: str = COMMAND_ID) -> list[dict[str, Any]]:
    response = await seller.get(f"/sale/{resource}/{command_id}/tasks")
    assert response.status_code == 200, response.text
    tasks: list[dict[str, Any]] = response.json()["tasks"]
    return tasks


async def _stock(seller: SellerApi, offer_id: str) -> int:
    available: int = (await seller.offer(offer_id))["stock"]["available"]
    return available


async def test_put_answers_201_with_zero_counts_then_the_report_completes(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    response = await seller.command(QUANTITY, COMMAND_ID, quantity_command([offer["id"]], "FIXED", 30))
    assert response.status_code == 201
    assert response.json()["taskCount"] == {"total": 0, "success": 0, "failed": 0}
    assert response.json()["completedAt"] is None
    report = await _report(seller, QUANTITY)
    assert report["taskCount"] == {"total": 1, "success": 1, "failed": 0}
    assert report["completedAt"] is not None
    assert await _tasks(seller, QUANTITY) == [
        {"offer": {"id": offer["id"]}, "field": "quantity", "status": "SUCCESS", "message": "", "errors": []}
    ]
    assert await _stock(seller, offer["id"]) == 30


async def test_command_id_is_lower_cased(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    response = await seller.command(QUANTITY, COMMAND_ID.upper(), quantity_command([offer["id"]], "GAIN", 1))
    assert response.json()["id"] == COMMAND_ID
    assert (await _report(seller, QUANTITY, COMMAND_ID.upper()))["id"] == COMMAND_ID


async def test_gain_adds_and_subtracts(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    await seller.command(QUANTITY, "c1", quantity_command([offer["id"]], "GAIN", 4))
    await seller.command(QUANTITY, "c2", quantity_command([offer["id"]], "GAIN", -7))
    assert await _stock(seller, offer["id"]) == 2


async def test_gain_below_one_fails_the_task(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    await seller.command(QUANTITY, COMMAND_ID, quantity_command([offer["id"]], "GAIN", -5))
    task = (await _tasks(seller, QUANTITY))[0]
    assert (task["status"], task["errors"][0]["code"]) == ("FAIL", "INVALID_OFFER_QUANTITY")
    assert await _stock(seller, offer["id"]) == 5


async def test_fixed_below_one_fails_the_task_by_default(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    response = await seller.command(QUANTITY, COMMAND_ID, quantity_command([offer["id"]], "FIXED", 0))
    assert response.status_code == 201
    task = (await _tasks(seller, QUANTITY))[0]
    assert (task["status"], task["errors"][0]["code"]) == ("FAIL", "INVALID_OFFER_QUANTITY")
    assert (await _report(seller, QUANTITY))["taskCount"] == {"total": 1, "success": 0, "failed": 1}


async def test_fixed_below_one_is_refused_with_422_when_switched(seller: SellerApi) -> None:
    await seller.faults(fixed_below_one="422")
    offer = await seller.create_offer()
    response = await seller.command(QUANTITY, COMMAND_ID, quantity_command([offer["id"]], "FIXED", 0))
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "INCORRECT_QUANTITY_VALUE"
    assert (await seller.get(f"/sale/{QUANTITY}/{COMMAND_ID}")).status_code == 404


async def test_same_id_and_body_is_not_executed_twice(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    body = quantity_command([offer["id"]], "GAIN", 2)
    await seller.command(QUANTITY, COMMAND_ID, body)
    replay = await seller.command(QUANTITY, COMMAND_ID, body)
    assert replay.status_code == 201
    assert replay.json()["taskCount"] == {"total": 1, "success": 1, "failed": 0}
    assert await _stock(seller, offer["id"]) == 7


async def test_replay_answers_409_when_switched(seller: SellerApi) -> None:
    await seller.faults(command_replay="409")
    offer = await seller.create_offer()
    body = quantity_command([offer["id"]], "GAIN", 2)
    await seller.command(QUANTITY, COMMAND_ID, body)
    replay = await seller.command(QUANTITY, COMMAND_ID, body)
    assert replay.status_code == 409
    assert await _stock(seller, offer["id"]) == 7


async def test_same_id_with_a_different_body_is_409(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    await seller.command(QUANTITY, COMMAND_ID, quantity_command([offer["id"]], "GAIN", 2))
    response = await seller.command(QUANTITY, COMMAND_ID, quantity_command([offer["id"]], "GAIN", 3))
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "COMMAND_ALREADY_REGISTERED_WITH_DIFFERENT_CONTENT"
    assert await _stock(seller, offer["id"]) == 7


async def test_unknown_command_is_404_command_not_found(seller: SellerApi) -> None:
    for path in (f"/sale/{QUANTITY}/{COMMAND_ID}", f"/sale/{PRICE}/{COMMAND_ID}/tasks"):
        response = await seller.get(path)
        assert response.status_code == 404
        assert response.json()["errors"][0]["code"] == "COMMAND_NOT_FOUND"


async def test_more_than_1000_offers_is_422(seller: SellerApi) -> None:
    response = await seller.command(QUANTITY, COMMAND_ID, quantity_command([str(n) for n in range(1001)], "GAIN", 1))
    assert response.status_code == 422


async def test_tasks_refuse_a_limit_outside_1_to_1000(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    await seller.command(QUANTITY, COMMAND_ID, quantity_command([offer["id"]], "GAIN", 1))
    response = await seller.get(f"/sale/{QUANTITY}/{COMMAND_ID}/tasks", params={"limit": 1001})
    assert response.status_code == 422


async def test_unknown_offer_fails_its_task_only(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    await seller.command(QUANTITY, COMMAND_ID, quantity_command([offer["id"], "1"], "GAIN", 1))
    assert [task["status"] for task in await _tasks(seller, QUANTITY)] == ["SUCCESS", "FAIL"]


async def test_command_delay_keeps_tasks_new_until_the_clock_passes_it(seller: SellerApi) -> None:
    await seller.faults(command_delay_seconds=30)
    offer = await seller.create_offer()
    await seller.command(QUANTITY, COMMAND_ID, quantity_command([offer["id"]], "FIXED", 9))
    assert [task["status"] for task in await _tasks(seller, QUANTITY)] == ["NEW"]
    assert (await _report(seller, QUANTITY))["completedAt"] is None
    assert await _stock(seller, offer["id"]) == 5
    await seller.advance(30)
    assert [task["status"] for task in await _tasks(seller, QUANTITY)] == ["SUCCESS"]
    assert await _stock(seller, offer["id"]) == 9


@pytest.mark.parametrize(
    ("mode", "statuses", "stock"), [("both", ["SUCCESS", "SUCCESS"], 8), ("outdated", ["FAIL", "SUCCESS"], 7)]
)
async def test_two_commands_in_flight_for_one_offer(
    seller: SellerApi, mode: str, statuses: list[str], stock: int
) -> None:
    await seller.faults(command_delay_seconds=10, concurrent_commands=mode)
    offer = await seller.create_offer()
    await seller.command(QUANTITY, "older", quantity_command([offer["id"]], "GAIN", 1))
    await seller.command(QUANTITY, "newer", quantity_command([offer["id"]], "GAIN", 2))
    await seller.advance(10)
    found = [(await _tasks(seller, QUANTITY, name))[0] for name in ("older", "newer")]
    assert [task["status"] for task in found] == statuses
    if mode == "outdated":
        assert found[0]["errors"][0]["code"] == "COMMAND_OUTDATED"
    assert await _stock(seller, offer["id"]) == stock


async def _final_stock_after_fixed_3_then_7(seller: SellerApi, seed: int) -> int:
    await seller.faults(seed=seed)
    offer = await seller.create_offer()
    await seller.command(QUANTITY, f"first-{seed}", quantity_command([offer["id"]], "FIXED", 3))
    await seller.command(QUANTITY, f"second-{seed}", quantity_command([offer["id"]], "FIXED", 7))
    return await _stock(seller, offer["id"])


async def test_commands_execute_in_submission_order_by_default(seller: SellerApi) -> None:
    assert {await _final_stock_after_fixed_3_then_7(seller, seed) for seed in range(6)} == {7}


async def test_commands_may_execute_out_of_order_when_switched(seller: SellerApi) -> None:
    await seller.faults(command_out_of_order=True)
    finals = {await _final_stock_after_fixed_3_then_7(seller, seed) for seed in range(6)}
    assert finals == {3, 7}


@pytest.mark.parametrize(("mode", "status", "stock"), [("apply", "SUCCESS", 4), ("fail", "FAIL", 0)])
async def test_quantity_change_on_an_ended_offer(seller: SellerApi, mode: str, status: str, stock: int) -> None:
    await seller.faults(gain_on_ended=mode)
    offer = await seller.create_offer()
    await seller.patch(f"/sale/product-offers/{offer['id']}", {"stock": {"available": 0}})
    await seller.command(QUANTITY, COMMAND_ID, quantity_command([offer["id"]], "FIXED", 4))
    assert (await _tasks(seller, QUANTITY))[0]["status"] == status
    ended = await seller.offer(offer["id"])
    assert (ended["stock"]["available"], ended["publication"]["status"]) == (stock, "ENDED")


async def test_price_command_sets_a_fixed_price(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    body = {
        "modification": {
            "type": "FIXED_PRICE",
            "marketplaceId": "allegro-pl",
            "price": {"amount": "10.50", "currency": "PLN"},
        },
        "offerCriteria": [{"type": "CONTAINS_OFFERS", "offers": [{"id": offer["id"]}]}],
    }
    assert (await seller.command(PRICE, COMMAND_ID, body)).status_code == 201
    assert (await _tasks(seller, PRICE))[0]["field"] == "price"
    assert (await seller.offer(offer["id"]))["sellingMode"]["price"] == {"amount": "10.50", "currency": "PLN"}
    assert (await seller.offer_event_types())[-1] == "OFFER_PRICE_CHANGED"


async def test_publication_command_ends_and_activates(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    criteria = [{"type": "CONTAINS_OFFERS", "offers": [{"id": offer["id"]}]}]
    await seller.command(PUBLICATION, "end", {"publication": {"action": "END"}, "offerCriteria": criteria})
    assert (await seller.offer(offer["id"]))["publication"]["status"] == "ENDED"
    await seller.command(PUBLICATION, "activate", {"publication": {"action": "ACTIVATE"}, "offerCriteria": criteria})
    assert (await seller.offer(offer["id"]))["publication"]["status"] == "ACTIVE"
    assert (await _tasks(seller, PUBLICATION, "activate"))[0]["status"] == "SUCCESS"


async def test_publication_activate_needs_stock(seller: SellerApi) -> None:
    offer = await seller.create_offer(publication=None, stock={"available": 0})
    criteria = [{"type": "CONTAINS_OFFERS", "offers": [{"id": offer["id"]}]}]
    await seller.command(PUBLICATION, COMMAND_ID, {"publication": {"action": "ACTIVATE"}, "offerCriteria": criteria})
    assert (await _tasks(seller, PUBLICATION))[0]["status"] == "FAIL"
    assert (await seller.offer(offer["id"]))["publication"]["status"] == "INACTIVE"


async def test_reports_expire_after_seven_days(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    body = quantity_command([offer["id"]], "GAIN", 1)
    await seller.command(QUANTITY, COMMAND_ID, body)
    await seller.advance(7 * 24 * 3600)
    response = await seller.get(f"/sale/{QUANTITY}/{COMMAND_ID}")
    assert (response.status_code, response.json()["errors"][0]["code"]) == (404, "COMMAND_NOT_FOUND")


async def test_a_command_of_the_wrong_json_shape_is_a_bad_request(seller: SellerApi) -> None:
    response = await seller.command(PUBLICATION, COMMAND_ID, {"publication": "END", "offerCriteria": []})
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "publication"
