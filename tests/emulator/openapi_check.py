"""Checks every emulator response against Allegro's published OpenAPI file (test support, not shipped)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
from openapi_schema_validator import OAS30Validator

from tests.emulator.openapi_spec import find_operation, validator

VENDOR_TYPE = "application/vnd.allegro.public.v1+json"

# ---------------------------------------------------------------------------------------------------------------
# Every place where the emulator deliberately departs from the letter of the spec (allegro-api.md section 14).
# ---------------------------------------------------------------------------------------------------------------
# 1. Answers any operation may give, whatever the spec lists: 401 (gateway), 406 (Accept), 429 (rate limit).
ALWAYS_ALLOWED = {401: "AuthError", 406: "ErrorsHolder", 429: "ErrorsHolder"}
# 2. 5xx: the fault switches (`error_rate_5xx`, `timeout_after_registration`) simulate gateway and network
#    failures on any operation; bodies are ErrorsHolder.
FAULT_STATUSES = {500, 502, 503, 504}
# 3. 403 AccessDenied for an application (client_credentials) token on a seller resource, on any operation.
APPLICATION_TOKEN_403 = "AccessDenied"
# 4. A declared status without a body schema (commands' 404/409/422, orders' 404/422): real answers carry
#    `errors[]`, so the body is held to ErrorsHolder instead of being left unchecked.
# 5. `count`/`totalCount` of CheckoutForms have minimum 1 in the spec; an empty list answers 0 and 0.
#    (openapi_spec.ZERO_COUNT_SCHEMAS, applied when the spec is loaded)
# 6. Headers the spec does not declare (Location/Retry-After on 202/303, trace-id, Date) are not checked here;
#    content types are: the vendor type on API answers, application/json where the spec says so or for
#    gateway errors (401, 429).
# 7. OAuth endpoints are not in the spec: success bodies are held to TOKEN_SCHEMA / DEVICE_SCHEMA below,
#    errors to AuthError.
# 8. The control API (`/__emulator/...`) is not Allegro's: only "the body is JSON" is checked.
# 9. `nullable: true` beside `allOf` (e.g. `contact`, `stock`, `publication.endingAt`) or beside `enum`
#    (e.g. `publication.endedBy`) means null is allowed; `openapi_spec.relax_nullable` rewrites those schemas so
#    that the validator, which reads OpenAPI 3.0 strictly there, accepts null.
TOKEN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["access_token", "token_type", "expires_in", "scope", "jti"],
    "properties": {
        "access_token": {"type": "string"},
        "token_type": {"enum": ["bearer"]},
        "expires_in": {"type": "integer"},
        "refresh_token": {"type": "string"},
        "scope": {"type": "string"},
        "allegro_api": {"type": "boolean"},
        "jti": {"type": "string"},
    },
}
DEVICE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["user_code", "device_code", "expires_in", "interval", "verification_uri"],
    "properties": {
        name: {"type": "string"}
        for name in (
            "user_code",
            "device_code",
            "expires_in",
            "interval",
            "verification_uri",
            "verification_uri_complete",
        )
    },
}


class OpenApiMismatch(AssertionError):
    """An emulator response that Allegro's OpenAPI file (with the exemptions above) does not allow."""


@functools.cache
def _inline_validator(key: str) -> OAS30Validator:
    schema = {"token": TOKEN_SCHEMA, "device": DEVICE_SCHEMA}[key]
    return OAS30Validator(schema)


def _errors(validator: OAS30Validator, body: Any, where: str) -> list[str]:
    return [
        f"{where}: {'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
        for error in validator.iter_errors(body)
    ]


def _json(body: bytes, where: str, problems: list[str]) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        problems.append(f"{where}: body is not JSON: {body[:200]!r}")
        return None


def _schema_pointer(schema: dict[str, Any]) -> str | None:
    ref = schema.get("$ref")
    return str(ref)[1:] if isinstance(ref, str) and ref.startswith("#") else None


