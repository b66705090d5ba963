"""The crash campaign's world: an emulator server in this process, a SQLite warehouse and ledger in a folder,
the engine run as separate `allegro-sync` processes, seeded trade between runs, and the section 9 checks."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, inspect, text

from adapters.allegro.tokens import TokenStore, from_token_response
from adapters.ledger import open_ledger
from demo.changes import add_stock
from demo.generate import create_sample_warehouse
from emulator.config import EmulatorConfig
from emulator.server import RunningServer, start_in_thread
from engine.demo import EMULATOR, write_config
from engine.state import from_rows

ROOT = Path(__file__).resolve().parents[2]
CONSOLE_SCRIPT = Path(sys.executable).with_name("allegro-sync")
SECRET = "emulator-secret"
GRACE_SECONDS = 2
PANEL_EDIT_RATE = 0.08  # per round
RECENT_FORMS = 50  # payments and cancellations pick among the newest forms, as they do in a real shop
WRITE_METHODS = ("POST ", "PUT ", "PATCH ", "DELETE ")

# Every named fail point (design of engine/failpoints.py), with the ingest steps spelled out.
NAMED_POINTS = (
    "after_ingest",
    "after_ingest_allegro.orders",
    "after_ingest_allegro.offers",
    "after_ingest_warehouse",
    "after_ingest_allegro.sweep",
    "after_reduce",
    "before_http_write",
    "after_http_write",
    "inside_warehouse_tx",
    "before_outcome_recorded",
)


@dataclass(slots=True)
class RunResult:
    argv: tuple[str, ...]
    code: int | None
    signal: int | None
    stdout: str
    stderr: str
    seconds: float

    @property
    def killed(self) -> bool:
        return self.signal == signal.SIGKILL


class Runner:
    """Runs `allegro-sync` in a child process: forked from a pre-imported zygote (fast) or exec'd (real)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.zygote: subprocess.Popen[str] | None = None
        self.runs = 0

    def _start_zygote(self) -> subprocess.Popen[str]:
        if self.zygote is None:
            self.zygote = subprocess.Popen(
                [sys.executable, "-m", "tests.reliability.forkserver"],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
            assert self.zygote.stdout is not None
            assert json.loads(self.zygote.stdout.readline()) == {"ready": True}
        return self.zygote

    def close(self) -> None:
        if self.zygote is not None:
            assert self.zygote.stdin is not None
            self.zygote.stdin.close()
            self.zygote.wait(timeout=10)
            if self.zygote.stdout is not None:
                self.zygote.stdout.close()
            self.zygote = None

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ALLEGRO_SYNC_FAILPOINT")}
        env.update({"ALLEGRO_CLIENT_SECRET": SECRET, "COLUMNS": "200", "PYTHONPATH": str(ROOT)})
        env.update(extra or {})
        return env

    def run(
        self,
        *argv: str,
        failpoint: str | None = None,
        kill_after: float | None = None,
        exec_script: bool = False,
        env: dict[str, str] | None = None,
    ) -> RunResult:
        self.runs += 1
        full = ("--config", str(self.folder / "config.toml"), *argv)
        environment = self.env(env)
        if failpoint:
            environment["ALLEGRO_SYNC_FAILPOINT"] = failpoint
        out, err = self.folder / "run.out", self.folder / "run.err"
        started = time.perf_counter()
        if exec_script:
            status = self._exec(full, environment, out, err, kill_after)
        else:
            status = self._fork(full, environment, out, err, kill_after)
        seconds = time.perf_counter() - started
        return RunResult(
            argv=tuple(argv),
            code=os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
            signal=os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
            stdout=out.read_text(errors="replace"),
            stderr=err.read_text(errors="replace"),
            seconds=seconds,
        )

    def _fork(self, argv: tuple[str, ...], env: dict[str, str], out: Path, err: Path, kill: float | None) -> int:
        zygote = self._start_zygote()
        assert zygote.stdin is not None and zygote.stdout is not None
        request: dict[str, object] = {
            "argv": argv,
            "env": env,
            "cwd": str(self.folder),
            "out": str(out),
            "err": str(err),
        }
        if kill is not None:
            request["kill_after"] = kill
        zygote.stdin.write(json.dumps(request) + "\n")
        zygote.stdin.flush()
        json.loads(zygote.stdout.readline())  # {"pid": ...}: the child runs
        status: int = json.loads(zygote.stdout.readline())["status"]
        return status

    def _exec(self, argv: tuple[str, ...], env: dict[str, str], out: Path, err: Path, kill: float | None) -> int:
        with out.open("w") as o, err.open("w") as e:
            child = subprocess.Popen([str(CONSOLE_SCRIPT), *argv], cwd=self.folder, env=env, stdout=o, stderr=e)
            if kill is not None:
                try:
                    child.wait(timeout=kill)
                except subprocess.TimeoutExpired:
                    os.kill(child.pid, signal.SIGKILL)
            child.wait(timeout=120)
        code = child.returncode
        return (-code) & 0x7F if code < 0 else code << 8


@dataclass(slots=True)
class Ledgerbook:
    """What the world did, to check the arithmetic at the end."""

    initial: dict[int, int] = field(default_factory=dict)
    deliveries: Counter[int] = field(default_factory=Counter)
    other_sales: Counter[int] = field(default_factory=Counter)
    actions: Counter[str] = field(default_factory=Counter)
    seller_ended: set[str] = field(default_factory=set)
    """Offers the seller ended in Allegro's panel: the engine must leave them ended."""


class CrashWorld:
    def __init__(
        self,
        folder: Path,
        *,
        products: int = 15,
        seed: int = 0,
        prepare: Callable[[Any], object] | None = None,
        client_secret: str = SECRET,
        warehouse_url: str | None = None,
        ledger_url: str | None = None,
    ) -> None:
        self.folder = folder
        emulator = EmulatorConfig(seed=seed, client_secret=client_secret)
        self.server: RunningServer = start_in_thread(emulator, prepare=prepare)
        self.base = self.server.base_url
        self.http = httpx.Client(base_url=self.base, timeout=30)
        self.warehouse_url = warehouse_url or f"sqlite:///{folder / 'warehouse.db'}"
        self.ledger_url = ledger_url or f"sqlite:///{folder / 'state.db'}"
        self.summary = create_sample_warehouse(self.warehouse_url, products=products, seed=seed)
        config = write_config(folder, products)
        text_ = config.read_text(encoding="utf-8").replace(EMULATOR, self.base)
        text_ = text_.replace("journal_grace_seconds = 2", f"journal_grace_seconds = {GRACE_SECONDS}")
        if ledger_url is not None:
            text_ = text_.replace('state_url = "sqlite:///state.db"', f'state_url = "{ledger_url}"')
        if warehouse_url is not None:
            text_ = text_.replace('url = "sqlite:///warehouse.db"', f'url = "{warehouse_url}"')
            if warehouse_url.startswith("mysql"):
                text_ = text_.replace('AS "condition"', "AS `condition`")
        config.write_text(text_, encoding="utf-8")
        self.runner = Runner(folder)
        self.book = Ledgerbook(initial=self.stock())
        self._store_tokens()

    def _store_tokens(self) -> None:
        body = self.http.post("/__emulator/tokens", json={}).raise_for_status().json()
        tokens = from_token_response(body, environment="emulator", client_id="emulator-client", now=datetime.now(UTC))
        TokenStore(self.folder / "tokens.json").save(tokens)

    def close(self) -> None:
        self.runner.close()
        self.http.close()
        self.server.stop()

    # ------------------------------------------------------------------------------------------ reading

    def _query(self, sql: str) -> list[tuple[Any, ...]]:
        engine = create_engine(self.warehouse_url)
        try:
            with engine.connect() as connection:
                return [tuple(r) for r in connection.execute(text(sql))]
        finally:
            engine.dispose()

    def stock(self) -> dict[int, int]:
        return {int(pid): int(q) for pid, q in self._query("SELECT towar_id, ilosc FROM stany_magazynowe")}

    def product_of_symbol(self) -> dict[str, int]:
        return {str(symbol): int(pid) for pid, symbol in self._query("SELECT id, symbol FROM towary")}

    def applied(self) -> list[str]:
        """The applied keys in the warehouse; none before the first sync has created their table."""
        engine = create_engine(self.warehouse_url)
        try:
            if not inspect(engine).has_table("allegro_sync_applied"):
                return []
            key = engine.dialect.identifier_preparer.quote("key")  # a reserved word in MySQL
        finally:
            engine.dispose()
        return [str(k) for (k,) in self._query(f"SELECT {key} FROM allegro_sync_applied")]

    def offers(self) -> list[dict[str, Any]]:
        offers: list[dict[str, Any]] = self.http.get("/__emulator/offers").json()["offers"]
        return offers

    def forms(self, last: int | None = None) -> list[dict[str, Any]]:
        """Every checkout form, or the `last` newest (a long campaign must not read its whole history per round)."""
        params = {} if last is None else {"last": last}
        forms: list[dict[str, Any]] = self.http.get("/__emulator/checkout-forms", params=params).json()["checkoutForms"]
        return forms

    def write_requests(self) -> Counter[str]:
        routes = self.http.get("/__emulator/requests").json()["by_route"]
        return Counter({k: v for k, v in routes.items() if k.startswith(WRITE_METHODS)})

    def advance(self, seconds: float) -> None:
        self.http.post("/__emulator/clock", json={"advance_seconds": seconds}).raise_for_status()

    # ------------------------------------------------------------------------------------------ trade

    def trade(self, rng: random.Random, *, warehouse: bool = True, min_purchases: int = 0) -> list[str]:
        """A few seeded world changes: purchases, payments, cancellations, deliveries, other channels
        (`warehouse=False`: only what happens on Allegro)."""
        done: list[str] = []
        offers = [o for o in self.offers() if o["publication"]["status"] == "ACTIVE" and o["stock"]["available"]]
        for _ in range(max(min_purchases, rng.randint(0, 3))):
            if not offers:
                break
            offer = rng.choice(offers)
            quantity = rng.randint(1, min(3, offer["stock"]["available"]))
            paid = rng.random() < 0.6
            answer = self.http.post(
                "/__emulator/purchases", json={"offer_id": offer["id"], "quantity": quantity, "paid": paid}
            )
            if answer.status_code == 201:
                done.append(f"buy {quantity} of {offer['id']}{' paid' if paid else ''}")
                self.book.actions["purchase"] += 1
        forms = self.forms(last=RECENT_FORMS)
        unpaid = [f for f in forms if f["status"] == "BOUGHT"]
        if unpaid and rng.random() < 0.5:
            form = rng.choice(unpaid)
            if self.http.post("/__emulator/payments", json={"checkout_form_id": form["id"]}).status_code == 200:
                done.append(f"pay {form['id']}")
                self.book.actions["payment"] += 1
        open_forms = [f for f in forms if f["status"] != "CANCELLED"]
        if open_forms and rng.random() < 0.35:
            form = rng.choice(open_forms)
            by = rng.choice(["BUYER", "AUTO", "SELLER"])
            answer = self.http.post("/__emulator/cancellations", json={"checkout_form_id": form["id"], "by": by})
            if answer.status_code == 200:
                done.append(f"cancel {form['id']} by {by}")
                self.book.actions[f"cancel_{by}"] += 1
        done += self._panel_edit(rng)
        if not warehouse:
            return done
        products = self.product_of_symbol()
        listed = sorted({products[o["external"]["id"]] for o in self.offers() if o.get("external")})
        if listed and rng.random() < 0.4:
            pid = rng.choice(listed)
            units = rng.randint(1, 5)
            add_stock(self.warehouse_url, pid, units)
            self.book.deliveries[pid] += units
            self.book.actions["delivery"] += 1
            done.append(f"deliver {units} of {pid}")
        if listed and rng.random() < 0.4:
            pid = rng.choice(listed)
            have = self.stock().get(pid, 0)
            if have > 0:
                units = rng.randint(1, min(2, have))
                add_stock(self.warehouse_url, pid, -units)
                self.book.other_sales[pid] += units
                self.book.actions["other_channel_sale"] += 1
                done.append(f"shop sold {units} of {pid}")
        return done

    def _panel_edit(self, rng: random.Random) -> list[str]:
        """Now and then the seller works in Allegro's panel: lowers an ACTIVE offer's quantity (the engine puts
        it back from the offer journal), ends an offer (the engine must leave it ended; at most a quarter of
        them at a time, or the world would run out of offers to buy from), or activates again one they ended,
        with no more units than the warehouse has (the engine then manages it again). Never more units than
        the warehouse's: that would be an oversell the seller made, not the engine."""
        if rng.random() >= PANEL_EDIT_RATE:
            return []
        offers = [o for o in self.offers() if o.get("external")]
        ended = [o for o in offers if o["id"] in self.book.seller_ended]
        active = [o for o in offers if o["publication"]["status"] == "ACTIVE" and o["id"] not in self.book.seller_ended]
        roll = rng.random()
        body: dict[str, Any]
        if ended and roll < 0.4:
            offer = rng.choice(ended)
            have = self.stock().get(self.product_of_symbol()[offer["external"]["id"]], 0)
            if have < 1:
                return []
            action, body = "panel_reactivate", {"status": "ACTIVE", "stock": rng.randint(1, min(have, 5))}
        elif active and roll < 0.6 and len(ended) < len(offers) // 4:
            offer = rng.choice(active)
            action, body = "panel_end", {"status": "ENDED"}
        elif active:
            offer = rng.choice(active)
            if offer["stock"]["available"] < 2:
                return []
            action, body = "panel_lower_stock", {"stock": rng.randint(1, offer["stock"]["available"] - 1)}
        else:
            return []
        self.http.patch(f"/__emulator/offers/{offer['id']}", json=body).raise_for_status()
        if action == "panel_end":
            self.book.seller_ended.add(offer["id"])
        elif action == "panel_reactivate":
            self.book.seller_ended.discard(offer["id"])
        self.book.actions[action] += 1
        return [f"panel {body} on {offer['id']}"]

    # ------------------------------------------------------------------------------------------ quiescence

    def open_commands(self) -> int:
        ledger = open_ledger(self.ledger_url)
        try:
            return len(ledger.commands(statuses=["pending", "sent", "failed", "held"]))
        finally:
            ledger.close()

    def quiesce(self, max_cycles: int = 15) -> list[RunResult]:
        """Sync (no fail point), moving the clock past the journal grace, until a cycle changes nothing."""
        results: list[RunResult] = []
        quiet = 0
        for _ in range(max_cycles):
            self.advance(GRACE_SECONDS + 1)
            before = (self.write_requests(), self.stock(), len(self.applied()))
            result = self.runner.run("sync")
            results.append(result)
            assert result.code == 0, result.stderr
            after = (self.write_requests(), self.stock(), len(self.applied()))
            waiting = self.open_commands()
            quiet = quiet + 1 if before == after and waiting == 0 else 0
            if quiet >= 2:
                return results
            if waiting:
                time.sleep(1.0)  # a failed command's back-off runs on the wall clock
        raise AssertionError(f"not quiescent after {max_cycles} cycles; last: {results[-1].stderr[-2000:]}")

    # ------------------------------------------------------------------------------------------ checks

    def projection(self) -> Any:
        ledger = open_ledger(self.ledger_url)
        try:
            return from_rows(ledger.load_projection()[1])
        finally:
            ledger.close()

    def invariant_failures(self) -> tuple[list[str], dict[str, int]]:
        """Design section 9, 1-6, at quiescence; also the counts checked (orders, lines, units)."""
        return invariant_failures(
            applied=self.applied(),
            products=self.product_of_symbol(),
            state=self.projection(),
            offers=self.offers(),
            forms=self.forms(),
            world=self.server.app.state.emulator.world,
            stock=self.stock(),
            book=self.book,
        )


def invariant_failures(
    *,
    applied: list[str],
    products: dict[str, int],
    state: Any,
    offers: list[dict[str, Any]],
    forms: list[dict[str, Any]],
    world: Any,
    stock: dict[int, int],
    book: Ledgerbook,
) -> tuple[list[str], dict[str, int]]:
    """Design section 9 at quiescence, from plain data: the warehouse's applied keys and stock, the emulator's
    offers and checkout forms (control API) and world, the engine's projection, and what the world did."""
    failures: list[str] = []
    counts = Counter(applied)
    failures += [f"stock change {k} applied {n} times" for k, n in counts.items() if n > 1]
    offers_by_id = {o["id"]: o for o in offers}
    # invariant 1 and nothing lost
    known: set[str] = set()
    live_units: Counter[int] = Counter()
    stats = Counter[str]()
    product_of_offer = {
        oid: products.get((offer.body.get("external") or {}).get("id", "")) for oid, offer in world.offers.items()
    }
    for form in forms:
        stats["orders"] += 1
        for line in form["lineItems"]:
            key = f"{form['id']}:{line['id']}"
            sale, restore = f"sale:{key}" in counts, f"restore:{key}" in counts
            known |= {f"sale:{key}", f"restore:{key}"}
            quantity = int(line["quantity"])
            stats["lines"] += 1
            stats["units"] += quantity
            if key not in state.lines:
                failures.append(f"order line {key}: unknown to the ledger (lost)")
            if form["status"] == "CANCELLED":
                stats["cancelled_lines"] += 1
                if sale != restore:
                    failures.append(f"cancelled line {key}: taken off {int(sale)}x, given back {int(restore)}x")
            else:
                pid = product_of_offer.get(line["offer"]["id"])
                if pid is not None:
                    live_units[pid] += quantity
                if not sale or restore:
                    failures.append(f"live line {key}: taken off {int(sale)}x, given back {int(restore)}x")
    failures += [f"applied key {k} belongs to no Allegro order line" for k in sorted(set(applied) - known)]
    # stock arithmetic: final = initial + deliveries - other channels - live Allegro units
    for pid, start in book.initial.items():
        wanted = start + book.deliveries[pid] - book.other_sales[pid] - live_units[pid]
        if stock[pid] != wanted:
            failures.append(
                f"product {pid}: warehouse {stock[pid]} != initial {start} + delivered {book.deliveries[pid]} "
                f"- other channels {book.other_sales[pid]} - live Allegro units {live_units[pid]} = {wanted}"
            )
    # invariant 2: quantities and statuses of listed, linked offers
    for product in state.products.values():
        if product.offer_id is None or product.row is None or not product.row.list:
            continue
        offer = offers_by_id.get(product.offer_id)
        if product.offer_id in book.seller_ended:
            if offer is not None and offer["publication"]["status"] != "ENDED":
                failures.append(f"offer {product.offer_id} ended by the seller is {offer['publication']['status']}")
            continue
        if offer is None:
            failures.append(f"product {product.product_id}: offer {product.offer_id} is not on Allegro")
            continue
        want = max(0, stock[int(product.product_id)] - state.policy.buffer)
        status, shows = offer["publication"]["status"], offer["stock"]["available"]
        if want == 0 and status == "ACTIVE":
            failures.append(f"product {product.product_id}: warehouse has 0, offer {offer['id']} ACTIVE")
        if want > 0 and (status != "ACTIVE" or shows != want):
            failures.append(f"product {product.product_id}: can sell {want}, Allegro {shows} ({status})")
    # invariant 4: one offer per external id, archived ones included
    per_external = Counter(
        (o.body.get("external") or {}).get("id") for o in world.offers.values() if o.body.get("external")
    )
    failures += [f"external id {e}: {n} offers" for e, n in per_external.items() if n > 1]
    stats["offers"] = len(world.offers)
    return failures, dict(stats)
