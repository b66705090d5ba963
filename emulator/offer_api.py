"""HTTP handlers for `/sale/product-offers...` and `GET /sale/offers`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from emulator import operations, request_shapes
from emulator.clock import iso
from emulator.http import ApiError, api, error, fail, json_response, read_json, seller_of
from emulator.offer_listing import listing_json
from emulator.offers import apply_patch, create, live, requested_status
from emulator.records import Offer
from emulator.state import EmulatorState, RateWindow

PUBLICATION_STATUSES = ("INACTIVE", "ACTIVE", "ACTIVATING", "ENDED")


def _state(request: Request) -> EmulatorState:
    state: EmulatorState = request.app.state.emulator
    return state


def _offer(request: Request) -> Offer:
    state = _state(request)
    offer = live(state, request.path_params["offerId"])
    if offer is None:
        raise fail(
            404,
            "NotFoundException",
            f"Offer {request.path_params['offerId']} not found. It was deleted, archived or never existed.",
        )
    if offer.seller_id != seller_of(request):
        raise fail(403, "AccessDenied", "You cannot access this offer.")
    return offer


def _lost_response(state: EmulatorState) -> Response | None:
    """Fault `timeout_after_registration`: the write happened, but the answer never arrives."""
    if state.chance(state.faults.timeout_after_registration):
        return json_response({"errors": [error("GatewayTimeout", "Gateway timeout")]}, 504)
    return None


def _per_seller_limit(state: EmulatorState, seller_id: str, resource: str, limit: int | None) -> None:
    """Allegro's per-seller limits on offer resources (requests a minute); 429 beyond, no block."""
    if limit is None:
        return
    now = state.now()
    window = state.rate_windows.setdefault(f"{resource}:{seller_id}", RateWindow())
    while window.stamps and window.stamps[0] <= now - 60:
        window.stamps.popleft()
    if len(window.stamps) >= limit:
        retry_after = max(1, round(window.stamps[0] + 60 - now))
        headers = {"Retry-After": str(retry_after)} if state.faults.retry_after_on_429 else None
        raise ApiError(
            429,
            [
                error(
                    "RateLimitExceedException",
                    f"Limit of {limit} {resource} requests a minute exceeded",
                    user_message="Przekroczony limit zapytań.",
                )
            ],
            headers=headers,
        )
    window.stamps.append(now)


@api
async def create_offer(request: Request) -> Response:
    state = _state(request)
    body = await read_json(request)
    request_shapes.check(body, request_shapes.OFFER_SHAPE)
    seller_id = seller_of(request)
    _per_seller_limit(state, seller_id, "offer creation", state.faults.offer_creation_limit_per_minute)
    asynchronous = state.faults.async_offer_creation
    offer, errors = create(state, seller_id, body, activate_now=not asynchronous)
    if offer is None:
        raise ApiError(422, errors)
    operation = operations.start(state, offer, "create", target_status=requested_status(body)) if asynchronous else None
    lost = _lost_response(state)
    if lost is not None:
        return lost
    if operation is not None:
        headers = {
            "Location": operations.location(state, operation),
            "Retry-After": str(state.faults.retry_after_seconds),
        }
        return json_response(offer.body, 202, headers=headers)
    return json_response(offer.body, 201)


@api
async def get_offer(request: Request) -> Response:
    state = _state(request)
    _per_seller_limit(state, seller_of(request), "offer read", state.faults.seller_offer_reads_per_minute)
    return json_response(_offer(request).body)


@api
async def get_parts(request: Request) -> Response:
    offer = _offer(request)
    include = request.query_params.getlist("include")
    if not include or any(part not in ("stock", "price") for part in include):
        raise fail(400, "IllegalArgumentException", "Parameter include is required: stock and/or price", path="include")
    body: dict[str, object] = {"id": offer.id}
    if "stock" in include:
        body["stock"] = {"available": offer.body["stock"]["available"]}
    if "price" in include:
        body["sellingMode"] = {"price": offer.body["sellingMode"]["price"]}
    return json_response(body)


@api
async def patch_offer(request: Request) -> Response:
    state = _state(request)
    _per_seller_limit(state, seller_of(request), "offer edit", state.faults.seller_offer_edits_per_minute)
    offer = _offer(request)
    patch = await read_json(request)
    request_shapes.check(patch, request_shapes.OFFER_SHAPE)
    now = state.now()
    if offer.busy_until > now:
        raise fail(409, "OperationInProgressException", f"A previous edit of offer {offer.id} is still processing.")
    seconds = state.faults.patch_processing_seconds
    if seconds > 0:
        before = dict(offer.body)
        operation = operations.start(state, offer, "patch", patch=patch, seconds=seconds)
        offer.busy_until = operation.due_at
        lost = _lost_response(state)
        if lost is not None:
            return lost
        headers = {"Location": operations.location(state, operation), "Retry-After": str(int(seconds) or 1)}
        return json_response(before, 202, headers=headers)
    errors = apply_patch(state, offer, patch)
    if errors:
        raise ApiError(422, errors)
    return _lost_response(state) or json_response(offer.body)


@api
async def get_operation(request: Request) -> Response:
    state = _state(request)
    offer = _offer(request)
    operation = state.world.operations.get(request.path_params["operationId"])
    if operation is None or operation.offer_id != offer.id:
        return Response(status_code=404)
    if operations.poll(state, operation):
        offer_url = f"{state.config.base_url}/sale/product-offers/{offer.id}"
        return Response(status_code=303, headers={"Location": offer_url})
    location = operations.location(state, operation)
    body = {
        "offer": {"id": offer.id},
        "operation": {"id": operation.id, "status": "IN_PROGRESS", "startedAt": iso(operation.started_at)},
    }
    headers = {"Location": location, "Retry-After": str(state.faults.retry_after_seconds)}
    return json_response(body, 202, headers=headers)


@api
async def list_offers(request: Request) -> Response:
    state = _state(request)
    params = request.query_params
    limit, offset = _int(params.get("limit"), 20), _int(params.get("offset"), 0)
    if (
        limit is None
        or not 1 <= limit <= 1000
        or offset is None
        or not 0 <= offset <= 9_999_999
        or offset + limit > 10_000_000
    ):
        raise fail(400, "IllegalArgumentException", "limit must be 1..1000 and offset 0..9999999", path="limit")
    external_ids = set(params.getlist("external.id"))
    if len(params.getlist("external.id")) > 100 or any(len(value) > 100 for value in external_ids):
        raise fail(
            400,
            "IllegalArgumentException",
            "At most 100 external.id values of at most 100 characters",
            path="external.id",
        )
    statuses = params.getlist("publication.status")
    if any(status not in PUBLICATION_STATUSES for status in statuses):
        raise fail(400, "IllegalArgumentException", "Unknown publication.status", path="publication.status")
    offer_ids = set(params.getlist("offer.id"))
    seller_id = seller_of(request)
    found = [
        offer
        for offer in reversed(state.world.offers.values())  # newest first, as Allegro sorts by default
        if offer.seller_id == seller_id
        and not offer.archived
        and (not offer_ids or offer.id in offer_ids)
        and (not external_ids or (offer.body.get("external") or {}).get("id") in external_ids)
        and (not statuses or offer.body["publication"]["status"] in statuses)
    ]
    page = found[offset : offset + limit]
    return json_response(
        {"offers": [listing_json(offer) for offer in page], "count": len(page), "totalCount": len(found)}
    )


def _int(raw: str | None, default: int) -> int | None:
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        return None
