"""HTTP handlers for the batch command resources (quantity, price, publication) and their reports."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from emulator import commands
from emulator.http import api, error, fail, json_response, read_json, seller_of
from emulator.state import EmulatorState

# URL segment -> command kind
RESOURCES = {
    "offer-quantity-change-commands": "quantity",
    "offer-price-change-commands": "price",
    "offer-publication-commands": "publication",
}


def _state(request: Request) -> EmulatorState:
    state: EmulatorState = request.app.state.emulator
    return state


def _kind(request: Request) -> str:
    return RESOURCES[request.url.path.split("/")[2]]


@api
async def put_command(request: Request) -> Response:
    state = _state(request)
    body = await read_json(request)
    command, is_new = commands.register(
        state, _kind(request), request.path_params["commandId"], body, seller_of(request)
    )
    if state.chance(state.faults.timeout_after_registration):
        # Registered (and maybe executed), but the answer is lost on the way back.
        return json_response({"errors": [error("GatewayTimeout", "Gateway timeout")]}, 504)
    # A new command answers with zero counts; a replay of the same body answers with the first one's report.
    return json_response(commands.report_json(command, fresh=is_new), 201)


@api
async def get_report(request: Request) -> Response:
    command = commands.find(_state(request), _kind(request), request.path_params["commandId"], seller_of(request))
    return json_response(commands.report_json(command))


@api
async def get_tasks(request: Request) -> Response:
    command = commands.find(_state(request), _kind(request), request.path_params["commandId"], seller_of(request))
    params = request.query_params
    try:
        limit, offset = int(params.get("limit", "100")), int(params.get("offset", "0"))
    except ValueError:
        raise fail(422, "IllegalArgumentException", "limit and offset must be integers", path="limit") from None
    if not 1 <= limit <= 1000 or not 0 <= offset <= 999:
        raise fail(422, "IllegalArgumentException", "limit must be 1..1000 and offset 0..999", path="limit")
    tasks = commands.tasks_json(command)[offset : offset + limit]
    return json_response({"tasks": tasks})
