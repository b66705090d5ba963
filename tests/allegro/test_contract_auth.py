"""Contract: tokens against the emulator - refresh (single-flight, before expiry, on 401), rotation, device login."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import shutil
import stat
from datetime import UTC, datetime, timedelta

import httpx
import orjson
import pytest

from adapters.allegro.auth import auth_status, device_login
from adapters.allegro.oauth import INVALID_GRANT_MESSAGE
from adapters.allegro.tokens import TokenStore
from engine.errors import StopEngine

from .conftest import Emulator
from .fakes import FakeClock

pytestmark = pytest.mark.anyio


def _disk_tokens(store: TokenStore) -> dict[str, str]:
    data: dict[str, str] = orjson.loads(store.path.read_bytes())
    return data


class DiskCheckingTransport(httpx.AsyncBaseTransport):
    """Wraps the real transport and checks that every bearer token sent is the one already on disk."""

    def __init__(self, inner: httpx.AsyncBaseTransport, store: TokenStore) -> None:
        self.inner = inner
        self.store = store
        self.bearers: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        header = request.headers.get("authorization", "")
        if header.startswith("Bearer "):
            token = header[7:]
            assert token == _disk_tokens(self.store)["access_token"], "a token was used before it was saved"
            self.bearers.append(token)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_two_concurrent_callers_share_one_refresh_and_the_new_pair_is_saved_first(
    emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    offer_id = await emulator.seller_offer()
    store = await emulator.token_store()
    old = _disk_tokens(store)
    inner = emulator.new_transport() or httpx.AsyncHTTPTransport()
    transport = DiskCheckingTransport(inner, store)
    from adapters.allegro.client import AllegroClient

    client = AllegroClient(emulator.config(), store, transport=transport, clock=emulator.fake_clock())
    emulator.clients.append(client)
    await emulator.faults(expire_access_tokens=True)

    offers, events = await asyncio.gather(client.offer_parts([offer_id]), client.order_events(None))

    assert offers[0].offer_id == offer_id and events.caught_up
    assert client.tokens.refreshes == 1
    assert emulator.state.stats.by_route["POST /auth/oauth/token"] == 1
    new = _disk_tokens(store)
    assert new["refresh_token"] != old["refresh_token"] and new["access_token"] != old["access_token"]
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    assert transport.bearers.count(new["access_token"]) >= 2  # both callers switched to the new token
    assert [p.name for p in store.path.parent.iterdir() if p.name.endswith(".tmp")] == []
    for pair in (old, new):
        assert pair["access_token"] not in caplog.text and pair["refresh_token"] not in caplog.text
    assert "Bearer" not in caplog.text


async def test_the_token_is_refreshed_before_it_expires(emulator: Emulator) -> None:
    store = await emulator.token_store()
    expires = store.load().expires_at  # type: ignore[union-attr]
    client = await emulator.client(store)
    client.tokens._now = lambda: expires - timedelta(minutes=4)  # inside the 5-minute margin
    await client.offer_events(None)
    assert client.tokens.refreshes == 1
    assert emulator.state.stats.by_status[401] == 0


async def test_old_refresh_token_works_for_60_seconds_after_rotation_then_invalid_grant_stops(
    emulator: Emulator,
) -> None:
    first = await emulator.token_store("first.json")
    copy_a = TokenStore(emulator.tmp_path / "copy-a.json")
    copy_b = TokenStore(emulator.tmp_path / "copy-b.json")
    shutil.copy(first.path, copy_a.path)
    shutil.copy(first.path, copy_b.path)
    await emulator.faults(expire_access_tokens=True)
    rotating = await emulator.client(first)
    await rotating.offer_events(None)
    assert rotating.tokens.refreshes == 1

    within_grace = await emulator.client(copy_a)
    await within_grace.offer_events(None)  # old access token revoked -> 401 -> old refresh token still accepted
    assert within_grace.tokens.refreshes == 1

    emulator.advance(61)
    too_late = await emulator.client(copy_b)
    with pytest.raises(StopEngine) as caught:
        await too_late.offer_events(None)
    assert str(caught.value) == INVALID_GRANT_MESSAGE
    assert str(caught.value) == ("Allegro refused the refresh token (invalid_grant): re-run `allegro-sync auth login`")


async def test_revoked_refresh_token_stops_the_engine_without_leaking_it(
    emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    store = await emulator.token_store()
    on_disk = _disk_tokens(store)
    secrets = [on_disk["access_token"], on_disk["refresh_token"], "emulator-secret"]
    await emulator.faults(expire_access_tokens=True, invalidate_refresh_tokens=True)
    client = await emulator.client(store)
    with pytest.raises(StopEngine) as caught:
        await client.order_journal_start()
    assert str(caught.value) == INVALID_GRANT_MESSAGE
    texts = [
        str(caught.value),
        repr(caught.value),
        caplog.text,
        repr(client),
        repr(client.config),
        repr(client.tokens.current()),
    ]
    for secret in secrets:
        assert not any(secret in text for text in texts)
    assert "emulator-secret" not in repr(client.config)


async def test_a_401_after_a_fresh_refresh_stops_instead_of_looping(emulator: Emulator) -> None:
    store = await emulator.token_store()
    client = await emulator.client(store)
    emulator.state.world.access_tokens.clear()  # every token, even a fresh one, is unknown now
    original_refresh = client.oauth.refresh

    async def refresh_then_forget(current):  # type: ignore[no-untyped-def]
        fresh = await original_refresh(current)
        emulator.state.world.access_tokens.clear()
        return fresh

    client.oauth.refresh = refresh_then_forget  # type: ignore[method-assign]
    with pytest.raises(StopEngine, match="freshly refreshed"):
        await client.offer_events(None)
    assert emulator.state.stats.by_status[401] == 2


class Terminal(io.StringIO):
    """Records what device_login prints and whether the code line was flushed before the first poll."""

    def __init__(self) -> None:
        super().__init__()
        self.flushed_with_code = False

    def flush(self) -> None:
        self.flushed_with_code = self.flushed_with_code or "Code: " in self.getvalue()
        super().flush()


def _user_code(out: Terminal) -> str:
    lines = [line for line in out.getvalue().splitlines() if line.startswith("Code: ")]
    assert len(lines) == 1, out.getvalue()
    return lines[0].removeprefix("Code: ")


async def test_device_login_prints_the_code_polls_and_stores_the_pair(emulator: Emulator) -> None:
    await emulator.faults(device_interval_seconds=5)
    out = Terminal()
    store = TokenStore(emulator.tmp_path / "login" / "tokens.json")
    polls = 0

    async def approve_on_second_poll(seconds: float) -> None:
        nonlocal polls
        polls += 1
        emulator.advance(seconds)
        if polls == 2:
            response = await emulator.control.post("/__emulator/device-approvals", json={"user_code": _user_code(out)})
            assert response.status_code == 200

    clock = FakeClock(on_sleep=approve_on_second_poll)
    tokens = await device_login(emulator.config(), store, out, transport=emulator.new_transport(), clock=clock)
    assert out.flushed_with_code
    assert "skojarz-aplikacje" in out.getvalue().splitlines()[0]
    assert tokens.seller_id == "437848322"
    assert clock.sleeps == [5, 5]
    assert store.load() == tokens
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    status = auth_status(emulator.config(), store)
    assert status.logged_in and status.seller_id == "437848322" and status.environment == "emulator"
    assert status.expires_at is not None and status.expires_at > datetime.now(UTC) + timedelta(hours=11)
    assert tokens.access_token.reveal() not in repr(status)


async def test_device_login_slows_down_when_asked(emulator: Emulator) -> None:
    await emulator.faults(device_interval_seconds=5)
    out = Terminal()
    store = TokenStore(emulator.tmp_path / "tokens.json")
    polls = 0

    async def stall_then_approve(seconds: float) -> None:
        nonlocal polls
        polls += 1
        if polls >= 3:  # the first two polls come "too fast" for the emulator -> slow_down
            emulator.advance(seconds)
        if polls == 3:
            await emulator.control.post("/__emulator/device-approvals", json={"user_code": _user_code(out)})

    clock = FakeClock(on_sleep=stall_then_approve)
    await device_login(emulator.config(), store, out, transport=emulator.new_transport(), clock=clock)
    assert clock.sleeps == [5, 5, 10]


async def test_device_login_stops_when_the_seller_refuses(emulator: Emulator) -> None:
    await emulator.faults(device_interval_seconds=0)
    out = Terminal()

    async def deny(seconds: float) -> None:
        await emulator.control.post(
            "/__emulator/device-approvals", json={"user_code": _user_code(out), "approve": False}
        )

    store = TokenStore(emulator.tmp_path / "tokens.json")
    with pytest.raises(StopEngine, match="refused"):
        await device_login(
            emulator.config(), store, out, transport=emulator.new_transport(), clock=FakeClock(on_sleep=deny)
        )
    assert store.load() is None


async def test_device_login_gives_up_when_the_code_expires(emulator: Emulator) -> None:
    await emulator.faults(device_interval_seconds=600)
    store = TokenStore(emulator.tmp_path / "tokens.json")
    clock = FakeClock(on_sleep=emulator.advance)
    with pytest.raises(StopEngine, match="expired"):
        await device_login(emulator.config(), store, Terminal(), transport=emulator.new_transport(), clock=clock)
    assert clock.sleeps == [600] * 6  # polite to the end: the code dies at 3600 s
