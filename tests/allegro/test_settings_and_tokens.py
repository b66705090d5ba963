"""Config validation, environment URLs, masked secrets, the token file and its error classification."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from adapters.allegro.auth import auth_status
from adapters.allegro.errors import classify, redact
from adapters.allegro.secret import Secret
from adapters.allegro.settings import AllegroConfig
from adapters.allegro.tokens import TokenSet, TokenStore, from_token_response
from engine.errors import ConfigError, RetryLater, SkipItem, StopEngine


def test_sandbox_and_production_urls_are_derived() -> None:
    sandbox = AllegroConfig(environment="sandbox", client_id="app")
    assert (sandbox.api_url, sandbox.auth_url) == (
        "https://api.allegro.pl.allegrosandbox.pl",
        "https://allegro.pl.allegrosandbox.pl",
    )
    production = AllegroConfig(environment="production", client_id="app")
    assert (production.api_url, production.auth_url) == ("https://api.allegro.pl", "https://allegro.pl")
    emulator = AllegroConfig(api_url="http://127.0.0.1:9999/")
    assert emulator.api_url == emulator.auth_url == "http://127.0.0.1:9999"


def test_bad_settings_name_the_key() -> None:
    with pytest.raises(ConfigError, match=r"\[allegro\]\.environment is 'prod'"):
        AllegroConfig(environment="prod")
    with pytest.raises(ConfigError, match="api_url"):
        AllegroConfig(api_url="ftp://x")
    with pytest.raises(ConfigError, match="ALLEGRO_CLIENT_SECRET"):
        AllegroConfig.secret_from_environment({})
    assert AllegroConfig.secret_from_environment({"ALLEGRO_CLIENT_SECRET": "s3"}).reveal() == "s3"


def test_secrets_are_masked_everywhere() -> None:
    config = AllegroConfig(client_secret=Secret("very-secret-value"))
    assert "very-secret-value" not in repr(config) and "very-secret-value" not in str(config)
    tokens = TokenSet(
        access_token=Secret("acc-123456"),
        refresh_token=Secret("ref-123456"),
        expires_at=datetime.now(UTC),
        environment="emulator",
        client_id="c",
    )
    assert "acc-123456" not in repr(tokens) and "ref-123456" not in repr(tokens)
    assert redact("Access token expired: eyJhbGciOi.eyJleHAiOjE3.c2lnbmF0dXJl") == "Access token expired: ***"
    assert redact("Invalid refresh token: abc123") == "Invalid refresh token: ***"


def test_token_file_is_written_atomically_with_mode_0600(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "sub" / "tokens.json")
    first = TokenSet(
        access_token=Secret("a1"),
        refresh_token=Secret("r1"),
        environment="emulator",
        client_id="c",
        expires_at=datetime(2026, 1, 1, tzinfo=UTC),
        seller_id="42",
    )
    store.save(first)
    store.save(
        TokenSet(
            access_token=Secret("a2"),
            refresh_token=Secret("r2"),
            environment="emulator",
            client_id="c",
            expires_at=datetime(2026, 1, 2, tzinfo=UTC),
            seller_id="42",
        )
    )
    loaded = store.load()
    assert loaded is not None and loaded.refresh_token == Secret("r2") and loaded.seller_id == "42"
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    assert sorted(p.name for p in store.path.parent.iterdir()) == ["tokens.json"]


def test_a_corrupt_token_file_stops_with_its_name(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text("{not json")
    with pytest.raises(StopEngine, match=r"tokens\.json is unreadable"):
        TokenStore(path).load()


def test_auth_status_reads_the_seller_from_the_jwt(tmp_path: Path) -> None:
    import base64

    import orjson

    claims = base64.urlsafe_b64encode(orjson.dumps({"user_name": "555", "exp": 1})).decode().rstrip("=")
    body = {"access_token": f"eyJhbGciOiJub25lIn0.{claims}.sig", "refresh_token": "r", "expires_in": "43199"}
    now = datetime(2026, 1, 1, tzinfo=UTC)
    tokens = from_token_response(body, environment="sandbox", client_id="app", now=now)
    assert tokens.seller_id == "555" and tokens.expires_at == now + timedelta(seconds=43199)
    store = TokenStore(tmp_path / "t.json")
    store.save(tokens)
    status = auth_status(AllegroConfig(environment="sandbox", client_id="app"), store, now=now)
    assert (status.seller_id, status.environment, status.expired) == ("555", "sandbox", False)
    empty = auth_status(AllegroConfig(), TokenStore(tmp_path / "none.json"))
    assert not empty.logged_in


def _response(status: int, body: bytes) -> httpx.Response:
    return httpx.Response(status, content=body, headers={"trace-id": "t-1"})


def test_the_error_table_classifies_by_what_happens_next() -> None:
    rejected = classify(
        "POST /sale/product-offers",
        _response(
            422,
            (
                b'{"errors":[{"code":"X","message":"Name too short","userMessage":"Za kr\\u00f3tka","path":"name"},'
                b'{"code":"Y","message":"No image","path":null}]}'
            ),
        ),
    )
    assert isinstance(rejected, SkipItem)
    assert rejected.problems == ("X: Za kr\u00f3tka [Name too short] (path: name)", "Y: No image")
    assert "trace-id t-1" in str(rejected)
    assert isinstance(classify("GET /order/events", _response(403, b"")), StopEngine)
    assert isinstance(classify("GET /x", _response(418, b"teapot")), RetryLater)
    assert isinstance(classify("GET /x", _response(406, b"")), StopEngine)
