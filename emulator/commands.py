"""Batch commands (quantity, price, publication): registration, idempotent replay and delayed execution."""

from __future__ import annotations

from decimal import Decimal

from emulator import request_shapes
from emulator.clock import iso
from emulator.http import ApiError, error, fail, parse_amount
from emulator.offers import PUBLISHING, activate, end, set_price, set_stock, status_of, stock_of
from emulator.records import Command, Json, Offer
from emulator.state import EmulatorState

MAX_OFFERS = 1000
REPORT_SECONDS = 7 * 24 * 3600  # reports are kept 7 days, then COMMAND_NOT_FOUND (and the id is free again)
FIELDS = {"quantity": "quantity", "price": "price", "publication": "publication"}


def _offer_ids(body: Json) -> list[str]:
    criteria = body.get("offerCriteria")
    if not isinstance(criteria, list) or not criteria:
        raise fail(422, "VALIDATION_ERROR", "offerCriteria is required", path="offerCriteria")
    ids: list[str] = []
    for index, criterion in enumerate(criteria):
        if not isinstance(criterion, dict) or criterion.get("type", "CONTAINS_OFFERS") != "CONTAINS_OFFERS":
            raise fail(
                422,
                "VALIDATION_ERROR",
                "Only CONTAINS_OFFERS criteria are supported",
                path=f"offerCriteria[{index}].type",
            )
        for offer in criterion.get("offers") or []:
            if not isinstance(offer, dict) or not offer.get("id"):
                raise fail(422, "VALIDATION_ERROR", "Every offer needs an id", path=f"offerCriteria[{index}].offers")
            ids.append(str(offer["id"]))
    if not ids:
        raise fail(422, "VALIDATION_ERROR", "No offers given", path="offerCriteria")
    if len(ids) > MAX_OFFERS:
        raise fail(422, "VALIDATION_ERROR", f"At most {MAX_OFFERS} offers per command", path="offerCriteria")
    return ids


def _check_modification(state: EmulatorState, kind: str, body: Json) -> None:
    if kind == "publication":
        action = (body.get("publication") or {}).get("action")
        if action not in ("ACTIVATE", "END"):
            raise fail(422, "VALIDATION_ERROR", "publication.action must be ACTIVATE or END", path="publication.action")
        return
    modification = body.get("modification")
    if not isinstance(modification, dict):
        raise fail(422, "VALIDATION_ERROR", "modification is required", path="modification")
    if kind == "quantity":
        value = modification.get("value")
        if (
            modification.get("changeType") not in ("FIXED", "GAIN")
            or isinstance(value, bool)
            or not isinstance(value, int)
        ):
            raise fail(
                422,
                "VALIDATION_ERROR",
                "changeType FIXED or GAIN with an integer value is required",
                path="modification",
            )
        if modification["changeType"] == "FIXED" and value < 1 and state.faults.fixed_below_one == "422":
            raise fail(
                422,
                "INCORRECT_QUANTITY_VALUE",
                "The quantity can not be changed to less than 1.",
                path="modification.value",
            )
        return
    price_type = modification.get("type")
    needed = {
        "FIXED_PRICE": "price",
        "INCREASE_PRICE": "value",
        "DECREASE_PRICE": "value",
        "INCREASE_PERCENTAGE": "percentage",
        "DECREASE_PERCENTAGE": "percentage",
    }.get(str(price_type))
    if needed is None or modification.get(needed) is None:
        raise fail(422, "VALIDATION_ERROR", "A known modification type with its value is required", path="modification")


def register(state: EmulatorState, kind: str, command_id: str, body: Json, seller_id: str) -> tuple[Command, bool]:
    """Registers a command or finds the same one again; returns (command, is_new). Raises ApiError on 409/422."""
    command_id = command_id.lower()
    key = f"{kind}:{command_id}"
    existing = state.world.commands.get(key)
    if existing is not None and existing.created_at <= state.now() - REPORT_SECONDS:
        existing = None
    if existing is not None:
        if existing.body != body or existing.seller_id != seller_id:
            raise fail(
                409,
                "COMMAND_ALREADY_REGISTERED_WITH_DIFFERENT_CONTENT",
                "Command with the given id but with different content is already registered.",
            )
        if state.faults.command_replay == "409":
            raise fail(409, "COMMAND_ALREADY_REGISTERED", "Command id was already used.")
        return existing, False
    request_shapes.check(body, request_shapes.COMMAND_SHAPES[kind])
    offer_ids = _offer_ids(body)
    _check_modification(state, kind, body)
    now = state.now()
    delay = state.faults.command_delay_seconds
    if state.faults.command_out_of_order and delay > 0:
        delay *= state.rng.uniform(0.2, 1.8)
    command = Command(
        id=command_id,
        kind=kind,
        seller_id=seller_id,
        body=body,
        offer_ids=offer_ids,
        created_at=now,
        due_at=now + delay,
    )
    state.world.commands.pop(key, None)
    state.world.commands[key] = command
    state.world.pending_commands.append(key)
    if delay == 0 and not state.faults.command_out_of_order:
        execute(state, command)
    return command, True


