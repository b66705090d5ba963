"""Batch commands (quantity GAIN, FIXED_PRICE, publication): idempotent PUT by command id, and their reports."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from adapters.allegro import answers
from adapters.allegro.answers import Json
from adapters.allegro.caller import Call, Caller
from adapters.allegro.errors import MalformedAnswer, describe, error_codes, malformed
from engine.errors import SkipItem, StopEngine
from engine.model import CommandReport, TaskOutcome, TaskStatus

MAX_OFFERS = 1000
TASK_PAGE = 1000
MAX_TASK_OFFSET = 999
# kind -> (URL segment, the task `field` that counts)
KINDS = {
    "quantity": ("offer-quantity-change-commands", "quantity"),
    "price": ("offer-price-change-commands", "price"),
    "publication": ("offer-publication-commands", "publication"),
}
DIFFERENT_CONTENT = "COMMAND_ALREADY_REGISTERED_WITH_DIFFERENT_CONTENT"
_STATUSES = {status.value: status for status in TaskStatus}


class CommandConflict(StopEngine):
    """A command id was reused with a different body: command ids are derived wrongly (a bug)."""


class CommandNotFound(SkipItem):
    """Allegro does not know this command (never registered, or its report expired after 7 days)."""


def _criteria(offer_ids: Sequence[str]) -> list[Json]:
    if not offer_ids:
        raise ValueError("a command needs at least one offer")
    if len(offer_ids) > MAX_OFFERS:
        raise ValueError(f"a command takes at most {MAX_OFFERS} offers, got {len(offer_ids)}")
    return [{"type": "CONTAINS_OFFERS", "offers": [{"id": str(offer_id)} for offer_id in offer_ids]}]


def _command_id(command_id: str) -> str:
    """Allegro echoes ids lower-cased; we send them so, after checking they are UUIDs."""
    try:
        return str(uuid.UUID(command_id)).lower()
    except ValueError:
        raise ValueError(f"command id {command_id!r} is not a UUID") from None


def price_amount(price: Decimal) -> str:
    if not price.is_finite() or price <= 0:
        raise ValueError(f"a price must be a positive amount, got {price}")
    return str(price.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


class Commands:
    def __init__(self, caller: Caller) -> None:
        self._caller = caller

    async def change_quantity(self, command_id: str, offer_ids: Sequence[str], delta: int) -> CommandReport:
        """A GAIN (delta may be negative or 0) for up to 1000 offers."""
        if isinstance(delta, bool) or not isinstance(delta, int):
            raise ValueError(f"delta must be an integer, got {delta!r}")
        body = {"modification": {"changeType": "GAIN", "value": delta}, "offerCriteria": _criteria(offer_ids)}
        return await self._put("quantity", command_id, body)

    async def change_price(self, command_id: str, offer_ids: Sequence[str], price: Decimal) -> CommandReport:
        body = {
            "modification": {
                "type": "FIXED_PRICE",
                "marketplaceId": "allegro-pl",
                "price": {"amount": price_amount(price), "currency": "PLN"},
            },
            "offerCriteria": _criteria(offer_ids),
        }
        return await self._put("price", command_id, body)

    async def change_publication(self, command_id: str, offer_ids: Sequence[str], action: str) -> CommandReport:
        """END or ACTIVATE (the engine prefers PATCH for single offers; this is for batches)."""
        if action not in ("END", "ACTIVATE"):
            raise ValueError(f"publication action must be END or ACTIVATE, got {action!r}")
        body = {"publication": {"action": action}, "offerCriteria": _criteria(offer_ids)}
        return await self._put("publication", command_id, body)

    async def _put(self, kind: str, command_id: str, body: Json) -> CommandReport:
        """PUT with a stable id: a timeout or 5xx re-PUTs the same id and body (the caller retries PUT);
        409 "already registered" reads the report; 409 with different content is a CommandConflict."""
        command_id = _command_id(command_id)
        segment, _ = KINDS[kind]
        endpoint = f"PUT /sale/{segment}/{{commandId}}"
        response = await self._caller.send(
            Call(
                method="PUT",
                path=f"/sale/{segment}/{command_id}",
                endpoint=endpoint,
                body=body,
                expect=frozenset({200, 201, 409}),
            )
        )
        if response.status_code == 409:
            if DIFFERENT_CONTENT in error_codes(response):
                raise CommandConflict(
                    f"{kind} command {command_id} was already registered with a different body "
                    f"({describe(endpoint, response)}): command ids must be unique per content, this is a bug"
                )
            return await self.command_report(kind, command_id)
        try:
            report = answers.json_body(response)
            completed = answers.optional(report, "completedAt") is not None
        except MalformedAnswer as exc:
            raise malformed(endpoint, exc, per_item=False) from None
        if completed:
            return await self.command_report(kind, command_id)
        offer_ids = [offer["id"] for offer in body["offerCriteria"][0]["offers"]]
        tasks = tuple(TaskOutcome(offer_id=offer_id, status=TaskStatus.NEW) for offer_id in offer_ids)
        return CommandReport(command_id=command_id, completed=False, tasks=tasks)

    async def command_report(self, kind: str, command_id: str) -> CommandReport:
        """The general report and every task whose `field` matches the kind (404 -> CommandNotFound)."""
        if kind not in KINDS:
            raise ValueError(f"unknown command kind {kind!r}; expected one of {', '.join(KINDS)}")
        command_id = _command_id(command_id)
        segment, field = KINDS[kind]
        endpoint = f"GET /sale/{segment}/{{commandId}}"
        report_call = Call(
            method="GET", path=f"/sale/{segment}/{command_id}", endpoint=endpoint, expect=frozenset({200, 404})
        )
        report_response, tasks = await asyncio.gather(
            self._caller.send(report_call), self._tasks(segment, field, command_id)
        )
        if report_response.status_code == 404 or tasks is None:
            raise CommandNotFound(
                f"{kind} command {command_id}: Allegro does not know it (COMMAND_NOT_FOUND: never registered, "
                "or its report expired after 7 days); resolve the offers by reading them"
            )
        try:
            completed = answers.optional(answers.json_body(report_response), "completedAt") is not None
        except MalformedAnswer as exc:
            raise malformed(endpoint, exc, per_item=False) from None
        return CommandReport(command_id=command_id, completed=completed, tasks=tasks)

    async def _tasks(self, segment: str, field: str, command_id: str) -> tuple[TaskOutcome, ...] | None:
        endpoint = f"GET /sale/{segment}/{{commandId}}/tasks"
        found: list[TaskOutcome] = []
        offset = 0
        while True:
            response = await self._caller.send(
                Call(
                    method="GET",
                    path=f"/sale/{segment}/{command_id}/tasks",
                    endpoint=endpoint,
                    params=[("limit", str(TASK_PAGE)), ("offset", str(offset))],
                    expect=frozenset({200, 404}),
                )
            )
            if response.status_code == 404:
                return None
            try:
                rows = answers.items(answers.json_body(response), "tasks")
                for index, row in enumerate(rows):
                    try:
                        task = _task(row, field)
                    except MalformedAnswer as exc:
                        raise MalformedAnswer(f"tasks[{index}].{exc.field}", exc.detail) from None
                    if task is not None:
                        found.append(task)
            except MalformedAnswer as exc:
                raise malformed(endpoint, exc, per_item=False) from None
            offset += len(rows)
            if len(rows) < TASK_PAGE or offset > MAX_TASK_OFFSET:
                return tuple(found)


def _task(row: Json, field: str) -> TaskOutcome | None:
    """One task, or None when it concerns another field (a report may mix fields)."""
    task_field = answers.optional_text(row, "field")
    if task_field is not None and task_field != field:
        return None
    status_text = answers.text(row, "status")
    if status_text not in _STATUSES:
        raise MalformedAnswer("status", f"is {status_text!r}, expected NEW, SUCCESS or FAIL")
    message = answers.optional_text(row, "message") or ""
    errors: list[Any] = answers.optional(row, "errors") or []
    details = [
        f"{e.get('code')}: {e.get('userMessage') or e.get('message') or ''}".rstrip(": ")
        for e in errors
        if isinstance(e, dict) and (e.get("code") or e.get("message"))
    ]
    if details:
        message = "; ".join(details) if not message else f"{message} ({'; '.join(details)})"
    return TaskOutcome(offer_id=answers.text(row, "offer.id"), status=_STATUSES[status_text], message=message)
