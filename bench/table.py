"""The readable table at the end of `python -m bench`: one row per claim, the figure, its target, held or not."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Check = tuple[str, Callable[[dict[str, Any]], Any], str, Callable[[Any], bool] | None]


def _route_sum(routes: dict[str, int], *parts: str) -> int:
    return sum(v for k, v in routes.items() if all(p in k for p in parts))


CHECKS: dict[str, list[Check]] = {
    "idle": [
        ("HTTP requests per idle cycle", lambda r: r["requests_per_cycle"]["max"], "<= 3", lambda v: v <= 3),
        ("CPU s per idle cycle (median)", lambda r: r["cpu_s_per_cycle"]["median"], "< 0.3", lambda v: v < 0.3),
        ("ledger rows added by idle cycles", lambda r: r["ledger_rows_added"], "0", lambda v: v == 0),
        ("wall s per idle cycle (median)", lambda r: r["wall_s_per_cycle"]["median"], "-", None),
    ],
    "churn": [
        ("requests of the reacting cycle", lambda r: r["cycle"]["requests"], "2 + deltas + polls", None),
        (
            "  of which command PUTs / distinct deltas",
            lambda r: f"{r['command_puts']} / {r['distinct_deltas']}",
            "equal",
            lambda v: v.split(" / ")[0] == v.split(" / ")[1],
        ),
        ("  of which command report polls", lambda r: r["command_report_polls"], "-", None),
        ("wall s of the reacting cycle", lambda r: r["cycle"]["wall_s"], "< 1.5", lambda v: v < 1.5),
        (
            "requests of the next cycle (echo of our writes)",
            lambda r: r["follow_up_cycles"][0]["requests"] if r["follow_up_cycles"] else 0,
            "-",
            None,
        ),
        (
            "offers not matching the warehouse after",
            lambda r: r["offers_not_matching_warehouse"],
            "0",
            lambda v: v == 0,
        ),
    ],
    "burst": [
        ("requests of the cycle after the burst", lambda r: r["cycle"]["requests"], "-", None),
        ("  of which /parts reads", lambda r: _route_sum(r["cycle"]["requests_by_route"], "/parts"), "-", None),
        ("warehouse transactions", lambda r: r["warehouse_transactions"], "-", None),
        ("wall s of the cycle", lambda r: r["cycle"]["wall_s"], "< 3", lambda v: v < 3),
        (
            "lines decremented exactly once",
            lambda r: f"{r['lines_decremented_once']} / {r['purchases']}",
            "all",
            lambda v: v.split(" / ")[0] == v.split(" / ")[1],
        ),
        (
            "stock arithmetic errors",
            lambda r: r["stock_arithmetic_wrong"] + r["other_products_changed"],
            "0",
            lambda v: v == 0,
        ),
    ],
    "listing": [
        ("offers created (limited run)", lambda r: r["limited"]["offers_created"], "-", None),
        ("rate / creation limit", lambda r: r["fraction_of_creation_limit"], ">= 0.9", lambda v: v >= 0.9),
        (
            "  same, first to last creation",
            lambda r: r["fraction_of_creation_limit_while_creating"],
            ">= 0.9",
            lambda v: v >= 0.9,
        ),
        ("  seconds before the first creation", lambda r: r["limited"]["first_offer_after_s"], "-", None),
        ("429 answers (limited run)", lambda r: r["limited"]["http_429"], "0", lambda v: v == 0),
        ("offers/s without limits", lambda r: r["unlimited_offers_per_s"], ">= 50", lambda v: v >= 50),
        (
            "requests per offer without limits",
            lambda r: round(r["unlimited"]["requests"] / max(1, r["unlimited"]["offers_created"]), 2),
            "-",
            None,
        ),
        (
            "engine CPU s per offer without limits",
            lambda r: round(r["unlimited"]["cycle_cpu_s"] / max(1, r["unlimited"]["offers_created"]), 4),
            "-",
            None,
        ),
    ],
    "scan": [
        ("our cycle wall s (one change)", lambda r: r["ours"]["wall_s"], "-", None),
        ("full scan wall s", lambda r: r["scan"]["wall_s"], "-", None),
        ("speed-up", lambda r: r["speedup"], ">= 50", lambda v: v >= 50),
        ("requests ours / scan", lambda r: f"{r['ours']['requests']} / {r['scan']['requests']}", "-", None),
    ],
    "scale": [
        (
            "read+diff CPU s, idle, largest size",
            lambda r: r["warehouse"]["idle_read_diff_cpu_s"]["median"],
            "< 1.5",
            lambda v: v < 1.5,
        ),
        (
            "idle cycle CPU s, largest size",
            lambda r: r["idle_series"][-1]["idle_cpu_s_per_cycle"]["median"],
            "< 1.5",
            lambda v: v < 1.5,
        ),
        ("peak RSS MB, engine restarted + idle", lambda r: r["peak_rss_mb"], "< 400", lambda v: v < 400),
        ("peak RSS MB, initial import of all", lambda r: r["import_peak_rss_mb"], "< 400", lambda v: v < 400),
        (
            "idle requests per cycle by size",
            lambda r: " / ".join(str(p["idle_requests_per_cycle"]) for p in r["idle_series"]),
            "flat",
            None,
        ),
        (
            "idle CPU s per cycle by size",
            lambda r: " / ".join(str(p["idle_cpu_s_per_cycle"]["median"]) for p in r["idle_series"]),
            "linear, small",
            None,
        ),
    ],
}


def render(records: list[dict[str, Any]], *, quick: bool, total_s: float) -> str:
    rows: list[tuple[str, str, str, str, str]] = []
    for record in records:
        name = record["scenario"]
        size = f"{record.get('products', '')}"
        for label, get, target, ok in CHECKS.get(name, []):
            try:
                value = get(record)
            except (KeyError, IndexError, TypeError, ZeroDivisionError):
                value = "n/a"
            verdict = "" if ok is None or value == "n/a" else ("yes" if ok(value) else "NO")
            rows.append((name, size, label, str(value), f"{target} {verdict}".strip()))
    headers = ("scenario", "products", "figure", "value", "target / holds")
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = "  ".join("-" * w for w in widths)
    out = [
        f"allegro-sync bench{' (--quick: small sizes, figures not comparable to targets)' if quick else ''}; "
        f"{total_s:.0f} s in all",
        line,
        "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)),
        line,
    ]
    previous = None
    for row in rows:
        shown = row if row[0] != previous else ("", "", *row[2:])
        previous = row[0]
        out.append("  ".join(c.ljust(w) for c, w in zip(shown, widths, strict=True)).rstrip())
    out.append(line)
    return "\n".join(out)
