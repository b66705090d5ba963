"""`allegro-sync status`: the JSON schema, retention warnings, the outbox lists, drift, and no secret in sight."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from sqlalchemy import text, update

from adapters.ledger import open_ledger
from adapters.ledger.tables import cursors
from adapters.memory_ledger import MemoryLedger
from engine import sweeps
from engine.cycle import CycleReport
from engine.ports import ProjectionChanges
from engine.runlog import RunLog
from engine.status import SCHEMA, collect, cursor_health, duration_text
from engine.status import text as status_text
from tests.audit.conftest import World, cli

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
TOP_LEVEL = {
    "schema": str,
    "generated_at": str,
    "config": str,
    "environment": str,
    "state_url": str,
    "state_file": (str, type(None)),
    "account": dict,
    "ledger": dict,
    "compaction": dict,
    "cursors": list,
    "cycles": dict,
    "commands": dict,
    "held": list,
    "failed": list,
    "dead": list,
    "listing_problems": dict,
    "holds": dict,
    "unknown_stock": dict,
    "unmapped_lines": dict,
    "drift": dict,
    "warnings": list,
}
CURSOR_KEYS = {
    "name",
    "position",
    "updated_at",
    "age_seconds",
    "retention_seconds",
    "retention_used",
    "seconds_left",
    "level",
    "message",
}


def _status(world: World) -> dict[str, object]:
    code, out, err = cli(world.config, "status", "--json")
    assert (code, err) == (0, ""), out
    status: dict[str, object] = orjson.loads(out)
    return status


def _age_cursor(world: World, name: str, age: timedelta) -> None:
    with open_ledger(world.settings.engine.state_url.reveal()) as ledger, ledger.engine.begin() as connection:
        connection.execute(update(cursors).where(cursors.c.name == name).values(updated_at=datetime.now(UTC) - age))


async def test_status_json_follows_the_documented_schema_and_hides_every_secret(world: World) -> None:
    status = _status(world)
    assert {k: type(v) for k, v in status.items()}.keys() == TOP_LEVEL.keys()
    for key, kind in TOP_LEVEL.items():
        assert isinstance(status[key], kind), key
    assert status["schema"] == SCHEMA == "allegro-sync.status/1"
    account = status["account"]
    assert isinstance(account, dict)
    assert (account["logged_in"], account["seller_id"], account["environment"]) == (True, "437848322", "emulator")
    assert {c["name"] for c in status["cursors"]} >= {"allegro.orders", "allegro.offers", "warehouse.products"}  # type: ignore[attr-defined,index]
    assert all(set(c) == CURSOR_KEYS for c in status["cursors"])  # type: ignore[attr-defined]
    assert status["commands"]["done"] > 10 and status["commands"]["dead"] == 0  # type: ignore[index]
    problems = status["listing_problems"]
    assert isinstance(problems, dict) and problems["count"] == 5  # the sample's five deliberately broken rows
    assert [p["product_id"] for p in problems["first"]] == ["2", "9", "13", "14", "16"]
    assert "title has" in problems["first"][0]["problems"][0]
    assert status["warnings"] == []

    tokens = orjson.loads((world.folder / "tokens.json").read_bytes())
    secrets = [v for k, v in tokens.items() if "token" in k and isinstance(v, str) and len(v) > 8]
    assert secrets, "the token file should hold tokens to look for"
    _, plain, _ = cli(world.config, "status")
    _, as_json, _ = cli(world.config, "status", "--json")
    for output in (plain, as_json):
        assert not any(secret in output for secret in [*secrets, "emulator-secret"])
        assert "eyJ" not in output


async def test_status_warns_well_before_a_journal_cursor_runs_out_of_retention(world: World) -> None:
    _age_cursor(world, "allegro.offers", timedelta(hours=13))
    _age_cursor(world, "allegro.orders", timedelta(days=50))
    status = _status(world)
    by_name = {c["name"]: c for c in status["cursors"]}  # type: ignore[attr-defined]
    offers, orders = by_name["allegro.offers"], by_name["allegro.orders"]
    assert (offers["level"], offers["retention_seconds"]) == ("warning", 86400)
    assert 0.54 <= offers["retention_used"] <= 0.55 and "(10 h 59 min left)" in offers["message"]
    assert orders["level"] == "critical" and "(9 d 23 h left)" in orders["message"]
    assert status["warnings"][:2] == [orders["message"], offers["message"]]  # type: ignore[index]
    _, out, _ = cli(world.config, "status")
    assert "[WARNING]" in out and "[CRITICAL]" in out
    assert (
        "WARNING      allegro.offers: last moved 13 h ago, 54% of the journal's 24 h retention (10 h 59 min left)"
        in out
    )


def test_cursor_health_levels_and_wording() -> None:
    def level(name: str, age: timedelta) -> str:
        return str(cursor_health(name, "p", NOW - age, NOW)["level"])

    assert level("allegro.offers", timedelta(hours=11)) == "ok"
    assert level("allegro.offers", timedelta(hours=12)) == "warning"
    assert level("allegro.offers", timedelta(hours=20)) == "critical"
    assert level("allegro.orders", timedelta(days=29)) == "ok"
    assert level("warehouse.products", timedelta(days=400)) == "ok"  # no journal, no retention
    past = cursor_health("allegro.offers", "p", NOW - timedelta(hours=30), NOW)
    assert past["seconds_left"] == 0 and "past the journal's 24 h retention" in str(past["message"])
    assert [duration_text(s) for s in (12, 420, 18720, 86400 * 3 + 3600)] == ["12 s", "7 min", "5 h 12 min", "3 d 1 h"]


async def test_status_lists_held_and_dead_commands_and_the_last_cycle(world: World) -> None:
    with open_ledger(world.settings.engine.state_url.reveal()) as ledger, ledger.engine.begin() as connection:
        ids = connection.execute(text("SELECT id FROM commands ORDER BY id LIMIT 2")).scalars().all()
        connection.execute(text("UPDATE commands SET status = 'held' WHERE id = :id"), {"id": ids[0]})
        connection.execute(
            text("UPDATE commands SET status = 'dead', last_error = 'gave up after 8 attempts: 503' WHERE id = :id"),
            {"id": ids[1]},
        )
    report = CycleReport(started_at=datetime.now(UTC), duration_seconds=0.42, errors=["warehouse: not answering"])
    RunLog(world.settings.engine.log_dir).write(report)
    status = _status(world)
    assert [c["id"] for c in status["held"]] == [ids[0]] and status["held"][0]["reason"]  # type: ignore[index]
    assert [(c["id"], c["last_error"]) for c in status["dead"]] == [(ids[1], "gave up after 8 attempts: 503")]  # type: ignore[attr-defined]
    last = status["cycles"]["last"]  # type: ignore[index]
    assert (last["outcome"], last["duration_seconds"], last["errors"]) == ("errors", 0.42, ["warehouse: not answering"])
    warnings = status["warnings"]
    assert any("1 dead command(s)" in w for w in warnings)  # type: ignore[attr-defined]
    assert any("held for approval" in w and "sync --approve" in w for w in warnings)  # type: ignore[attr-defined]
    _, out, _ = cli(world.config, "status")
    assert f"  dead   {ids[1]}" in out and "gave up after 8 attempts: 503" in out
    assert "last cycle   " in out and ": errors in 0.42 s" in out


async def test_status_counts_the_drift_found_by_the_last_reconciliation(world: World) -> None:
    assert _status(world)["drift"]["offers"] == 0  # type: ignore[index]
    await world.control.patch(f"/__emulator/offers/{world.trade['sold_offer']}", json={"stock": 1})
    async with world.context() as ctx:
        assert await sweeps.reconcile(ctx, force=True) == 1
    drift = _status(world)["drift"]
    assert drift["offers"] == 1 and drift["last_reconcile_at"]  # type: ignore[index]


async def test_status_shows_unmapped_lines_holds_and_untrusted_stock(world: World) -> None:
    ledger = MemoryLedger()
    rows = {
        ("product", "7"): {"product_id": "7", "problems": [], "hold_until": "2026-11-28T12:05:00Z", "unknown": None},
        ("product", "8"): {
            "product_id": "8",
            "problems": ["product 8: price is 0"],
            "hold_until": None,
            "unknown": "x",
        },
        ("line", "cf:l1"): {"status": "UNMAPPED", "checkout_form_id": "cf", "offer_id": "99", "quantity": 2},
        ("line", "cf:l2"): {"status": "APPLIED", "checkout_form_id": "cf", "offer_id": "98", "quantity": 1},
    }
    ledger.commit_reduction(folded_seq=0, changes=ProjectionChanges(upserts=rows), commands=[])
    status = collect(world.settings, ledger, NOW)
    assert status["holds"] == {"count": 1, "first": [{"product_id": "7", "hold_until": "2026-11-28T12:05:00Z"}]}
    assert status["unknown_stock"]["first"] == [{"product_id": "8", "reason": "x"}]
    assert status["listing_problems"]["first"] == [{"product_id": "8", "problems": ["product 8: price is 0"]}]
    assert status["unmapped_lines"]["count"] == 1 and status["unmapped_lines"]["first"][0]["offer_id"] == "99"
    shown = status_text(status)
    assert "unmapped     1 order line(s) whose offer maps to no product" in shown
    assert "  2 x offer 99 (form cf)" in shown and "  product 8: price is 0" in shown
