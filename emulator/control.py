"""The control API under `/__emulator/`: no auth, no faults, JSON in and out, 409/422 for impossible requests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from emulator import faults, offers, orders, persistence, request_shapes, tokens
from emulator.auth import approve_device
from emulator.clock import iso
from emulator.http import ApiError, parse_amount
from emulator.offer_listing import listing_json
from emulator.orders import Refused, form_json
from emulator.records import CheckoutForm, Json, Offer
from emulator.state import EmulatorState


def _state(request: Request) -> EmulatorState:
    state: EmulatorState = request.app.state.emulator
    return state


def reply(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def refuse(status: int, message: str) -> Response:
    return reply({"error": message}, status)


async def _body(request: Request) -> Json | None:
    raw = await request.body()
    try:
        body = orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError:
        return None
    return body if isinstance(body, dict) else None


def _offer(state: EmulatorState, offer_id: Any) -> Offer | None:
    return offers.live(state, str(offer_id))


def _form(state: EmulatorState, form_id: Any) -> CheckoutForm | None:
    return state.world.forms.get(str(form_id).lower())


async def reset(request: Request) -> Response:
    body = await _body(request) or {}
    _state(request).reset(keep_auth=bool(body.get("keep_auth")))
    return reply({"reset": True})


async def device_approvals(request: Request) -> Response:
    body = await _body(request)
    if body is None or not isinstance(body.get("user_code"), str):
        return refuse(422, "user_code is required")
    approve = body.get("approve", True) is not False and body.get("deny") is not True
    if not approve_device(_state(request), body["user_code"], approve):
        return refuse(422, f"no pending device authorization with user_code {body['user_code']!r}")
    return reply({"user_code": body["user_code"], "approved": approve})


async def issue_tokens(request: Request) -> Response:
    """A shortcut past the device flow: a seller token pair (or an application token with `application`)."""
    state = _state(request)
    body = await _body(request) or {}
    seller = None if body.get("application") else str(body.get("seller_id") or state.config.seller_id)
    return reply(tokens.issue(state, state.config.client_id, seller), 201)


async def create_offer(request: Request) -> Response:
    """An offer listed by the seller in Allegro's panel (immediately, no limits, no faults)."""
    state = _state(request)
    body = await _body(request)
    if body is None:
        return refuse(422, "a JSON object is required")
    seller = str(body.pop("seller_id", None) or state.config.seller_id)
    try:
        request_shapes.check(body, request_shapes.OFFER_SHAPE)
    except ApiError as exc:
        return reply({"errors": exc.errors}, 422)
    offer, errors = offers.create(state, seller, body, activate_now=True)
    if offer is None:
        return reply({"errors": errors}, 422)
    return reply(offer.body, 201)


async def edit_offer(request: Request) -> Response:
    """The seller editing in Allegro's panel: `{stock, price, status}`, each optional; emits offer events."""
    state = _state(request)
    offer = _offer(state, request.path_params["offer_id"])
    if offer is None:
        return refuse(404, f"offer {request.path_params['offer_id']} not found")
    body = await _body(request)
    if body is None:
        return refuse(422, "a JSON object is required")
    stock, price, status = body.get("stock"), body.get("price"), body.get("status")
    if stock is not None and (isinstance(stock, bool) or not isinstance(stock, int) or stock < 0):
        return refuse(422, "stock must be a non-negative integer")
    amount = parse_amount(price) if price is not None else None
    if price is not None and (amount is None or amount <= 0):
        return refuse(422, "price must be a positive amount")
    if status not in (None, "ACTIVE", "ENDED"):
        return refuse(422, "status must be ACTIVE or ENDED")
    target_stock = offers.stock_of(offer) if stock is None else stock
    if status == "ACTIVE" and target_stock < 1:
        return refuse(409, "an offer can only be activated with stock of at least 1")
    if status == "ENDED":
        offers.end(state, offer, "USER")
    if amount is not None:
        offers.set_price(state, offer, Decimal(amount))
    if status == "ACTIVE" and offers.status_of(offer) not in offers.PUBLISHING:
        offer.body["stock"]["available"] = target_stock
        offers.activate(state, offer)
    elif stock is not None:
        offers.set_stock(state, offer, stock)
    return reply(listing_json(offer))


