"""The real uvicorn server: quick start on a free port, spec-checked answers, and a warning off loopback."""

from __future__ import annotations

import logging
import socket
import time
from urllib.parse import urlsplit

import httpx
import pytest

from emulator.server import RunningServer, start_in_thread, warn_if_public
from tests.emulator.openapi_check import ResponseLog, install_openapi_check


def test_real_server_serves_the_api_on_a_free_port(emulator_server: RunningServer) -> None:
    with httpx.Client(base_url=emulator_server.base_url) as client:
        token = client.post("/__emulator/tokens", json={}).json()["access_token"]
        response = client.get(
            "/sale/offers",
            headers={"Authorization": f"Bearer {token}", "Accept": "application/vnd.allegro.public.v1+json"},
        )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.allegro.public.v1+json;charset=UTF-8"
    assert len(response.headers.get_list("date")) == 1
    assert emulator_server.app.state.emulator.stats.by_route["GET /sale/offers"] == 1


def test_server_starts_well_under_two_seconds() -> None:
    log = ResponseLog()
    started = time.monotonic()
    server = start_in_thread(prepare=lambda app: install_openapi_check(app, log))
    try:
        assert time.monotonic() - started < 2
        assert httpx.get(f"{server.base_url}/__emulator/faults").status_code == 200
    finally:
        server.stop()
    assert (log.checked, log.problems) == (1, [])


@pytest.mark.parametrize(
    ("host", "warned"),
    [("127.0.0.1", False), ("localhost", False), ("::1", False), ("0.0.0.0", True), ("192.168.1.5", True)],
)
def test_listening_off_loopback_is_warned_about(caplog: pytest.LogCaptureFixture, host: str, warned: bool) -> None:
    with caplog.at_level(logging.WARNING, logger="emulator.server"):
        warn_if_public(host)
    assert bool(caplog.records) is warned


def test_keep_alive_answers_are_not_held_back_by_nagle(emulator_server: RunningServer) -> None:
    with httpx.Client(base_url=emulator_server.base_url) as client:
        client.get("/__emulator/faults")
        started = time.monotonic()
        for _ in range(20):
            client.get("/__emulator/faults")
        elapsed = time.monotonic() - started
    assert elapsed < 0.5  # with Nagle and delayed ACKs each answer took about 40 ms


def test_a_client_killed_while_sending_its_body_is_no_server_error(
    emulator_server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    address = urlsplit(emulator_server.base_url)
    caplog.set_level(logging.ERROR)
    with socket.create_connection((address.hostname, address.port)) as raw:
        raw.sendall(
            b"POST /__emulator/purchases HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 500\r\n\r\n{"offer_id": '
        )
        time.sleep(0.1)
    time.sleep(0.3)
    assert httpx.get(f"{emulator_server.base_url}/__emulator/faults").status_code == 200
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
