"""Metrics: a registry of our own, scraped over real HTTP on 127.0.0.1; /healthz; served by `run`."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections import Counter
from datetime import UTC, datetime

import httpx
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from adapters.ledger import open_ledger
from engine import operations
from engine.cycle import CycleReport
from engine.metrics import Metrics
from engine.settings import load_settings
from tests.audit.conftest import World

pytestmark = pytest.mark.anyio


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def _report(outcome_errors: list[str], stopped: str | None = None) -> CycleReport:
    return CycleReport(
        started_at=datetime(2026, 11, 28, 8, 0, tzinfo=UTC),
        duration_seconds=1.5,
        events_in=Counter({"allegro.orders": 3, "warehouse": 2}),
        commands_out=Counter({"change_stock": 2, "change_quantity": 1}),
        errors=outcome_errors,
        stopped=stopped,
    )


def test_metrics_endpoint_serves_cycle_figures_over_http_and_health() -> None:
    metrics = Metrics()
    stop = metrics.serve("127.0.0.1", free_port())
    try:
        health = httpx.get(f"http://127.0.0.1:{stop.port}/healthz", timeout=5)
        assert (health.status_code, health.json()) == (200, {"status": "starting"})
        metrics.observe(_report([]))
        metrics.observe(_report(["allegro.offers: 503"]))
        found = scrape(stop.port)
        assert found[("allegro_sync_cycles_total", (("outcome", "ok"),))] == 1
        assert found[("allegro_sync_cycles_total", (("outcome", "errors"),))] == 1
        assert found[("allegro_sync_cycle_duration_seconds_count", ())] == 2
        assert found[("allegro_sync_cycle_duration_seconds_sum", ())] == 3.0
        assert found[("allegro_sync_events_in_total", (("stream", "allegro.orders"),))] == 6
        assert found[("allegro_sync_commands_sent_total", (("kind", "change_stock"),))] == 4
        assert found[("allegro_sync_last_cycle_errors", ())] == 1
        assert found[("allegro_sync_last_cycle_timestamp_seconds", ())] == _report([]).started_at.timestamp()
        health = httpx.get(f"http://127.0.0.1:{stop.port}/healthz", timeout=5)
        assert health.status_code == 200 and health.json()["status"] == "ok"
        metrics.observe(_report([], stopped="the refresh token was revoked: run `allegro-sync auth login`"))
        health = httpx.get(f"http://127.0.0.1:{stop.port}/healthz", timeout=5)
        assert health.status_code == 503 and health.json()["status"] == "stopped"
    finally:
        stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{stop.port}/healthz", timeout=2)


def test_health_turns_stale_when_cycles_stop_coming() -> None:
    metrics = Metrics(stale_after_seconds=0)
    metrics.observe(_report([]))
    code, body = metrics.health()
    assert code == 503 and body["status"] == "stale"


def test_each_metrics_object_has_its_own_registry() -> None:
    first, second = Metrics(), Metrics()  # the global registry would refuse the second
    first.observe(_report([]))
    assert second.registry.get_sample_value("allegro_sync_cycles_total", {"outcome": "ok"}) is None
    assert REGISTRY.get_sample_value("allegro_sync_cycles_total", {"outcome": "ok"}) is None


def test_serving_off_loopback_warns(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="allegro_sync.metrics"):
        stop = Metrics().serve("0.0.0.0", 0)
        stop()
    assert any("reachable from the network" in r.getMessage() for r in caplog.records)


async def test_ledger_figures_commands_by_kind_and_status_cursor_age_and_dead(world: World) -> None:
    with open_ledger(world.settings.engine.state_url.reveal()) as ledger:
        metrics = Metrics(ledger=ledger)
        metrics.observe(_report([]))
        done = sum(1 for c in ledger.commands() if c.kind == "create_offer" and c.status == "done")
    registry = metrics.registry
    assert registry.get_sample_value("allegro_sync_commands", {"kind": "create_offer", "status": "done"}) == done > 0
    assert registry.get_sample_value("allegro_sync_dead_commands") == 0
    age = registry.get_sample_value("allegro_sync_cursor_age_seconds", {"cursor": "allegro.orders"})
    assert age is not None and 0 <= age < 600
    used = registry.get_sample_value("allegro_sync_cursor_retention_used_ratio", {"cursor": "allegro.offers"})
    assert used is not None and 0 <= used < 0.01
    assert (
        registry.get_sample_value("allegro_sync_cursor_retention_used_ratio", {"cursor": "warehouse.products"}) is None
    )


async def test_run_serves_metrics_and_health_while_it_cycles(world: World) -> None:
    port = free_port()
    text = world.config.read_text(encoding="utf-8").replace(
        "poll_seconds = 1\n", f"poll_seconds = 1\nmetrics_port = {port}\n"
    )
    world.config.write_text(text, encoding="utf-8")
    settings = load_settings(world.config)
    stop = asyncio.Event()
    scraped: list[tuple[int, str]] = []

    async def after_cycle(_: object) -> None:
        async with httpx.AsyncClient() as client:
            health = await client.get(f"http://127.0.0.1:{port}/healthz")
            body = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
        scraped.append((health.status_code, body))
        stop.set()

    cycles = await operations.run(settings, transport=world.transport, stop=stop, on_cycle=after_cycle)
    assert cycles == 1
    ((status_code, body),) = scraped
    assert status_code == 200
    assert 'allegro_sync_cycles_total{outcome="ok"} 1.0' in body
    assert 'allegro_sync_cursor_age_seconds{cursor="allegro.orders"}' in body
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