async def list_offers(request: Request) -> Response:
    listed = [listing_json(offer) for offer in _state(request).world.offers.values() if not offer.archived]
    return reply({"offers": listed})


async def list_forms(request: Request) -> Response:
    """Every checkout form, oldest first; `?status=BOUGHT` (repeatable) keeps those statuses and `?last=N`
    the N newest of what is left, so that a long-running world need not be read whole."""
    forms = list(_state(request).world.forms.values())
    statuses = request.query_params.getlist("status")
    if statuses:
        forms = [form for form in forms if form.body.get("status") in statuses]
    last = request.query_params.get("last")
    if last is not None:
        if not last.isdigit():
            return refuse(422, f"last must be a whole number of forms, not {last!r}")
        forms = forms[len(forms) - int(last) :] if int(last) else []
    return reply({"checkoutForms": [form_json(form) for form in forms]})


async def purchases(request: Request) -> Response:
    state = _state(request)
    body = await _body(request)
    if body is None:
        return refuse(422, "a JSON object is required")
    offer = _offer(state, body.get("offer_id"))
    quantity = body.get("quantity", 1)
    if offer is None:
        return refuse(422, f"offer {body.get('offer_id')!r} not found")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        return refuse(422, "quantity must be a positive integer")
    try:
        form = orders.purchase(state, offer, quantity, bool(body.get("paid", False)), bool(body.get("filled_in")))
    except Refused as exc:
        return refuse(409, str(exc))
    return reply({"checkout_form_id": form.id, "line_item_id": form.body["lineItems"][0]["id"]}, 201)


async def payments(request: Request) -> Response:
    state = _state(request)
    body = await _body(request) or {}
    form = _form(state, body.get("checkout_form_id"))
    if form is None:
        return refuse(422, f"checkout form {body.get('checkout_form_id')!r} not found")
    try:
        orders.pay(state, form)
    except Refused as exc:
        return refuse(409, str(exc))
    return reply({"checkout_form_id": form.id, "status": form.body["status"]})


async def cancellations(request: Request) -> Response:
    state = _state(request)
    body = await _body(request) or {}
    form = _form(state, body.get("checkout_form_id"))
    if form is None:
        return refuse(422, f"checkout form {body.get('checkout_form_id')!r} not found")
    by = body.get("by", "BUYER")
    if by not in orders.CANCEL_EVENTS:
        return refuse(422, "by must be BUYER, AUTO or SELLER")
    try:
        orders.cancel(state, form, str(by))
    except Refused as exc:
        return refuse(409, str(exc))
    return reply({"checkout_form_id": form.id, "status": form.body["status"]})


async def get_faults(request: Request) -> Response:
    return reply(faults.as_json(_state(request).faults))


async def put_faults(request: Request) -> Response:
    """Changes the given switches (others keep their value); `seed` also re-seeds the RNG."""
    state = _state(request)
    body = await _body(request)
    if body is None:
        return refuse(422, "a JSON object is required")
    try:
        state.faults = faults.updated(state.faults, body)
    except ValueError as exc:
        return refuse(422, str(exc))
    if "seed" in body:
        state.rng.seed(state.faults.seed)
    if body.get("expire_access_tokens"):
        tokens.expire_all_access_tokens(state)
    if body.get("invalidate_refresh_tokens"):
        tokens.invalidate_all_refresh_tokens(state)
    return reply(faults.as_json(state.faults))


async def clock(request: Request) -> Response:
    state = _state(request)
    if request.method == "POST":
        body = await _body(request) or {}
        seconds = body.get("advance_seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            return refuse(422, "advance_seconds must be a non-negative number")
        state.clock.advance(float(seconds))
    return reply({"now": iso(state.now()), "offset_seconds": state.clock.offset_seconds})


async def dump_state(request: Request) -> Response:
    return reply(persistence.dump(_state(request)))


async def requests(request: Request) -> Response:
    state = _state(request)
    if request.method == "DELETE":
        state.stats.by_route.clear()
        state.stats.by_status.clear()
        state.stats.sent_429 = state.stats.total = 0
    stats = state.stats
    return reply(
        {
            "total": stats.total,
            "sent_429": stats.sent_429,
            "by_route": dict(stats.by_route),
            "by_status": {str(key): value for key, value in stats.by_status.items()},
        }
    )
