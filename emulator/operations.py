"""Long-running offer operations (async creation, slow PATCH): 202 + Location while running, then 303."""

from __future__ import annotations

from emulator.offers import activate, apply_patch
from emulator.records import Json, Offer, Operation
from emulator.state import EmulatorState


def start(
    state: EmulatorState,
    offer: Offer,
    kind: str,
    *,
    patch: Json | None = None,
    target_status: str | None = None,
    seconds: float | None = None,
) -> Operation:
    now = state.now()
    duration = state.faults.retry_after_seconds if seconds is None else seconds
    operation = Operation(
        id=state.new_uuid(),
        offer_id=offer.id,
        kind=kind,
        started_at=now,
        due_at=now + duration,
        polls_left=state.faults.async_operation_polls,
        patch=patch,
        target_status=target_status,
    )
    state.world.operations[operation.id] = operation
    return operation


def location(state: EmulatorState, operation: Operation) -> str:
    return f"{state.config.base_url}/sale/product-offers/{operation.offer_id}/operations/{operation.id}"


def complete(state: EmulatorState, operation: Operation) -> None:
    if operation.done:
        return
    operation.done = True
    offer = state.world.offers.get(operation.offer_id)
    if offer is None:
        return
    if operation.kind == "create" and operation.target_status == "ACTIVE":
        if offer.body["publication"]["status"] == "ACTIVATING":
            activate(state, offer)
    elif operation.kind == "patch" and operation.patch is not None:
        offer.busy_until = 0.0
        errors = apply_patch(state, offer, operation.patch)
        offer.body["validation"]["errors"] = errors


def poll(state: EmulatorState, operation: Operation) -> bool:
    """One poll of the operation endpoint; True once it has completed."""
    if not operation.done:
        if operation.polls_left > 0:
            operation.polls_left -= 1
        else:
            complete(state, operation)
    return operation.done


def run_due(state: EmulatorState) -> None:
    now = state.now()
    for operation in list(state.world.operations.values()):
        if not operation.done and operation.due_at <= now:
            complete(state, operation)