def check(method: str, path: str, status: int, headers: dict[str, str], body: bytes) -> list[str]:
    """Everything wrong with one response; an empty list when the spec (with the exemptions) allows it."""
    where = f"{method} {path} -> {status}"
    problems: list[str] = []
    if "trace-id" not in headers:
        problems.append(f"{where}: no trace-id header")
    content_type = headers.get("content-type", "")
    if path.startswith("/__emulator"):
        if body:
            _json(body, where, problems)
        return problems
    if path.startswith("/auth/oauth"):
        return problems + _check_oauth(path, status, body, where)
    found = find_operation(method, path)
    if found is None:
        return [*problems, f"{where}: no such operation in the spec"]
    _, operation = found
    declared = {str(code): response for code, response in operation["responses"].items()}
    if not body:
        if status not in (204, 303, 404) and str(status) in declared and declared[str(status)].get("content"):
            problems.append(f"{where}: the spec declares a body, the emulator sent none")
        if str(status) not in declared and status not in ALWAYS_ALLOWED:
            problems.append(f"{where}: status not declared for this operation")
        return problems
    value = _json(body, where, problems)
    if problems:
        return problems
    if status in ALWAYS_ALLOWED:
        return problems + _check_error_shape(value, ALWAYS_ALLOWED[status], where)
    if status in FAULT_STATUSES:
        return problems + _check_error_shape(value, "ErrorsHolder", where)
    if status == 403 and str(status) not in declared:
        codes = [item.get("code") for item in value.get("errors", [])] if isinstance(value, dict) else []
        if codes != [APPLICATION_TOKEN_403]:
            problems.append(f"{where}: status not declared for this operation")
        return problems + _check_error_shape(value, "ErrorsHolder", where)
    if str(status) not in declared:
        return [*problems, f"{where}: status not declared (declared: {', '.join(declared)})"]
    content = declared[str(status)].get("content") or {}
    if not content:
        return problems + _check_error_shape(value, "ErrorsHolder", where)
    media = VENDOR_TYPE if VENDOR_TYPE in content else next(iter(content))
    if content_type.split(";")[0].strip() != media and status not in (401, 429):
        problems.append(f"{where}: content type {content_type!r}, the spec says {media!r}")
    schema = content[media].get("schema") or {}
    pointer = _schema_pointer(schema)
    if pointer is None:
        pointer = f"/paths/{_escape(found[0])}/{method.lower()}/responses/{status}/content/{_escape(media)}/schema"
    return problems + _errors(validator(pointer), value, where)


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _check_error_shape(value: Any, schema_name: str, where: str) -> list[str]:
    problems = _errors(validator(f"/components/schemas/{schema_name}"), value, where)
    if schema_name == "ErrorsHolder" and not (isinstance(value, dict) and value.get("errors")):
        problems.append(f"{where}: an error answer without errors[]")
    return problems


def _check_oauth(path: str, status: int, body: bytes, where: str) -> list[str]:
    problems: list[str] = []
    if status == 302 and path.endswith("/authorize"):
        return problems
    value = _json(body, where, problems)
    if problems:
        return problems
    if status == 200:
        key = "device" if path.endswith("/device") else "token"
        return _errors(_inline_validator(key), value, where)
    if "error" in (value or {}) and isinstance(value, dict) and "errors" not in value:
        return _errors(validator("/components/schemas/AuthError"), value, where)
    return [f"{where}: OAuth errors must use the AuthError shape, got {value!r}"]


@dataclass
class ResponseLog:
    """Mismatches seen so far; a fixture fails the test when it is not empty at teardown."""

    problems: list[str] = field(default_factory=list)
    checked: int = 0


def install_openapi_check(app: Any, log: ResponseLog | None = None) -> ResponseLog:
    """Wraps a Starlette app (before it serves) so that every response it sends is checked."""
    log = log or ResponseLog()
    app.add_middleware(_CheckingMiddleware, log=log)
    return log


class _CheckingMiddleware:
    def __init__(self, app: Callable[..., Awaitable[None]], log: ResponseLog) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    headers = {key.decode().lower(): value.decode() for key, value in start.get("headers", [])}
                    self.log.checked += 1
                    self.log.problems += check(
                        scope["method"], scope["path"], int(start["status"]), headers, b"".join(chunks)
                    )
            await send(message)

        await self.app(scope, receive, capture)


def response_hook() -> Callable[[httpx.Response], Awaitable[None]]:
    """An httpx `event_hooks["response"]` entry that raises OpenApiMismatch on the spot."""

    async def hook(response: httpx.Response) -> None:
        await response.aread()
        headers = {key.lower(): value for key, value in response.headers.items()}
        problems = check(
            response.request.method, response.request.url.path, response.status_code, headers, response.content
        )
        if problems:
            raise OpenApiMismatch("\n".join(problems))

    return hook
