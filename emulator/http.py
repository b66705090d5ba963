"""Allegro's wire conventions: media types, JSON bodies, `errors[]` and OAuth error shapes."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

VENDOR_TYPE = "application/vnd.allegro.public.v1+json"
VENDOR_CONTENT_TYPE = f"{VENDOR_TYPE};charset=UTF-8"
PLAIN_JSON = "application/json;charset=UTF-8"

Json = dict[str, Any]


class ApiError(Exception):
    """Raised by handlers to answer with Allegro's `{"errors": [...]}` body."""

    def __init__(
        self,
        status: int,
        errors: list[Json],
        *,
        media_type: str = VENDOR_CONTENT_TYPE,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(errors[0].get("message", "") if errors else "")
        self.status = status
        self.errors = errors
        self.media_type = media_type
        self.headers = headers


def error(
    code: str,
    message: str,
    *,
    path: str | None = None,
    user_message: str | None = None,
    metadata: dict[str, str] | None = None,
    details: str | None = None,
) -> Json:
    """One element of Allegro's `errors[]` array."""
    item: Json = {
        "code": code,
        "message": message,
        "details": details,
        "path": path,
        "userMessage": user_message or message,
    }
    if metadata:
        item["metadata"] = metadata
    return item


def fail(status: int, code: str, message: str, **kwargs: Any) -> ApiError:
    """Shorthand for an ApiError with a single error."""
    return ApiError(status, [error(code, message, **kwargs)])


def json_response(
    body: Any,
    status: int = 200,
    *,
    headers: dict[str, str] | None = None,
    media_type: str = VENDOR_CONTENT_TYPE,
) -> Response:
    return Response(orjson.dumps(body), status_code=status, headers=headers, media_type=media_type)


def errors_response(exc: ApiError) -> Response:
    return json_response({"errors": exc.errors}, exc.status, media_type=exc.media_type, headers=exc.headers)


def auth_error(status: int, error_name: str, description: str, headers: dict[str, str] | None = None) -> Response:
    """The OAuth layer's `{error, error_description}` shape (schema AuthError)."""
    body = {"error": error_name, "error_description": description}
    return json_response(body, status, headers=headers, media_type=PLAIN_JSON)


def accepts_vendor_type(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return any(part.split(";")[0].strip() == VENDOR_TYPE for part in accept.split(","))


async def read_json(request: Request) -> Json:
    """The request body as a JSON object, or 400 with Allegro's error body."""
    raw = await request.body()
    try:
        body = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError as exc:
        raise fail(400, "MalformedJsonException", f"Malformed JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise fail(400, "MalformedJsonException", "The request body must be a JSON object")
    return body


def money(amount: Decimal, currency: str = "PLN") -> Json:
    """Money as Allegro sends it: the amount is a string."""
    return {"amount": f"{amount:.2f}", "currency": currency}


def parse_amount(value: Any) -> Decimal | None:
    """A positive-or-not decimal from a string or number amount; None when unreadable."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


Handler = Callable[[Request], Awaitable[Response]]


def api(handler: Handler) -> Handler:
    """Turns an ApiError raised by `handler` into Allegro's error response."""

    @functools.wraps(handler)
    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except ApiError as exc:
            return errors_response(exc)

    return wrapped


def seller_of(request: Request) -> str:
    """The seller id of the request's access token (set by the gateway middleware)."""
    seller: str = request.state.seller_id
    return seller
