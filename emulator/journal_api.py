"""HTTP handlers for the journals: `/sale/offer-events`, `/order/events` and `/order/event-stats`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from emulator.clock import iso
from emulator.http import PLAIN_JSON, ApiError, api, error, fail, json_response, seller_of
from emulator.journals import (
    OFFER_EVENT_TYPES,
    ORDER_EVENT_TYPES,
    latest_order_event,
    read_offer_events,
    read_order_events,
)
from emulator.state import EmulatorState


def _state(request: Request) -> EmulatorState:
    state: EmulatorState = request.app.state.emulator
    return state


def _limit(request: Request) -> int | None:
    raw = request.query_params.get("limit")
    if raw is None:
        return 100
    try:
        limit = int(raw)
    except ValueError:
        return None
    return limit if 1 <= limit <= 1000 else None


def _offer_events_error(message: str, path: str) -> ApiError:
    # The spec declares these errors as application/json, not the vendor type.
    return ApiError(400, [error("IllegalArgumentException", message, path=path)], media_type=PLAIN_JSON)


@api
async def offer_events(request: Request) -> Response:
    limit = _limit(request)
    if limit is None:
        raise _offer_events_error("limit must be an integer from 1 to 1000", "limit")
    types = set(request.query_params.getlist("type"))
    if types - set(OFFER_EVENT_TYPES):
        raise _offer_events_error(f"Unknown event type: {sorted(types - set(OFFER_EVENT_TYPES))[0]}", "type")
    after = request.query_params.get("from")
    if after is not None and len(after) > 256:
        raise _offer_events_error("from is too long", "from")
    events = read_offer_events(_state(request), seller_of(request), after, limit, types)
    if events is None:
        raise _offer_events_error(f"Unknown event id: {after}", "from")
    return json_response({"offerEvents": events})


@api
async def order_events(request: Request) -> Response:
    limit = _limit(request)
    if limit is None:
        raise fail(422, "IllegalArgumentException", "limit must be an integer from 1 to 1000", path="limit")
    types = set(request.query_params.getlist("type"))
    if types - set(ORDER_EVENT_TYPES):
        raise fail(422, "IllegalArgumentException", "Unknown event type", path="type")
    after = request.query_params.get("from")
    events = read_order_events(_state(request), seller_of(request), after, limit, types)
    if events is None:
        raise fail(422, "IllegalArgumentException", f"Invalid event id: {after}", path="from")
    return json_response({"events": events})


@api
async def event_stats(request: Request) -> Response:
    latest = latest_order_event(_state(request), seller_of(request))
    if latest is None:
        return json_response({})
    return json_response({"latestEvent": {"id": str(latest.seq), "occurredAt": iso(latest.occurred_at)}})