def find(state: EmulatorState, kind: str, command_id: str, seller_id: str) -> Command:
    command = state.world.commands.get(f"{kind}:{command_id.lower()}")
    if command is None or command.seller_id != seller_id or command.created_at <= state.now() - REPORT_SECONDS:
        raise ApiError(404, [error("COMMAND_NOT_FOUND", "Command not found.", user_message="Nie znaleziono zlecenia.")])
    return command


def run_due(state: EmulatorState) -> None:
    """Executes every command whose time has come; out of submission order when that switch is on."""
    now = state.now()
    commands = state.world.commands
    due = [commands[key] for key in state.world.pending_commands if commands[key].due_at <= now]
    if not due:
        return
    due.sort(key=lambda command: command.due_at)
    if state.faults.command_out_of_order:
        state.rng.shuffle(due)
    for command in due:
        execute(state, command)


def _key(command: Command) -> str:
    return f"{command.kind}:{command.id}"


def _outdated(state: EmulatorState, command: Command, offer_id: str) -> bool:
    """True when a command of the same kind registered later is still pending for this offer."""
    pending = state.world.pending_commands
    key = _key(command)
    later = pending[pending.index(key) + 1 :] if key in pending else []
    return any(
        other.kind == command.kind and offer_id in other.offer_ids
        for other in (state.world.commands[other_key] for other_key in later)
    )


def execute(state: EmulatorState, command: Command) -> None:
    tasks: list[Json] = []
    for offer_id in command.offer_ids:
        offer = state.world.offers.get(offer_id)
        if offer is None or offer.archived or offer.seller_id != command.seller_id:
            problem: Json | None = error("OFFER_NOT_FOUND", f"Offer {offer_id} not found.")
        elif state.faults.concurrent_commands == "outdated" and _outdated(state, command, offer_id):
            problem = error("COMMAND_OUTDATED", "A newer command for this offer was registered.")
        else:
            problem = _apply(state, command, offer)
        task = {
            "offer": {"id": offer_id},
            "field": FIELDS[command.kind],
            "status": "FAIL" if problem else "SUCCESS",
            "message": problem["message"] if problem else "",
            "errors": [problem] if problem else [],
        }
        tasks.append(task)
    command.tasks = tasks
    command.completed_at = state.now()
    if _key(command) in state.world.pending_commands:
        state.world.pending_commands.remove(_key(command))


def _apply(state: EmulatorState, command: Command, offer: Offer) -> Json | None:
    """Applies one task; returns the task's error, or None on success."""
    if command.kind == "quantity":
        modification = command.body["modification"]
        value = int(modification["value"])
        target = value if modification["changeType"] == "FIXED" else stock_of(offer) + value
        if target < 1:
            return error("INVALID_OFFER_QUANTITY", "The quantity can not be changed to less than 1.")
        if status_of(offer) not in PUBLISHING and state.faults.gain_on_ended == "fail":
            return error("OFFER_NOT_ACTIVE", f"Offer {offer.id} is {status_of(offer)}.")
        set_stock(state, offer, target)
        return None
    if command.kind == "price":
        return _apply_price(state, command.body["modification"], offer)
    if command.body["publication"]["action"] == "END":
        end(state, offer, "USER")
        return None
    if stock_of(offer) < 1:
        return error("AvailableStockMustEqualToOneOrBeGreaterThanOne", "Incorrect initial quantity of stock.")
    activate(state, offer)
    return None


def _apply_price(state: EmulatorState, modification: Json, offer: Offer) -> Json | None:
    current = Decimal(offer.body["sellingMode"]["price"]["amount"])
    kind = modification["type"]
    if kind == "FIXED_PRICE":
        amount = parse_amount((modification.get("price") or {}).get("amount"))
    elif kind in ("INCREASE_PRICE", "DECREASE_PRICE"):
        delta = parse_amount((modification.get("value") or {}).get("amount"))
        amount = None if delta is None else current + (delta if kind == "INCREASE_PRICE" else -delta)
    else:
        percent = parse_amount(modification.get("percentage"))
        sign = 1 if kind == "INCREASE_PERCENTAGE" else -1
        amount = None if percent is None else (current * (100 + sign * percent) / 100).quantize(Decimal("0.01"))
    if amount is None or amount <= 0:
        return error("INVALID_PRICE", "The price must be greater than 0.")
    set_price(state, offer, amount)
    return None


def report_json(command: Command, *, fresh: bool = False) -> Json:
    """GeneralReport; right after the PUT (`fresh`) the counts are zero, as Allegro answers."""
    done = command.completed_at is not None
    total = 0 if fresh else len(command.offer_ids)
    success = sum(task["status"] == "SUCCESS" for task in command.tasks) if done and not fresh else 0
    failed = sum(task["status"] == "FAIL" for task in command.tasks) if done and not fresh else 0
    return {
        "id": command.id,
        "createdAt": iso(command.created_at),
        "completedAt": iso(command.completed_at) if done and not fresh and command.completed_at else None,
        "taskCount": {"total": total, "success": success, "failed": failed},
    }


def tasks_json(command: Command) -> list[Json]:
    if command.completed_at is not None:
        return command.tasks
    field = FIELDS[command.kind]
    return [
        {"offer": {"id": offer_id}, "field": field, "status": "NEW", "message": "", "errors": []}
        for offer_id in command.offer_ids
    ]
