"""`TokenSet` and `TokenStore`: the seller's token pair on disk (JSON, mode 0600, replaced atomically)."""

from __future__ import annotations

import base64
import contextlib
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from adapters.allegro import answers
from adapters.allegro.secret import Secret
from engine.errors import StopEngine

FORMAT = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenSet:
    """One grant's answer. The tokens are `Secret`s, so printing a TokenSet shows `***`."""

    access_token: Secret
    refresh_token: Secret | None
    expires_at: datetime
    environment: str
    client_id: str
    seller_id: str | None = None
    scope: str = ""
    obtained_at: datetime | None = None

    def expires_within(self, seconds: float, now: datetime) -> bool:
        return self.expires_at - now <= timedelta(seconds=seconds)


def jwt_claims(token: str) -> dict[str, Any] | None:
    """The (unverified) claims of a JWT-shaped token; None when the token is not a JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = orjson.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        return None
    return claims if isinstance(claims, dict) else None


def from_token_response(
    body: answers.Json, *, environment: str, client_id: str, now: datetime, previous: TokenSet | None = None
) -> TokenSet:
    """A TokenSet from the token endpoint's JSON; MalformedAnswer names a missing field."""
    access = answers.text(body, "access_token")
    expires_in = answers.integer(body, "expires_in")
    refresh = answers.optional_text(body, "refresh_token")
    claims = jwt_claims(access) or {}
    seller = claims.get("user_name")
    return TokenSet(
        access_token=Secret(access),
        refresh_token=Secret(refresh) if refresh else None,
        expires_at=now + timedelta(seconds=expires_in),
        environment=environment,
        client_id=client_id,
        seller_id=str(seller) if seller else (previous.seller_id if previous else None),
        scope=answers.optional_text(body, "scope") or "",
        obtained_at=now,
    )


class TokenStore:
    """The token file. `save` writes a temp file in the same folder (0600), fsyncs it and renames it over
    the old one, so a crash leaves either the old pair or the new pair, never a torn file or none."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"TokenStore({str(self.path)!r})"

    @staticmethod
    def default_path(environment: str, client_id: str) -> Path:
        """`$XDG_CONFIG_HOME/allegro-sync/tokens-<environment>-<client_id>.json` (~/.config by default)."""
        base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in client_id)
        return base / "allegro-sync" / f"tokens-{environment}-{safe}.json"

    def load(self) -> TokenSet | None:
        """The stored pair, or None when there is no file. A corrupt file stops the engine, naming it."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            data = orjson.loads(raw)
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise ValueError("unknown format")
            refresh = data.get("refresh_token")
            obtained = data.get("obtained_at")
            return TokenSet(
                access_token=Secret(str(data["access_token"])),
                refresh_token=Secret(str(refresh)) if refresh else None,
                expires_at=datetime.fromisoformat(str(data["expires_at"])),
                environment=str(data["environment"]),
                client_id=str(data["client_id"]),
                seller_id=str(data["seller_id"]) if data.get("seller_id") else None,
                scope=str(data.get("scope") or ""),
                obtained_at=datetime.fromisoformat(str(obtained)) if obtained else None,
            )
        except (ValueError, KeyError, TypeError, orjson.JSONDecodeError) as exc:
            raise StopEngine(
                f"token file {self.path} is unreadable ({type(exc).__name__}); "
                "delete it and run `allegro-sync auth login`"
            ) from None

    def save(self, tokens: TokenSet) -> None:
        data = {
            "format": FORMAT,
            "environment": tokens.environment,
            "client_id": tokens.client_id,
            "seller_id": tokens.seller_id,
            "scope": tokens.scope,
            "access_token": tokens.access_token.reveal(),
            "refresh_token": tokens.refresh_token.reveal() if tokens.refresh_token else None,
            "expires_at": tokens.expires_at.astimezone(UTC).isoformat(),
            "obtained_at": tokens.obtained_at.astimezone(UTC).isoformat() if tokens.obtained_at else None,
            "saved_at": datetime.now(UTC).isoformat(),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, temp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(orjson.dumps(data, option=orjson.OPT_INDENT_2))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise
        _fsync_dir(self.path.parent)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
