"""`allegro-sync demo`: a sample warehouse against the bundled emulator, end to end, with invariants checked.

It creates a fresh folder with a sample SQLite warehouse, a ledger and a config, starts the emulator in this
process, logs in through the device flow, lists the products, then plays a short day of trade (purchases,
a cancellation, a delivery, another channel's sale, a seller-panel edit) and runs cycles until nothing is
left to do. It prints warehouse stock and Allegro quantities before and after, and exits non-zero if any
invariant fails.
"""

from __future__ import annotations

import asyncio
import io
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from adapters.allegro.auth import device_login
from adapters.allegro.tokens import TokenStore
from adapters.ledger import upgrade
from demo.changes import add_stock, set_stock, stock_of
from demo.generate import create_sample_warehouse
from demo.sample import SAMPLE_CATEGORIES, SAMPLE_CONDITIONS, sample_sql
from emulator.app import create_app
from emulator.config import EmulatorConfig
from engine.bootstrap import allegro_config, open_context
from engine.context import Context
from engine.cycle import CycleReport, run_once
from engine.demo_checks import invariant_failures
from engine.runlog import RunLog
from engine.settings import load_settings

EMULATOR = "http://127.0.0.1:8900"
QUIET_CYCLES = 12


@dataclass(frozen=True, slots=True)
class Row:
    product_id: str
    title: str
    warehouse: int | None
    allegro: int | None
    status: str


def write_config(folder: Path, products: int) -> Path:
    sql = sample_sql("sqlite")
    mapping = "\n".join(f'{k} = "{v}"' for k, v in SAMPLE_CATEGORIES.items())
    conditions = "\n".join(f'{k} = "{v}"' for k, v in SAMPLE_CONDITIONS.items())
    text = f'''# Written by `allegro-sync demo` for a sample warehouse of {products} products.
[engine]
state_url = "sqlite:///state.db"
log_dir = "logs"
poll_seconds = 1
sweep_seconds = 0
reconcile_hours = 24

[allegro]
environment = "emulator"
api_url = "{EMULATOR}"
client_id = "emulator-client"
user_agent = "allegro-sync/0.1 (+https://example.invalid/allegro-sync)"
token_file = "tokens.json"

[allegro.offer_defaults]
shipping_rates = "Standard"
return_policy = "Standard"
implied_warranty = "Standard"
location = {{ country_code = "PL", province = "WIELKOPOLSKIE", city = "Poznań", post_code = "60-166" }}

[warehouse]
url = "sqlite:///warehouse.db"
products_query = """{sql["products_query"]}"""
stock_query = """{sql["stock_query"]}"""
decrement_stock = "{sql["decrement_stock"]}"
increment_stock = "{sql["increment_stock"]}"
offer_linked = "{sql["offer_linked"]}"

[stock]
journal_grace_seconds = 2

[mapping.categories]
{mapping}

[mapping.conditions]
{conditions}

[mapping.parameters.257932]
127448 = {{ column = "marka" }}

[mapping.parameters.257933]
224017 = {{ column = "model" }}
'''
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


async def _login(
    settings: Any, transport: httpx.AsyncBaseTransport, control: httpx.AsyncClient, console: Console
) -> None:
    out = io.StringIO()
    store = TokenStore(settings.allegro.token_file)
    login = asyncio.create_task(device_login(allegro_config(settings), store, out, transport=transport))
    while "Code: " not in out.getvalue():
        await asyncio.sleep(0.01)
        if login.done():
            await login
    code = out.getvalue().split("Code: ", 1)[1].split()[0]
    for line in out.getvalue().splitlines():
        console.print(f"  {line}")
    (await control.post("/__emulator/device-approvals", json={"user_code": code})).raise_for_status()
    await login
    console.print("  [green]approved in the emulator; tokens stored (mode 0600)[/green]")


