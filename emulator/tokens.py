"""Issuing, rotating and checking OAuth tokens: JWT-shaped (unsigned) so the seller id can be decoded."""

from __future__ import annotations

import base64

import orjson

from emulator.records import AccessToken, Json, RefreshToken
from emulator.state import EmulatorState

ACCESS_SECONDS = 43199
REFRESH_SECONDS = 90 * 24 * 3600  # three months
REFRESH_GRACE_SECONDS = 60
MAX_SESSIONS = 20  # active sessions per user; a new login beyond it ends the oldest one
SELLER_SCOPES = (
    "allegro:api:sale:offers:read",
    "allegro:api:sale:offers:write",
    "allegro:api:orders:read",
    "allegro:api:orders:write",
    "allegro:api:sale:settings:read",
    "allegro:api:profile:read",
)
APPLICATION_SCOPES = ("allegro:api:sale:offers:read",)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _jwt(state: EmulatorState, claims: Json) -> str:
    header = _b64(orjson.dumps({"alg": "none", "typ": "JWT"}))
    return f"{header}.{_b64(orjson.dumps(claims))}.{_b64(state.rng.randbytes(24))}"


def decode_claims(token: str) -> Json | None:
    """The claims part of a token, as a client would decode `user_name`; None if it is not JWT-shaped."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = orjson.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        return None
    return claims if isinstance(claims, dict) else None


def issue(state: EmulatorState, client_id: str, seller_id: str | None, session: str | None = None) -> Json:
    """A token response body; a seller token also gets a refresh token, an application token does not."""
    now = state.now()
    session = session or state.new_uuid()
    jti = state.new_uuid()
    scopes = SELLER_SCOPES if seller_id else APPLICATION_SCOPES
    claims: Json = {
        "exp": int(now + ACCESS_SECONDS),
        "scope": list(scopes),
        "allegro_api": True,
        "client_id": client_id,
        "jti": jti,
    }
    if seller_id:
        claims["user_name"] = seller_id
        claims["authorities"] = ["ROLE_USER"]
    access = _jwt(state, claims)
    state.world.access_tokens[access] = AccessToken(
        token=access, client_id=client_id, seller_id=seller_id, session=session, expires_at=now + ACCESS_SECONDS
    )
    body: Json = {
        "access_token": access,
        "token_type": "bearer",
        "expires_in": ACCESS_SECONDS,
        "scope": " ".join(scopes),
        "allegro_api": True,
        "jti": jti,
    }
    if seller_id:
        refresh_claims = {
            "user_name": seller_id,
            "ati": jti,
            "exp": int(now + REFRESH_SECONDS),
            "client_id": client_id,
            "jti": state.new_uuid(),
        }
        refresh = _jwt(state, refresh_claims)
        state.world.refresh_tokens[refresh] = RefreshToken(
            token=refresh,
            client_id=client_id,
            seller_id=seller_id,
            session=session,
            expires_at=now + REFRESH_SECONDS,
        )
        body["refresh_token"] = refresh
    return body


def end_sessions_beyond_limit(state: EmulatorState, client_id: str, seller_id: str) -> None:
    """Makes room for one more login: the oldest sessions of this user lose their tokens.

    Called for real logins (device flow, authorization code); the control API's token shortcut does not count.
    """
    sessions: list[str] = []
    for record in state.world.refresh_tokens.values():  # insertion order = oldest first
        live = not record.invalid and record.expires_at > state.now()
        if live and record.seller_id == seller_id and record.client_id == client_id and record.session not in sessions:
            sessions.append(record.session)
    ended = set(sessions[: max(0, len(sessions) - MAX_SESSIONS + 1)])
    if not ended:
        return
    for token in state.world.refresh_tokens.values():
        token.invalid = token.invalid or token.session in ended
    for access in state.world.access_tokens.values():
        access.revoked = access.revoked or access.session in ended


def refresh(state: EmulatorState, client_id: str, token: str) -> Json | None:
    """Rolls the pair; None means `invalid_grant`. The previous refresh token keeps working for 60 s."""
    now = state.now()
    record = state.world.refresh_tokens.get(token)
    if record is None or record.invalid or record.client_id != client_id or record.expires_at <= now:
        return None
    if record.used_at is not None and now > record.used_at + REFRESH_GRACE_SECONDS:
        return None
    if record.used_at is None:
        record.used_at = now
    # Staff: once a new pair is issued, the previous access token stops working at once.
    for access in state.world.access_tokens.values():
        if access.session == record.session:
            access.revoked = True
    return issue(state, client_id, record.seller_id, record.session)


def check_access(state: EmulatorState, authorization: str | None) -> AccessToken | tuple[str, str]:
    """The token record, or the (error, error_description) pair of the gateway's 401."""
    if not authorization or not authorization.lower().startswith("bearer "):
        return "unauthorized", "Full authentication is required to access this resource"
    token = authorization[7:].strip()
    record = state.world.access_tokens.get(token)
    if record is None:
        return "invalid_token", "Cannot convert access token to JSON"
    if record.revoked or record.expires_at <= state.now():
        return "invalid_token", f"Access token expired: {token}"
    return record


def expire_all_access_tokens(state: EmulatorState) -> int:
    now = state.now()
    for record in state.world.access_tokens.values():
        record.expires_at = min(record.expires_at, now)
    return len(state.world.access_tokens)


def invalidate_all_refresh_tokens(state: EmulatorState) -> int:
    for record in state.world.refresh_tokens.values():
        record.invalid = True
    return len(state.world.refresh_tokens)
