"""Secrets never leave: the client secret, the warehouse password and the tokens are absent from every output
of the CLI (stdout, stderr, `--json`), the run log, the ledger and the warehouse write-back; the token file is
0600 and holds nothing but its own pair; configured SQL takes values only as bound parameters; the emulator
and the metrics endpoint listen on 127.0.0.1 unless told otherwise, and say so when told otherwise."""

from __future__ import annotations

import json
import logging
import os
import random
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from emulator.server import warn_if_public
from engine.cli import app as cli_app
from engine.metrics import Metrics
from tests.reliability.crash_world import CrashWorld, RunResult

INJECTION = "Kabel HDMI'); DROP TABLE towary; -- złocony 2 m"


@pytest.fixture
def marker() -> str:
    return f"S3CRET-{secrets.token_hex(8)}"


@pytest.fixture
def world(tmp_path: Path, marker: str) -> Iterator[CrashWorld]:
    built = CrashWorld(tmp_path, products=10, seed=21, client_secret=marker)
    try:
        yield built
    finally:
        built.close()


def _tokens(path: Path) -> set[str]:
    data = json.loads(path.read_text())
    return {data["access_token"], data["refresh_token"]}


def _files_under(folder: Path) -> Iterator[tuple[Path, bytes]]:
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            yield path, path.read_bytes()


def test_no_secret_in_any_output_log_ledger_or_write_back(world: CrashWorld, marker: str) -> None:
    folder = world.folder
    engine = create_engine(world.warehouse_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE towary SET nazwa = :t WHERE id = 2"), {"t": INJECTION})
    engine.dispose()
    env = {"ALLEGRO_CLIENT_SECRET": marker}
    seen_tokens = _tokens(folder / "tokens.json")
    outputs: list[str] = []

    def run(*argv: str, ok: bool = True) -> RunResult:
        result = world.runner.run(*argv, env=env)
        outputs.extend([result.stdout, result.stderr])
        seen_tokens.update(_tokens(folder / "tokens.json"))
        if ok:
            assert result.code == 0, result.stderr
        return result

    run("db", "upgrade")
    run("sync")
    for round_no in range(3):
        world.trade(random.Random(round_no))
        # every cycle refreshes: the client secret goes out in the token request's Basic header
        world.http.put("/__emulator/faults", json={"expire_access_tokens": True}).raise_for_status()
        world.advance(3)
        run("sync")
    run("sync", "--dry-run")
    for argv in (
        ("status",),
        ("status", "--json"),
        ("auth", "status"),
        ("auth", "status", "--json"),
        ("replay", "--verify"),
        ("replay", "--product", "2", "--json"),
        ("commands", "list", "--json"),
        ("cursors", "list"),
    ):
        run(*argv)
    world.http.put(
        "/__emulator/faults", json={"expire_access_tokens": True, "invalidate_refresh_tokens": True}
    ).raise_for_status()
    revoked = run("sync", ok=False)
    errors = [line for line in revoked.stderr.splitlines() if line.startswith("error:")]
    assert revoked.code not in (0, None) and len(errors) == 1, revoked.stderr
    assert "invalid_grant" in errors[0] and "allegro-sync auth login" in errors[0], errors
    run("-v", "sync", ok=False)

    token_file = folder / "tokens.json"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert len(seen_tokens) >= 6, "the tokens were not rotated: the test would prove little"
    leaks: list[str] = []
    everything = [(f"output {i}", o.encode()) for i, o in enumerate(outputs)]
    everything += [(str(p.relative_to(folder)), b) for p, b in _files_under(folder) if p != token_file]
    for where, data in everything:
        if marker.encode() in data:
            leaks.append(f"client secret in {where}")
        leaks += [f"token {t[:12]}... in {where}" for t in seen_tokens if t.encode() in data]
    if marker.encode() in token_file.read_bytes():
        leaks.append("client secret in the token file")
    assert leaks == [], leaks
    assert any("ledger" in o for o in outputs), "the outputs were not captured"
    # bound parameters: the title with SQL in it is a title, and the table is still there
    offers = {o["external"]["id"]: o for o in world.offers() if o.get("external")}
    assert offers[world_symbol(world, 2)]["name"] == INJECTION
    assert world.stock()


def world_symbol(world: CrashWorld, pid: int) -> str:
    return {v: k for k, v in world.product_of_symbol().items()}[pid]


@pytest.mark.parametrize(
    "url",
    [
        "mysql+pymysql://shop:${WH_PASSWORD}@127.0.0.1:1/sklep",
        "postgresql+psycopg://shop:${WH_PASSWORD}@127.0.0.1:1/sklep",
    ],
    ids=["mariadb", "postgresql"],
)
def test_a_warehouse_password_from_the_environment_is_masked_in_errors_and_status(
    tmp_path: Path, url: str, marker: str
) -> None:
    from engine.demo import write_config

    config = write_config(tmp_path, 5)
    config.write_text(config.read_text().replace('url = "sqlite:///warehouse.db"', f'url = "{url}"'))
    env = {"ALLEGRO_CLIENT_SECRET": marker, "WH_PASSWORD": f"{marker}/@:?#"}
    runner = CliRunner()
    outputs = []
    for argv in (("db", "upgrade"), ("sync",), ("-v", "sync"), ("status", "--json"), ("status",)):
        result = runner.invoke(cli_app, ["--config", str(config), *argv], env=env)
        outputs.append(result.output)
        if "sync" in argv:
            assert result.exit_code != 0
            assert "127.0.0.1" in result.output and "***" in result.output, result.output
    log_files = [p.read_text() for p in (tmp_path / "logs").glob("*")] if (tmp_path / "logs").exists() else []
    for text_ in [*outputs, *log_files]:
        assert marker not in text_, text_
    status = json.loads(outputs[3])
    assert marker not in json.dumps(status)


def test_the_emulator_and_the_metrics_listen_on_loopback_unless_told(caplog: pytest.LogCaptureFixture) -> None:
    help_text = CliRunner().invoke(cli_app, ["emulator", "--help"], env={"COLUMNS": "200"}).output
    assert "127.0.0.1" in help_text
    from engine.settings import EngineSettings

    assert EngineSettings.__dataclass_fields__["metrics_host"].default == "127.0.0.1"
    with caplog.at_level(logging.WARNING):
        warn_if_public("127.0.0.1")
        warn_if_public("localhost")
    assert not caplog.records
    with caplog.at_level(logging.WARNING):
        warn_if_public("0.0.0.0")
    assert any("no real security" in r.getMessage() for r in caplog.records)
    caplog.clear()
    metrics = Metrics(ledger=None, stale_after_seconds=300)
    with caplog.at_level(logging.WARNING):
        stop = metrics.serve("0.0.0.0", 0)
    try:
        assert any("reachable from the network" in r.getMessage() for r in caplog.records)
    finally:
        stop()
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        stop = metrics.serve("127.0.0.1", 0)
    try:
        assert httpx.get(f"http://127.0.0.1:{stop.port}/healthz").status_code in (200, 503)
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    finally:
        stop()


def test_the_token_file_is_created_private_even_with_a_permissive_umask(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from adapters.allegro.secret import Secret
    from adapters.allegro.tokens import TokenSet, TokenStore

    old = os.umask(0)
    try:
        TokenStore(tmp_path / "private" / "tokens.json").save(
            TokenSet(
                access_token=Secret("a.b.c"),
                refresh_token=Secret("r"),
                expires_at=datetime.now(UTC) + timedelta(hours=1),
                environment="emulator",
                client_id="c",
            )
        )
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "private" / "tokens.json").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "private").stat().st_mode) & 0o077 == 0
