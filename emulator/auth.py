"""OAuth endpoints under `/auth/oauth/...`: device flow, token grants and the authorization-code redirect."""

from __future__ import annotations

import base64
import binascii
import hmac
import string
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from emulator import tokens
from emulator.http import PLAIN_JSON, auth_error, json_response
from emulator.records import AuthCode, Device
from emulator.state import EmulatorState

DEVICE_SECONDS = 3600
AUTH_CODE_SECONDS = 10
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def _state(request: Request) -> EmulatorState:
    state: EmulatorState = request.app.state.emulator
    return state


async def _params(request: Request) -> dict[str, str]:
    """Form body and query string together: Allegro accepts the parameters in either."""
    params = dict(request.query_params)
    if request.method == "POST":
        body = (await request.body()).decode("utf-8", errors="replace")
        params.update(parse_qsl(body, keep_blank_values=True))
    return params


def _basic_client(request: Request, state: EmulatorState) -> str | None:
    """The client id when Basic credentials match the configured client, else None."""
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, _, secret = decoded.partition(":")
    config = state.config
    if client_id != config.client_id or not hmac.compare_digest(secret, config.client_secret):
        return None
    return client_id


def _bad_client() -> Response:
    return auth_error(401, "unauthorized", "Bad credentials")


def _oauth_400(error_name: str, description: str | None = None) -> Response:
    body = {"error": error_name} if description is None else {"error": error_name, "error_description": description}
    return json_response(body, 400, media_type=PLAIN_JSON)


async def device(request: Request) -> Response:
    state = _state(request)
    params = await _params(request)
    client_id = _basic_client(request, state)
    if client_id is None:
        return _bad_client()
    if params.get("client_id", client_id) != client_id:
        return _oauth_400("invalid_client", "client_id does not match the credentials")
    alphabet = string.ascii_lowercase + string.digits
    user_code = "".join(state.rng.choice(alphabet) for _ in range(9))
    device_code = str(state.rng.randrange(10**8, 10**9))
    state.world.devices[device_code] = Device(
        device_code=device_code,
        user_code=user_code,
        client_id=client_id,
        expires_at=state.now() + DEVICE_SECONDS,
    )
    verification = f"{state.config.base_url}/skojarz-aplikacje"
    # Allegro's documentation shows the numbers quoted; clients must parse both.
    return json_response(
        {
            "user_code": user_code,
            "device_code": device_code,
            "expires_in": str(DEVICE_SECONDS),
            "interval": str(state.faults.device_interval_seconds),
            "verification_uri": verification,
            "verification_uri_complete": f"{verification}?code={user_code}",
        },
        media_type=PLAIN_JSON,
    )


async def token(request: Request) -> Response:
    state = _state(request)
    params = await _params(request)
    grant = params.get("grant_type", "")
    if grant == "authorization_code" and "code_verifier" in params:
        client_id: str | None = params.get("client_id")
        if client_id != state.config.client_id:
            return _bad_client()
    else:
        client_id = _basic_client(request, state)
        if client_id is None:
            return _bad_client()
    if grant == DEVICE_GRANT:
        return _device_grant(state, client_id, params.get("device_code", ""))
    if grant == "refresh_token":
        body = tokens.refresh(state, client_id, params.get("refresh_token", ""))
        if body is None:
            return _oauth_400("invalid_grant", f"Invalid refresh token: {params.get('refresh_token', '')}")
        return json_response(body, media_type=PLAIN_JSON)
    if grant == "client_credentials":
        return json_response(tokens.issue(state, client_id, None), media_type=PLAIN_JSON)
    if grant == "authorization_code":
        return _code_grant(state, client_id, params)
    return _oauth_400("unsupported_grant_type", f"Unsupported grant type: {grant}")


def _device_grant(state: EmulatorState, client_id: str, device_code: str) -> Response:
    now = state.now()
    record = state.world.devices.get(device_code)
    if record is None or record.client_id != client_id or record.expires_at <= now or record.state == "used":
        return _oauth_400("Invalid device code")
    # 20 % tolerance: a client sleeping exactly `interval` may arrive a little early after network jitter.
    minimum = 0.8 * state.faults.device_interval_seconds
    too_fast = record.last_poll is not None and now - record.last_poll < minimum
    record.last_poll = now
    if record.state == "denied":
        return _oauth_400("access_denied")
    if too_fast:
        return _oauth_400("slow_down")
    if record.state == "pending" or record.seller_id is None:
        return _oauth_400("authorization_pending")
    record.state = "used"
    tokens.end_sessions_beyond_limit(state, client_id, record.seller_id)
    return json_response(tokens.issue(state, client_id, record.seller_id), media_type=PLAIN_JSON)


def _code_grant(state: EmulatorState, client_id: str, params: dict[str, str]) -> Response:
    code = params.get("code", "")
    record = state.world.auth_codes.get(code)
    if (
        record is None
        or record.used
        or record.expires_at <= state.now()
        or record.client_id != client_id
        or record.redirect_uri != params.get("redirect_uri", record.redirect_uri)
    ):
        return _oauth_400("invalid_grant", f"Invalid authorization code: {code}")
    record.used = True
    tokens.end_sessions_beyond_limit(state, client_id, record.seller_id)
    return json_response(tokens.issue(state, client_id, record.seller_id), media_type=PLAIN_JSON)


async def authorize(request: Request) -> Response:
    """The user's consent page, approved at once: redirects back with a single-use 10-second code."""
    state = _state(request)
    params = dict(request.query_params)
    redirect_uri = params.get("redirect_uri", "")
    if params.get("client_id") != state.config.client_id or params.get("response_type") != "code" or not redirect_uri:
        return _oauth_400("invalid_request", "client_id, response_type=code and redirect_uri are required")
    code = state.new_hex(32)
    state.world.auth_codes[code] = AuthCode(
        code=code,
        client_id=state.config.client_id,
        redirect_uri=redirect_uri,
        seller_id=state.config.seller_id,
        expires_at=state.now() + AUTH_CODE_SECONDS,
    )
    query = {"code": code, **({"state": params["state"]} if "state" in params else {})}
    separator = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(f"{redirect_uri}{separator}{urlencode(query)}", status_code=302)


def approve_device(state: EmulatorState, user_code: str, approve: bool) -> bool:
    """The user's answer on the verification page; False when no live device code has that user code."""
    for record in state.world.devices.values():
        if record.user_code == user_code and record.state == "pending" and record.expires_at > state.now():
            record.state = "approved" if approve else "denied"
            record.seller_id = state.config.seller_id if approve else None
            return True
    return False