async def _offers(control: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    answer = (await control.get("/__emulator/offers")).json()
    return {o["external"]["id"]: o for o in answer["offers"] if o.get("external")}


async def _snapshot(ctx: Context, control: httpx.AsyncClient, warehouse_url: str, ids: list[str]) -> list[Row]:
    offers = await _offers(control)
    state = ctx.state
    assert state is not None
    rows = []
    for pid in ids:
        product = state.products[pid]
        offer = offers.get(product.external_id)
        rows.append(
            Row(
                product_id=pid,
                title=(product.row.title or "")[:34] if product.row else "",
                warehouse=stock_of(warehouse_url, int(pid)),
                allegro=offer["stock"]["available"] if offer else None,
                status=offer["publication"]["status"] if offer else "-",
            )
        )
    return rows


async def _cycles_until_quiet(
    ctx: Context, control: httpx.AsyncClient, console: Console, log: RunLog
) -> list[CycleReport]:
    reports = []
    for _ in range(QUIET_CYCLES):
        report = await run_once(ctx)
        log.write(report)
        reports.append(report)
        for error in report.errors:
            console.print(f"  [yellow]{error}[/yellow]")
        if report.stopped:
            raise RuntimeError(report.stopped)
        if not report.commands_out and not report.events_in and not ctx.state.held:  # type: ignore[union-attr]
            break
        await control.post("/__emulator/clock", json={"advance_seconds": 3})
        await asyncio.sleep(0.05)
    return reports


async def run_demo(products: int, folder: Path, console: Console) -> int:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    warehouse_url = f"sqlite:///{folder / 'warehouse.db'}"
    summary = create_sample_warehouse(warehouse_url, products=products, seed=0)
    console.print(
        f"[bold]1. Sample warehouse[/bold] {folder / 'warehouse.db'}: {summary.products} products, "
        f"{sum(len(v) for v in summary.broken.values())} deliberately broken rows"
    )
    settings = load_settings(write_config(folder, products))
    upgrade(settings.engine.state_url.reveal())
    app = create_app(EmulatorConfig(seed=0, base_url=EMULATOR))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=EMULATOR) as control:
        await control.put("/__emulator/faults", json={"device_interval_seconds": 0})
        console.print("[bold]2. Device login[/bold] against the in-process emulator")
        await _login(settings, transport, control, console)
        async with open_context(settings, transport=transport) as ctx:
            log = RunLog(settings.engine.log_dir, secrets=settings.secret_values())
            console.print("[bold]3. Listing[/bold]")
            with Progress(console=console, transient=False) as bar:
                task = bar.add_task("creating offers", total=None)
                first = await run_once(ctx, progress=lambda n: bar.advance(task, n))
                log.write(first)
                bar.update(
                    task,
                    total=first.commands_out.get("create_offer", 0),
                    completed=first.commands_out.get("create_offer", 0),
                )
            await _cycles_until_quiet(ctx, control, console, log)
            state = ctx.state
            assert state is not None
            listed = sorted((p for p in state.products.values() if p.offer_id), key=lambda p: int(p.product_id))
            problems = [p for p in state.products.values() if p.problems]
            console.print(f"  {len(listed)} offers listed; {len(problems)} products with listing problems, e.g.:")
            for product in sorted(problems, key=lambda p: int(p.product_id))[:3]:
                console.print(f"    [yellow]{product.problems[0]}[/yellow]")
            chosen = [p.product_id for p in listed[:6]]
            before = await _snapshot(ctx, control, warehouse_url, chosen)
            console.print("[bold]4. A day of trade[/bold]")
            await _trade(ctx, control, warehouse_url, chosen, console)
            await _cycles_until_quiet(ctx, control, console, log)
            after = await _snapshot(ctx, control, warehouse_url, chosen)
            _table(console, before, after)
            failures = await invariant_failures(ctx, control, warehouse_url)
    if failures:
        for failure in failures:
            console.print(f"[red]invariant failed: {failure}[/red]")
        return 1
    console.print(
        "[green]All invariants hold: every order line decremented once, the cancellation restored once, "
        "every offer shows exactly what the warehouse can sell.[/green]"
    )
    return 0


async def _trade(
    ctx: Context, control: httpx.AsyncClient, warehouse_url: str, chosen: list[str], console: Console
) -> None:
    state = ctx.state
    assert state is not None
    offer_of = {pid: state.products[pid].offer_id for pid in chosen}

    async def buy(pid: str, quantity: int, paid: bool = True) -> dict[str, Any]:
        answer = await control.post(
            "/__emulator/purchases", json={"offer_id": offer_of[pid], "quantity": quantity, "paid": paid}
        )
        answer.raise_for_status()
        console.print(f"  buyer bought {quantity} of product {pid} (offer {offer_of[pid]})")
        data: dict[str, Any] = answer.json()
        return data

    await buy(chosen[0], 2)
    await buy(chosen[1], 1)
    cancelled = await buy(chosen[2], 1, paid=False)
    await control.post(
        "/__emulator/cancellations", json={"checkout_form_id": cancelled["checkout_form_id"], "by": "BUYER"}
    )
    console.print(f"  buyer cancelled the order of product {chosen[2]}")
    add_stock(warehouse_url, int(chosen[3]), 5)
    console.print(f"  delivery: +5 units of product {chosen[3]} in the warehouse")
    current = stock_of(warehouse_url, int(chosen[4])) or 0
    set_stock(warehouse_url, int(chosen[4]), 0)
    console.print(f"  the shop's own counter sold all {current} units of product {chosen[4]}")
    await control.patch(f"/__emulator/offers/{offer_of[chosen[5]]}", json={"stock": 1})
    console.print(f"  the seller typed quantity 1 for product {chosen[5]} in Allegro's panel")


def _table(console: Console, before: list[Row], after: list[Row]) -> None:
    table = Table(title="Warehouse stock and Allegro quantity, before -> after")
    for column in ("product", "title", "warehouse", "allegro", "offer status"):
        table.add_column(column)
    for b, a in zip(before, after, strict=True):
        table.add_row(
            b.product_id,
            b.title,
            f"{b.warehouse} -> {a.warehouse}",
            f"{b.allegro} -> {a.allegro}",
            f"{b.status} -> {a.status}",
        )
    console.print(table)
