"""`python -m bench --quick` runs every scenario and prints one parseable JSON line each (no timing asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

EXPECTED = {
    "idle": {"requests_per_cycle", "cpu_s_per_cycle", "wall_s_per_cycle", "ledger_rows_added", "linked_offers"},
    "churn": {
        "cycle",
        "changed_products",
        "distinct_deltas",
        "command_puts",
        "command_report_polls",
        "follow_up_cycles",
        "offers_not_matching_warehouse",
    },
    "burst": {
        "cycle",
        "purchases",
        "warehouse_transactions",
        "lines_decremented_once",
        "lines_missing",
        "lines_applied_twice",
        "stock_arithmetic_wrong",
    },
    "listing": {
        "limited",
        "unlimited",
        "fraction_of_creation_limit",
        "unlimited_offers_per_s",
        "creation_limit_per_minute",
    },
    "scan": {"ours", "scan", "speedup", "offers"},
    "scale": {"warehouse", "idle_series", "peak_rss_mb", "cpu_growth"},
}
CYCLE_KEYS = {"wall_s", "cpu_s", "requests", "requests_by_route", "http_429", "events_in", "commands_out"}


def test_quick_run_prints_one_json_line_per_scenario() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    records = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    by_name = {record["scenario"]: record for record in records}
    assert sorted(by_name) == sorted(EXPECTED), done.stdout
    assert len(records) == len(EXPECTED)
    for name, keys in EXPECTED.items():
        assert keys <= by_name[name].keys(), (name, keys - by_name[name].keys())
    for name in ("churn", "burst"):
        assert by_name[name]["cycle"].keys() >= CYCLE_KEYS
    assert by_name["scan"]["ours"].keys() >= CYCLE_KEYS
    # correctness, not speed: an idle cycle adds nothing, every bought line is taken off stock exactly once
    assert by_name["idle"]["ledger_rows_added"] == 0
    burst = by_name["burst"]
    assert burst["lines_decremented_once"] == burst["purchases"]
    assert burst["stock_arithmetic_wrong"] == 0
    assert "target / holds" in done.stdout  # the table at the end
