"""The one table that turns Allegro answers and transport failures into the engine's error classes.

What the engine does next decides the class:

- timeout, connection error: RetryLater, after retries here (idempotent calls only);
  on a non-idempotent POST: UncertainOutcome (a RetryLater) - the caller looks the result up first.
- 429: RetryLater, after blocking the whole client (Retry-After, else 60 s) and retrying.
- 5xx: RetryLater, after retries with backoff; on a non-idempotent POST: UncertainOutcome.
- 401 invalid_token / unauthorized: refresh once and resend; a second 401 -> StopEngine.
- 400 invalid_grant at the token endpoint: StopEngine (re-run `allegro-sync auth login`).
- 400, 422 (content refused): SkipItem with every errors[] message (+ path) as problems;
  on a journal read with `from`: Resync (cursor past retention).
- 403: StopEngine (missing scope, another seller's token); offer calls: SkipItem.
- 404: per call - default SkipItem; /parts: an ARCHIVED snapshot; PATCH/GET offer: SkipItem.
- 406, 415: StopEngine (our media types are wrong: a bug to report).
- 409: per call - default RetryLater (PATCH still processing); commands: already registered -> report.
- anything else: RetryLater, the message names the endpoint and the status.
- malformed JSON / missing field: RetryLater for journals, lists and commands (never skip journal
  entries); SkipItem for an answer about one offer.

No message ever contains a token or the client secret: OAuth error descriptions echo the token, so they
pass through `redact`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import httpx
import orjson

from engine.errors import RetryLater, SkipItem, StopEngine, SyncError


class UncertainOutcome(RetryLater):
    """A non-idempotent request may or may not have been applied (timeout or 5xx after it was sent)."""


class MalformedAnswer(Exception):
    """An answer that is not the JSON Allegro documents; converted by `malformed()` at the call site."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"{field}: {detail}")
        self.field = field
        self.detail = detail


ErrorClass = type[SyncError]

TABLE: Mapping[int, ErrorClass] = {
    400: SkipItem,
    403: StopEngine,
    404: SkipItem,
    406: StopEngine,
    409: RetryLater,
    410: SkipItem,
    413: SkipItem,
    415: StopEngine,
    422: SkipItem,
}

_HINTS: Mapping[int, str] = {
    403: "the application lacks a scope or the resource belongs to another seller; "
    "check the app's permissions and re-run `allegro-sync auth login`",
    406: "the client sent a media type Allegro refuses (a bug: please report it)",
    415: "the client sent a media type Allegro refuses (a bug: please report it)",
}

_JWT = re.compile(r"[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{4,}")
_TOKENISH = re.compile(r"((?:access|refresh)?\s*token[^:]*:\s*)\S+", re.IGNORECASE)


def redact(text: str) -> str:
    """`text` with anything token-shaped replaced by `***` (OAuth descriptions echo the token)."""
    return _TOKENISH.sub(r"\1***", _JWT.sub("***", text))


def body_json(response: httpx.Response) -> Any:
    try:
        return orjson.loads(response.content) if response.content else None
    except orjson.JSONDecodeError:
        return None


def problems_of(response: httpx.Response) -> tuple[str, ...]:
    """Every `errors[]` entry as `userMessage (path)`; the OAuth shape and plain bodies are handled too."""
    body = body_json(response)
    found: list[str] = []
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        for item in body["errors"]:
            if not isinstance(item, dict):
                continue
            text = str(item.get("userMessage") or item.get("message") or item.get("code") or "unknown error")
            message = item.get("message")
            if message and item.get("userMessage") and message != text:
                text = f"{text} [{message}]"
            if item.get("code"):
                text = f"{item['code']}: {text}"
            if item.get("path"):
                text = f"{text} (path: {item['path']})"
            found.append(redact(text))
    elif isinstance(body, dict) and "error" in body:
        found.append(redact(f"{body.get('error')}: {body.get('error_description') or ''}".rstrip(": ")))
    elif response.content:
        found.append(redact(response.text[:200]))
    return tuple(found)


def error_codes(response: httpx.Response) -> tuple[str, ...]:
    body = body_json(response)
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        return tuple(str(e.get("code")) for e in body["errors"] if isinstance(e, dict) and e.get("code"))
    return ()


def oauth_error(response: httpx.Response) -> str | None:
    """The `error` of an OAuth-shaped body (`invalid_token`, `invalid_grant`, ...), else None."""
    body = body_json(response)
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return str(body["error"])
    return None


def describe(endpoint: str, response: httpx.Response, problems: tuple[str, ...] | None = None) -> str:
    problems = problems_of(response) if problems is None else problems
    trace = response.headers.get("trace-id")
    text = f"Allegro {endpoint} answered {response.status_code}"
    if problems:
        text += ": " + "; ".join(problems)
    if response.status_code in _HINTS:
        text += f" ({_HINTS[response.status_code]})"
    if trace:
        text += f" [trace-id {trace}]"
    return text


def classify(endpoint: str, response: httpx.Response, overrides: Mapping[int, ErrorClass] | None = None) -> SyncError:
    """The engine error for a final, non-retried answer (see the module table)."""
    status = response.status_code
    cls = (overrides or {}).get(status) or TABLE.get(status) or RetryLater
    problems = problems_of(response)
    message = describe(endpoint, response, problems)
    if cls is SkipItem:
        return SkipItem(message, problems=problems or (message,))
    return cls(message)


def malformed(endpoint: str, exc: MalformedAnswer, *, per_item: bool) -> SyncError:
    """A malformed answer: SkipItem when it concerns one item only, else RetryLater (never skip a journal)."""
    message = f"Allegro {endpoint} sent an unusable answer: field {exc.field!r} {exc.detail}"
    return SkipItem(message) if per_item else RetryLater(message)
