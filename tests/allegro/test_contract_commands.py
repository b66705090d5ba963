"""Contract: batch commands - GAIN and FIXED_PRICE by stable id, replays, conflicts, delays, lost answers."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from adapters.allegro.commands import CommandConflict, CommandNotFound
from engine.model import TaskStatus

from .conftest import Emulator

pytestmark = pytest.mark.anyio


def _command_id(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, name)).upper()  # the client must lower-case it


async def _stock(emulator: Emulator, offer_id: str) -> int:
    return int(emulator.state.world.offers[offer_id].body["stock"]["available"])


async def test_gain_command_runs_once_and_reports_success(emulator: Emulator) -> None:
    a = await emulator.seller_offer(external={"id": "A"})
    b = await emulator.seller_offer(external={"id": "B"})
    client = await emulator.client()
    command_id = _command_id("gain-1")
    report = await client.change_quantity(command_id, [a, b], -2)
    assert report.command_id == command_id.lower()
    final = await client.command_report("quantity", command_id)
    assert final.completed
    assert [(t.offer_id, t.status) for t in final.tasks] == [(a, TaskStatus.SUCCESS), (b, TaskStatus.SUCCESS)]
    assert await _stock(emulator, a) == 3 and await _stock(emulator, b) == 3
    again = await client.change_quantity(command_id, [a, b], -2)  # a retry of the same command
    assert await _stock(emulator, a) == 3
    assert again.command_id == command_id.lower()


async def test_delayed_command_reports_new_tasks_until_it_completes(emulator: Emulator) -> None:
    offer_id = await emulator.seller_offer()
    await emulator.faults(command_delay_seconds=30)
    client = await emulator.client()
    command_id = _command_id("delayed")
    report = await client.change_quantity(command_id, [offer_id], 4)
    assert not report.completed and [t.status for t in report.tasks] == [TaskStatus.NEW]
    pending = await client.command_report("quantity", command_id)
    assert not pending.completed and pending.tasks[0].status is TaskStatus.NEW
    emulator.advance(31)
    done = await client.command_report("quantity", command_id)
    assert done.completed and done.tasks[0].status is TaskStatus.SUCCESS
    assert await _stock(emulator, offer_id) == 9


async def test_a_failing_task_carries_allegros_reason(emulator: Emulator) -> None:
    offer_id = await emulator.seller_offer()
    client = await emulator.client()
    command_id = _command_id("too-low")
    await client.change_quantity(command_id, [offer_id], -5)  # 5 - 5 = 0 < 1
    report = await client.command_report("quantity", command_id)
    assert report.tasks[0].status is TaskStatus.FAIL
    assert "INVALID_OFFER_QUANTITY" in report.tasks[0].message
    assert await _stock(emulator, offer_id) == 5


async def test_replay_answered_409_reads_the_report_instead(emulator: Emulator) -> None:
    offer_id = await emulator.seller_offer()
    await emulator.faults(command_replay="409")
    client = await emulator.client()
    command_id = _command_id("replayed")
    await client.change_quantity(command_id, [offer_id], 1)
    report = await client.change_quantity(command_id, [offer_id], 1)
    assert report.completed and report.tasks[0].status is TaskStatus.SUCCESS
    assert await _stock(emulator, offer_id) == 6


async def test_same_id_with_different_content_is_a_loud_conflict(emulator: Emulator) -> None:
    offer_id = await emulator.seller_offer()
    client = await emulator.client()
    command_id = _command_id("conflict")
    await client.change_quantity(command_id, [offer_id], 1)
    with pytest.raises(CommandConflict, match="this is a bug"):
        await client.change_quantity(command_id, [offer_id], 2)


async def test_lost_answer_is_re_put_with_the_same_id_and_executes_once(emulator: Emulator) -> None:
    offer_id = await emulator.seller_offer()
    await emulator.faults(timeout_after_registration=0.5, seed=5)
    client = await emulator.client(max_attempts=10)
    for n in range(4):
        await client.change_quantity(_command_id(f"lost-{n}"), [offer_id], 1)
    assert emulator.state.stats.by_status[504] >= 1
    assert await _stock(emulator, offer_id) == 9  # four +1 commands, each applied once


async def test_price_command_sends_two_decimals(emulator: Emulator) -> None:
    offer_id = await emulator.seller_offer()
    client = await emulator.client()
    command_id = _command_id("price")
    await client.change_price(command_id, [offer_id], Decimal("21.5"))
    report = await client.command_report("price", command_id)
    assert report.completed and report.tasks[0].status is TaskStatus.SUCCESS
    stored = emulator.state.world.commands[f"price:{command_id.lower()}"].body
    assert stored["modification"]["price"] == {"amount": "21.50", "currency": "PLN"}
    assert emulator.state.world.offers[offer_id].body["sellingMode"]["price"]["amount"] == "21.50"


async def test_publication_end_command(emulator: Emulator) -> None:
    offer_id = await emulator.seller_offer()
    client = await emulator.client()
    command_id = _command_id("end")
    await client.change_publication(command_id, [offer_id], "END")
    report = await client.command_report("publication", command_id)
    assert report.completed and report.tasks[0].status is TaskStatus.SUCCESS
    assert emulator.state.world.offers[offer_id].body["publication"]["status"] == "ENDED"


async def test_unknown_command_report_is_command_not_found(emulator: Emulator) -> None:
    client = await emulator.client()
    with pytest.raises(CommandNotFound, match="COMMAND_NOT_FOUND"):
        await client.command_report("quantity", _command_id("never-sent"))


async def test_more_than_1000_offers_is_refused_before_sending(emulator: Emulator) -> None:
    client = await emulator.client()
    with pytest.raises(ValueError, match="at most 1000"):
        await client.change_quantity(_command_id("big"), [str(n) for n in range(1001)], 1)
    assert emulator.state.stats.total == 0
