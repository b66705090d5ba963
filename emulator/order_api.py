"""HTTP handlers for `/order/checkout-forms...`: listing with filters, one form, and the fulfillment status."""

from __future__ import annotations

import math
import uuid

from starlette.requests import Request
from starlette.responses import Response

from emulator.clock import parse_iso
from emulator.http import api, fail, json_response, read_json, seller_of
from emulator.orders import FULFILLMENT_STATUSES, form_json, set_fulfillment
from emulator.records import CheckoutForm
from emulator.state import EmulatorState

SORTS = ("lineItems.boughtAt", "-lineItems.boughtAt", "updatedAt", "-updatedAt")
SELLER_SETTABLE = tuple(status for status in FULFILLMENT_STATUSES if status != "RETURNED")


def _state(request: Request) -> EmulatorState:
    state: EmulatorState = request.app.state.emulator
    return state


def _int(raw: str | None, default: int) -> int | None:
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        return None


def _time_filter(request: Request, name: str) -> float | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    moment = parse_iso(raw)
    if moment is None:
        raise fail(422, "IllegalArgumentException", f"{name} must be an ISO-8601 date-time", path=name)
    return moment


def _matches(form: CheckoutForm, request: Request, bounds: dict[str, float | None]) -> bool:
    params = request.query_params
    body = form.body
    checks = (
        ("status", body["status"]),
        ("fulfillment.status", body["fulfillment"]["status"]),
        ("buyer.login", body["buyer"]["login"]),
        ("marketplace.id", body["marketplace"]["id"]),
    )
    if any(name in params and params[name] != value for name, value in checks):
        return False
    limits = (
        (bounds["lineItems.boughtAt.gte"], form.bought_at, True),
        (bounds["lineItems.boughtAt.lte"], form.bought_at, False),
        (bounds["updatedAt.gte"], form.updated_at, True),
        (bounds["updatedAt.lte"], form.updated_at, False),
    )
    # Compared at millisecond precision: the times handed out are truncated to milliseconds.
    return all(
        bound is None or (_ms(value) >= _ms_bound(bound) if lower else _ms(value) <= _ms_bound(bound))
        for bound, value, lower in limits
    )


def _ms(moment: float) -> int:
    return math.floor(moment * 1000)


def _ms_bound(moment: float) -> int:
    return round(moment * 1000)


@api
async def list_forms(request: Request) -> Response:
    state = _state(request)
    params = request.query_params
    limit, offset = _int(params.get("limit"), 100), _int(params.get("offset"), 0)
    if limit is None or not 1 <= limit <= 100 or offset is None or offset < 0:
        raise fail(422, "IllegalArgumentException", "limit must be 1..100 and offset at least 0", path="limit")
    sort = params.get("sort", "-lineItems.boughtAt")
    if sort not in SORTS:
        raise fail(422, "IllegalArgumentException", f"Unknown sort: {sort}", path="sort")
    names = ("lineItems.boughtAt.gte", "lineItems.boughtAt.lte", "updatedAt.gte", "updatedAt.lte")
    bounds = {name: _time_filter(request, name) for name in names}
    seller_id = seller_of(request)
    found = [
        form for form in state.world.forms.values() if form.seller_id == seller_id and _matches(form, request, bounds)
    ]
    key = (lambda form: form.updated_at) if "updatedAt" in sort else (lambda form: form.bought_at)
    found.sort(key=key, reverse=sort.startswith("-"))
    page = found[offset : offset + limit]
    return json_response(
        {"checkoutForms": [form_json(form) for form in page], "count": len(page), "totalCount": len(found)}
    )


def _form(request: Request, *, malformed_status: int) -> CheckoutForm:
    raw = request.path_params["id"]
    try:
        uuid.UUID(raw)
    except ValueError:
        raise fail(
            malformed_status, "IllegalArgumentException", f"Invalid checkout form id: {raw}", path="id"
        ) from None
    form = _state(request).world.forms.get(raw.lower())
    if form is None or form.seller_id != seller_of(request):
        raise fail(404, "NotFoundException", f"Checkout form {raw} not found.")
    return form


@api
async def get_form(request: Request) -> Response:
    return json_response(form_json(_form(request, malformed_status=422)))


@api
async def put_fulfillment(request: Request) -> Response:
    form = _form(request, malformed_status=404)
    body = await read_json(request)
    revision = request.query_params.get("checkoutForm.revision")
    if revision is not None and revision != form.body["revision"]:
        raise fail(
            409, "OptimisticLockException", "The checkout form revision is outdated.", path="checkoutForm.revision"
        )
    status = body.get("status")
    if status not in SELLER_SETTABLE:
        raise fail(
            422, "IllegalArgumentException", f"Fulfillment status {status!r} cannot be set by the seller", path="status"
        )
    if status != form.body["fulfillment"]["status"]:
        set_fulfillment(_state(request), form, str(status))
    return Response(status_code=204)
