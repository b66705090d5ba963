"""The operator's path through the CLI against a real emulator server and a real SQLite warehouse:
db upgrade, auth login (device flow), sync, a purchase, sync --dry-run, status, replay, commands, cursors."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from demo.changes import stock_of
from demo.generate import create_sample_warehouse
from emulator.config import EmulatorConfig
from emulator.server import RunningServer, start_in_thread
from engine.cli import app
from engine.demo import write_config


@pytest.fixture
def server() -> Iterator[RunningServer]:
    running = start_in_thread(EmulatorConfig(seed=3))
    try:
        httpx.put(f"{running.base_url}/__emulator/faults", json={"device_interval_seconds": 0}).raise_for_status()
        yield running
    finally:
        running.stop()


@pytest.fixture
def config(tmp_path: Path, server: RunningServer) -> Path:
    create_sample_warehouse(f"sqlite:///{tmp_path / 'warehouse.db'}", products=20, seed=5)
    path = write_config(tmp_path, 20)
    path.write_text(path.read_text().replace("http://127.0.0.1:8900", server.base_url), encoding="utf-8")
    return path


def _approve_when_asked(server: RunningServer, stop: threading.Event) -> None:
    world = server.app.state.emulator.world
    while not stop.is_set():
        for record in list(world.devices.values()):
            httpx.post(f"{server.base_url}/__emulator/device-approvals", json={"user_code": record.user_code})
        time.sleep(0.02)


def _cli(config: Path, *args: str) -> str:
    result = CliRunner().invoke(app, ["--config", str(config), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_operator_lists_sells_and_audits_through_the_cli(config: Path, server: RunningServer) -> None:
    warehouse = f"sqlite:///{config.parent / 'warehouse.db'}"
    assert "upgraded" in _cli(config, "db", "upgrade")
    stop = threading.Event()
    approver = threading.Thread(target=_approve_when_asked, args=(server, stop), daemon=True)
    approver.start()
    try:
        login = _cli(config, "auth", "login")
    finally:
        stop.set()
        approver.join()
    assert "Code: " in login and "Authorized" in login
    assert "seller" in _cli(config, "auth", "status")

    _cli(config, "sync")
    offers = httpx.get(f"{server.base_url}/__emulator/offers").json()["offers"]
    assert offers and all(o["external"]["id"] for o in offers)
    offer = next(o for o in offers if o["stock"]["available"] >= 2)
    product = _product_of(config, offer["external"]["id"])
    assert json.loads(_cli(config, "status", "--json"))["commands"]["pending"] == 0
    before = stock_of(warehouse, product)
    httpx.post(
        f"{server.base_url}/__emulator/purchases", json={"offer_id": offer["id"], "quantity": 2, "paid": True}
    ).raise_for_status()
    plan = _cli(config, "sync", "--dry-run")
    assert "change_stock" in plan and "dry run" in plan
    assert stock_of(warehouse, product) == before, "a dry run writes nothing"
    _cli(config, "sync")
    assert stock_of(warehouse, product) == before - 2

    assert "match a rebuild from zero" in _cli(config, "replay", "--verify")
    timeline = json.loads(_cli(config, "replay", "--product", str(product), "--json"))
    assert [e["what"].split()[0] for e in timeline if e["kind"] == "decided"][:1] == ["create_offer"]
    assert any("BOUGHT" in e["detail"] for e in timeline)
    assert "no commands waiting" in _cli(config, "commands", "list")
    moved = _cli(config, "cursors", "reset", "allegro.orders", "--to", "latest", "--reason", "test", "--yes")
    assert "moved from" in moved


def _product_of(config: Path, external_id: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{config.parent / 'warehouse.db'}")
    try:
        with engine.connect() as connection:
            return int(
                connection.execute(text("SELECT id FROM towary WHERE symbol = :s"), {"s": external_id}).scalar_one()
            )
    finally:
        engine.dispose()
