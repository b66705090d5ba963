"""`python -m bench`: the benchmark scenarios against the emulator over real HTTP (50 ms injected latency).

Prints one JSON object per scenario (one line each) and a table at the end. Each scenario group runs in a
child process (`python -m bench --child GROUP ...`), so CPU time and peak memory are the group's own and the
emulator (another child process) never counts towards them.

    python -m bench                      all scenarios, full sizes (a few minutes)
    python -m bench --quick              small sizes (seconds; what the smoke test runs)
    python -m bench --scenario churn     one scenario (repeatable): idle churn burst listing scan scale
    python -m bench --profile burst      cProfile the burst's measured cycle: bench-burst.prof, top on stderr
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bench.table import render

SCENARIOS = ("idle", "churn", "burst", "listing", "scan", "scale")
GROUPS = {"steady": ("idle", "churn", "burst"), "listing": ("listing",), "scan": ("scan",), "scale": ("scale",)}


@dataclass(frozen=True, slots=True)
class Sizes:
    steady_products: int
    purchases: int
    listing_products: int
    creation_limit: int
    scan_products: int
    scale: tuple[int, ...]


FULL = Sizes(10_000, 500, 2_000, 1_800, 375, (1_000, 10_000, 100_000))
QUICK = Sizes(40, 5, 20, 6_000, 20, (50, 100, 200))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes (seconds), for the smoke test")
    parser.add_argument("--scenario", action="append", choices=SCENARIOS, help="run only these (repeatable)")
    parser.add_argument(
        "--profile", choices=SCENARIOS, help="cProfile this scenario's measured cycles (bench-NAME.prof, top to stderr)"
    )
    parser.add_argument("--products", type=int, help="products of the idle/churn/burst world (default 10,000)")
    parser.add_argument("--purchases", type=int, help="purchases of the order burst (default 500)")
    parser.add_argument("--creation-limit", type=int, help="offer creations per minute for the listing scenario")
    parser.add_argument("--json-only", action="store_true", help="no table at the end")
    parser.add_argument("--child", choices=tuple(GROUPS), help=argparse.SUPPRESS)
    parser.add_argument("--names", help=argparse.SUPPRESS)
    return parser


def _sizes(args: argparse.Namespace) -> Sizes:
    sizes = QUICK if args.quick else FULL
    changes = {
        "creation_limit": args.creation_limit,
        "steady_products": args.products,
        "purchases": args.purchases,
    }
    return replace(sizes, **{k: v for k, v in changes.items() if v})


def _emit(record: dict[str, Any]) -> None:
    print(json.dumps(record, default=str, ensure_ascii=False), flush=True)


async def _child(group: str, names: list[str], sizes: Sizes, folder: Path) -> None:
    if group == "steady":
        from bench import steady

        await steady.run(folder, names, sizes.steady_products, sizes.purchases, _emit)
    elif group == "listing":
        from bench import listing

        await listing.run(folder, sizes.listing_products, sizes.creation_limit, _emit)
    elif group == "scan":
        from bench import scan

        await scan.run(folder, sizes.scan_products, _emit)
    else:
        from bench import scale

        await scale.run(folder, list(sizes.scale), _emit)


def _run_child(args: argparse.Namespace) -> None:
    names = (args.names or "").split(",")
    sizes = _sizes(args)
    with tempfile.TemporaryDirectory(prefix=f"bench-{args.child}-") as folder:
        asyncio.run(_child(args.child, names, sizes, Path(folder)))


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.child:
        _run_child(args)
        return 0
    wanted = set(args.scenario or (SCENARIOS if not args.profile else (args.profile,)))
    if args.profile:
        wanted.add(args.profile)
    records: list[dict[str, Any]] = []
    started = time.perf_counter()
    failed = False
    for group, members in GROUPS.items():
        names = [n for n in members if n in wanted]
        if not names:
            continue
        command = [sys.executable, "-m", "bench", "--child", group, "--names", ",".join(names)]
        if args.quick:
            command.append("--quick")
        for option in ("creation_limit", "products", "purchases"):
            if getattr(args, option):
                command += [f"--{option.replace('_', '-')}", str(getattr(args, option))]
        env = dict(
            os.environ,
            BENCH_PROFILE=args.profile or "",
            PYTHONPATH=os.pathsep.join(
                filter(None, [str(Path(__file__).resolve().parent.parent), os.environ.get("PYTHONPATH")])
            ),
        )
        group_started = time.perf_counter()
        with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env) as child:
            assert child.stdout is not None
            for line in child.stdout:
                line = line.strip()
                if line.startswith("{"):
                    record = json.loads(line)
                    record["group_wall_s"] = round(time.perf_counter() - group_started, 1)
                    record["load_avg_1m"] = round(os.getloadavg()[0], 2)
                    records.append(record)
                    _emit(record)
                elif line:
                    print(line, file=sys.stderr)
        if child.returncode:
            print(f"bench: the {group} group failed (exit {child.returncode})", file=sys.stderr)
            failed = True
    if not args.json_only:
        print(render(records, quick=args.quick, total_s=time.perf_counter() - started))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
