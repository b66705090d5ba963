"""The world simulation (design.md section 9, stock-sync.md section 7): the emulator in-process, a memory
warehouse, a ledger and a strategy (our engine, or the peers' FIXED push) driven by a seeded mix of steps.

Everything random comes from the seed: the world's profile (SKUs, buffer, faults, which kinds of steps are
allowed), the steps, the crash points and the emulator's own RNG. The emulator's clock is frozen and only
moves when the world advances it, so a seed replays exactly; the engine, the ledger and the client's rate
budget all read that clock.

Invariants are collected as `Violation`s (seed, step, SKU, message) instead of asserted at once, so that
the same harness can count how often the FIXED strategy breaks S1 while ours must never break anything.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import httpx
import orjson

from adapters.allegro.client import AllegroClient
from adapters.allegro.secret import Secret
from adapters.allegro.settings import AllegroConfig
from adapters.allegro.tokens import TokenStore, from_token_response
from adapters.memory import MemoryWarehouse
from emulator import commands as emu_commands
from emulator import operations as emu_operations
from emulator.app import create_app
from emulator.clock import Clock as EmulatorClock
from emulator.config import EmulatorConfig
from emulator.offers import PUBLISHING, status_of, stock_of
from emulator.records import Offer
from emulator.state import EmulatorState
from engine.context import CycleOptions
from engine.model import ProductRow
from engine.policy import OfferDefaults, Policy

BASE_URL = "http://emulator.test"
EPOCH = 1_795_000_000.0  # 2026-11-18: the frozen emulator clock starts here
CATEGORY = "257931"
ALLEGRO_WRITE_ROUTES = (
    "PUT /sale/offer-quantity-change-commands/{commandId}",
    "PUT /sale/offer-price-change-commands/{commandId}",
    "PUT /sale/offer-publication-commands/{commandId}",
    "PATCH /sale/product-offers/{offerId}",
    "POST /sale/product-offers",
)


class FrozenClock(EmulatorClock):
    """The emulator's clock without the wall clock: it moves only when advanced."""

    __slots__ = ("base",)

    def __init__(self, base: float) -> None:
        super().__init__()
        self.base = base

    def now(self) -> float:
        return self.base + self.offset_seconds


class WorldTime:
    """The engine's clock, the ledger's clock and the client's budget clock, all on the emulator's time.

    The budget's `sleep` (backoff, rate budget) moves the emulator's clock instead of waiting.
    """

    def __init__(self, state: EmulatorState) -> None:
        self._state = state

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._state.now(), UTC)

    def monotonic(self) -> float:
        return self._state.now()

    async def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._state.clock.advance(seconds)
        await asyncio.sleep(0)


# ------------------------------------------------------------------------------------------------ profile


@dataclass(frozen=True, slots=True, kw_only=True)
class Profile:
    """What one seed's world looks like; drawn from the seed."""

    seed: int
    skus: int
    initial_stock: tuple[int, ...]
    buffer: int
    steps: int
    grace_seconds: int
    other_channel: bool
    panel_edits: bool
    duplicate_offer: bool
    crashes: bool
    sqlite_ledger: bool
    reconcile_hours: float
    faults: dict[str, Any]
    crash_weight: int = 1
    """How many of the step kinds' lots a crash gets (crash-heavy campaigns raise it)."""
    extra_faults: bool = False
    """Lost answers after registration (504), PATCH still processing (409), asynchronous creation, 429s."""

    @property
    def strict(self) -> bool:
        """S1 without any slack: nothing outside the engine's control moves stock or offers."""
        return not (self.other_channel or self.panel_edits or self.duplicate_offer)


def profile_of(seed: int, *, steps: int | None = None, crash_weight: int = 1, extra_faults: bool = False) -> Profile:
    rng = random.Random(f"profile:{seed}")
    skus = rng.randint(2, 4)
    delay = rng.choice((0, 0, 2, 5, 12))
    faults: dict[str, Any] = {
        "seed": seed,
        "duplicate_order_events": rng.choice((0.0, 0.0, 0.3, 0.7)),
        "shuffle_order_events": rng.choice((0.0, 0.0, 0.5, 1.0)),
        "drop_order_events": rng.choice((0.0, 0.0, 0.0, 0.2)),
        "command_delay_seconds": delay,
        "command_out_of_order": delay > 0 and rng.random() < 0.5,
        "cancellation_restores_stock": rng.random() < 0.5,
        "gain_on_ended": rng.choice(("apply", "fail")),
        "concurrent_commands": rng.choice(("both", "outdated")),
        "error_rate_5xx": rng.choice((0.0, 0.0, 0.0, 0.0, 0.03)),
        "client_rate_limit_per_minute": 1_000_000,
    }
    if extra_faults:  # drawn from their own RNG, so the seed's other choices stay what they were
        more = random.Random(f"extra-faults:{seed}")
        faults |= {
            "timeout_after_registration": more.choice((0.1, 0.2, 0.4)),
            "patch_processing_seconds": more.choice((0.0, 1.5, 4.0)),
            "async_offer_creation": more.random() < 0.5,
            "async_operation_polls": more.choice((1, 2, 3)),
            "command_replay": more.choice(("201", "409")),
            "error_rate_429": more.choice((0.0, 0.0, 0.02)),
            "retry_after_on_429": more.random() < 0.5,
        }
    return Profile(
        seed=seed,
        skus=skus,
        initial_stock=tuple(rng.choice((0, 1, 2, 3, 5, 8, 12)) for _ in range(skus)),
        buffer=rng.choice((0, 0, 0, 1, 2)),
        steps=steps if steps is not None else rng.randint(20, 40),
        grace_seconds=rng.choice((2, 3, 5)),
        other_channel=rng.random() < 0.5,
        panel_edits=rng.random() < 0.3,
        duplicate_offer=rng.random() < 0.05,
        crashes=rng.random() < 0.6,
        sqlite_ledger=rng.random() < 0.1,
        reconcile_hours=rng.choice((24.0, 24.0, 0.01)),
        faults=faults,
        crash_weight=crash_weight,
        extra_faults=extra_faults,
    )


# ------------------------------------------------------------------------------------------------ results


@dataclass(frozen=True, slots=True)
class Violation:
    seed: int
    step: int
    invariant: str
    sku: str | None
    message: str

    def __str__(self) -> str:
        where = f" SKU {self.sku}" if self.sku else ""
        return f"seed {self.seed} step {self.step}{where}: {self.invariant}: {self.message}"


@dataclass(slots=True)
class Result:
    seed: int
    strategy: str
    violations: list[Violation] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    cycles: int = 0
    crashes: int = 0
    crash_weight: int = 1
    extra_faults: bool = False

    def of(self, invariant: str) -> list[Violation]:
        return [v for v in self.violations if v.invariant == invariant]

    def report(self, limit: int = 40) -> str:
        lines = [str(v) for v in self.violations[:10]]
        lines.append(f"-- last {limit} steps of seed {self.seed} ({self.strategy}):")
        lines += self.log[-limit:]
        return "\n".join(lines)


class Killed(BaseException):
    """Raised inside a crashed engine's requests: the process is gone, nothing after this may happen."""


# ------------------------------------------------------------------------------------------------ transport


class WorldTransport(httpx.AsyncBaseTransport):
    """The emulator in-process, with two harness duties: kill the engine at a chosen request (before or
    after the emulator handled it), and check every write for S3 (no FIXED, no positive absolute PATCH on
    a buyable offer) at the moment it reaches Allegro."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.inner = httpx.ASGITransport(app=world.app)
        self.dead = False
        self.kill_at: int | None = None
        self.kill_after_send = False
        self.kill_on_writes = False
        """Count only writes towards `kill_at` (the interesting crash points), not every request."""
        self.victim: asyncio.Task[Any] | None = None
        self.count = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.dead:
            raise Killed()
        self.world.inspect_write(request)
        write = request.method != "GET" and not request.url.path.startswith("/auth/")
        self.count += 1 if (write or not self.kill_on_writes) else 0
        if self.kill_at is not None and self.count >= self.kill_at and self.victim is not None:
            self.dead = True
            if self.kill_after_send:
                response = await self.inner.handle_async_request(request)
                await response.aread()
            self.victim.cancel()
            await asyncio.sleep(3600)  # the cancellation arrives here (or wherever the task waits)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


# ------------------------------------------------------------------------------------------------ strategy


class Strategy(Protocol):
    name: str

    async def start(self) -> None: ...

    async def cycle(self) -> None: ...

    async def crash(self, mid_cycle: bool) -> None: ...

    async def close(self) -> None: ...

    def retrying(self, sku: str) -> bool:
        """Whether a write for this SKU failed and is scheduled again (its reaction is still under way)."""
        ...

    def white_box(self) -> None:
        """Strategy-specific checks of its own model after every step (S2 for the engine)."""
        ...


# ------------------------------------------------------------------------------------------------ world


@dataclass(slots=True)
class Slack:
    """Units outside the engine's control (another channel's sale, a seller's panel edit) that may still be
    exposed: they stay until a cycle that started with no command pending on the SKU's offers has finished
    and every command pending at its end has executed (the reaction window)."""

    units: int
    born: int
    armed: set[str] | None = None
    why: str = ""
    permanent: bool = False
    retries: int = 0


class World:
    def __init__(self, profile: Profile, strategy_factory: Callable[[World], Strategy]) -> None:
        self.profile = profile
        self.seed = profile.seed
        self.rng = random.Random(f"steps:{profile.seed}")
        self.app = create_app(EmulatorConfig(seed=profile.seed, base_url=BASE_URL))
        self.emu: EmulatorState = self.app.state.emulator
        self.emu.clock = FrozenClock(EPOCH)
        self.time = WorldTime(self.emu)
        self.folder = Path(tempfile.mkdtemp(prefix=f"sim-{profile.seed}-"))
        self.skus = [f"SKU-{i}" for i in range(1, profile.skus + 1)]
        self.pid_of = {sku: str(i) for i, sku in enumerate(self.skus, start=1)}
        self.warehouse = MemoryWarehouse(
            [self._row(sku, stock) for sku, stock in zip(self.skus, profile.initial_stock, strict=True)]
        )
        self.initial = dict(zip(self.skus, profile.initial_stock, strict=True))
        self.deliveries = dict.fromkeys(self.skus, 0)
        self.other_sales = dict.fromkeys(self.skus, 0)
        self.slack: dict[str, list[Slack]] = {sku: [] for sku in self.skus}
        self.seller_ended: set[str] = set()
        self.seller_offers: set[str] = set()
        """Offers the seller listed in the panel (duplicates of an external id the engine already lists)."""
        self.result = Result(
            seed=profile.seed, strategy="?", crash_weight=profile.crash_weight, extra_faults=profile.extra_faults
        )
        self.step_no = 0
        self.tick = 0
        self.control = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url=BASE_URL)
        self.transports: list[WorldTransport] = []
        self.checking_writes = True
        self.strategy = strategy_factory(self)
        self.result.strategy = self.strategy.name

    # ---------------------------------------------------------------------------------------- plumbing

    def _row(self, sku: str, stock: int) -> ProductRow:
        n = sku.split("-")[1]
        return ProductRow(
            product_id=self.pid_of[sku],
            external_id=sku,
            stock=stock,
            title=f"Kabel USB-C do telefonu model {n}",
            price=Decimal("19.99"),
            list=True,
            category="ELEKTRONIKA",
            condition="N",
            images=(f"https://example.invalid/{n}.jpg",),
        )

    def policy(self) -> Policy:
        return Policy(
            buffer=self.profile.buffer,
            journal_grace_seconds=self.profile.grace_seconds,
            categories=(("ELEKTRONIKA", CATEGORY),),
            conditions=(("N", "11323_1"),),
            offer_defaults=OfferDefaults(
                shipping_rates="Standard",
                return_policy="Standard",
                implied_warranty="Standard",
                location=(
                    ("city", "Poznań"),
                    ("country_code", "PL"),
                    ("post_code", "60-166"),
                    ("province", "WIELKOPOLSKIE"),
                ),
            ),
        )

    def options(self) -> CycleOptions:
        return CycleOptions(
            sweep_seconds=0,
            reconcile_hours=self.profile.reconcile_hours,
            command_poll_seconds=0,
            backoff_seconds=1,
            max_backoff_seconds=30,
            mapped_categories=(CATEGORY,),
        )

    async def token_store(self) -> TokenStore:
        answer = await self.control.post("/__emulator/tokens", json={})
        answer.raise_for_status()
        store = TokenStore(self.folder / "tokens.json")
        store.save(
            from_token_response(answer.json(), environment="emulator", client_id="emulator-client", now=self.time.now())
        )
        return store

    def new_client(self, store: TokenStore) -> tuple[AllegroClient, WorldTransport]:
        transport = WorldTransport(self)
        self.transports.append(transport)
        config = AllegroConfig(
            environment="emulator",
            api_url=BASE_URL,
            auth_url=BASE_URL,
            client_id="emulator-client",
            client_secret=Secret("emulator-secret"),
            max_attempts=4,
            backoff_base_seconds=0.5,
            read_timeout_seconds=5.0,
            requests_per_minute=1_000_000,
        )
        client = AllegroClient(config, store, transport=transport, clock=self.time, now=self.time.now)
        return client, transport

    async def open(self) -> None:
        answer = await self.control.put("/__emulator/faults", json=self.profile.faults)
        answer.raise_for_status()
        await self.strategy.start()

    async def close(self) -> None:
        await self.strategy.close()
        await self.control.aclose()
        shutil.rmtree(self.folder, ignore_errors=True)

    def note(self, text: str) -> None:
        self.result.log.append(f"[{self.step_no}] t+{self.emu.clock.offset_seconds:.0f}s {text}")

    def violate(self, invariant: str, sku: str | None, message: str) -> None:
        self.result.violations.append(Violation(self.seed, self.step_no, invariant, sku, message))

    # ---------------------------------------------------------------------------------------- emulator views

    def offers_of(self, sku: str) -> list[Offer]:
        return sorted(
            (
                o
                for o in self.emu.world.offers.values()
                if not o.archived and (o.body.get("external") or {}).get("id") == sku
            ),
            key=lambda o: int(o.id),
        )

    def managed_offer(self, sku: str) -> Offer | None:
        offers = self.offers_of(sku)
        return offers[0] if offers else None

    def sku_of_offer(self, offer_id: str) -> str | None:
        offer = self.emu.world.offers.get(offer_id)
        return None if offer is None else (offer.body.get("external") or {}).get("id")

    def settle_emulator(self) -> None:
        """Allegro executes due commands on time, whether or not anybody asks."""
        emu_commands.run_due(self.emu)
        emu_operations.run_due(self.emu)

    def pending_keys(self, sku: str) -> set[str]:
        """Writes Allegro accepted and has not carried out yet: batch commands and offer operations (202)."""
        world = self.emu.world
        keys = {
            key
            for key in world.pending_commands
            if any(self.sku_of_offer(o) == sku for o in world.commands[key].offer_ids)
        }
        keys |= {
            f"operation:{op.id}"
            for op in world.operations.values()
            if not op.done and self.sku_of_offer(op.offer_id) == sku
        }
        return keys

    def _failed(self, keys: set[str], sku: str) -> bool:
        commands = self.emu.world.commands
        return any(
            task["status"] == "FAIL" and self.sku_of_offer(task["offer"]["id"]) == sku
            for key in keys
            if key in commands
            for task in commands[key].tasks
        )

    def lines(self) -> list[tuple[str | None, str, str, int, bool]]:
        """(sku, checkout form id, line id, quantity, live) for every line Allegro knows."""
        found = []
        for form in self.emu.world.forms.values():
            live = form.body["status"] != "CANCELLED"
            for line in form.body["lineItems"]:
                sku = (line["offer"].get("external") or {}).get("id")
                found.append((sku, form.id, line["id"], int(line["quantity"]), live))
        return found

    def exposure(self, sku: str) -> tuple[int, int, int, int]:
        """(exposure, warehouse stock incl. restores owed, units on the seller's duplicate offers, available)."""
        applied = self.warehouse.applied
        offers = self.offers_of(sku)
        buyable = [o for o in offers if status_of(o) in PUBLISHING]
        available = sum(stock_of(o) for o in buyable)
        duplicates = sum(stock_of(o) for o in buyable if offers and o.id != offers[0].id)
        pending = owed = 0
        for line_sku, cf, line_id, quantity, live in self.lines():
            if line_sku != sku:
                continue
            sold = f"sale:{cf}:{line_id}" in applied
            restored = f"restore:{cf}:{line_id}" in applied
            if live and not sold:
                pending += quantity
            elif not live and sold and not restored:
                owed += quantity  # the buyer cancelled after the decrement: the unit is back on the shelf
        warehouse = self.warehouse.stock(self.pid_of[sku]) + owed
        return available + pending, warehouse, duplicates, available

    def unapplied_live(self, sku: str) -> int:
        applied = self.warehouse.applied
        return sum(
            q for s, cf, line, q, live in self.lines() if s == sku and live and f"sale:{cf}:{line}" not in applied
        )

    # ---------------------------------------------------------------------------------------- S1 and S3

    def check_safety(self) -> None:
        self.settle_emulator()
        for sku in self.skus:
            entries = self.slack[sku]
            pending = self.pending_keys(sku)
            for entry in entries:
                done = entry.armed is not None and not entry.armed & pending
                again = self._failed(entry.armed or set(), sku) or self.strategy.retrying(sku)
                if done and again and entry.retries < 3:
                    # The reaction itself failed at Allegro (a GAIN below 1, a lost answer, a PATCH still
                    # processing, a 5xx): the engine is retrying it and gets another window.
                    entry.armed, entry.retries = None, entry.retries + 1
            entries[:] = [e for e in entries if e.permanent or e.armed is None or e.armed & pending]
            exposure, warehouse, duplicates, available = self.exposure(sku)
            allowed = max(0, warehouse - self.profile.buffer) + sum(e.units for e in entries)
            if exposure > allowed:
                self.violate(
                    "S1",
                    sku,
                    f"exposure {exposure} (available {available} + unapplied lines {exposure - available}) > "
                    f"warehouse {warehouse} - buffer {self.profile.buffer} + slack "
                    f"{sum(e.units for e in entries)} + duplicates {duplicates}",
                )

    def inspect_write(self, request: httpx.Request) -> None:
        """S3 at the wire: no FIXED quantity command; no PATCH of a positive stock on a buyable offer."""
        if not self.checking_writes:
            return
        path = request.url.path
        if request.method == "PUT" and path.startswith("/sale/offer-quantity-change-commands/"):
            body = orjson.loads(request.content)
            if (body.get("modification") or {}).get("changeType") == "FIXED":
                ids = [o.get("id") for c in body.get("offerCriteria") or [] for o in c.get("offers") or []]
                self.violate("S3", None, f"FIXED quantity command {body['modification']} for offers {ids}")
        if request.method == "PATCH" and path.startswith("/sale/product-offers/"):
            offer_id = path.rsplit("/", 1)[1]
            body = orjson.loads(request.content)
            stock = (body.get("stock") or {}).get("available")
            offer = self.emu.world.offers.get(offer_id)
            if offer is not None and isinstance(stock, int) and stock > 0 and status_of(offer) in PUBLISHING:
                sku = self.sku_of_offer(offer_id)
                if sku is None or not any(e.why.startswith("panel") for e in self.slack.get(sku, [])):
                    self.violate("S3", sku, f"PATCH stock {stock} on buyable offer {offer_id} ({status_of(offer)})")

    # ---------------------------------------------------------------------------------------- cycles

    async def cycle(self, *, crash: bool = False) -> None:
        self.tick += 1
        clean = {sku: not self.pending_keys(sku) for sku in self.skus}
        started = self.tick
        if crash:
            await self.strategy.crash(mid_cycle=True)
            self.result.crashes += 1
            return
        await self.strategy.cycle()
        self.result.cycles += 1
        self.settle_emulator()
        for sku in self.skus:
            if not clean[sku]:
                continue
            keys = self.pending_keys(sku)
            for entry in self.slack[sku]:
                if entry.armed is None and entry.born < started:
                    entry.armed = set(keys)

    def add_slack(self, sku: str, units: int, why: str) -> None:
        if units > 0:
            self.slack[sku].append(Slack(units=units, born=self.tick, why=why))

    # ---------------------------------------------------------------------------------------- steps

    async def step(self) -> None:
        rng = self.rng
        kinds = ["buy"] * 6 + ["pay"] * 2 + ["cancel"] * 3 + ["deliver"] * 2 + ["advance"] * 3 + ["cycle"] * 6
        if self.profile.other_channel:
            kinds += ["other"] * 2
        if self.profile.panel_edits:
            kinds += ["panel"] * 2
        if self.profile.crashes or self.profile.crash_weight > 1:
            kinds += ["crash"] * self.profile.crash_weight
        if self.profile.duplicate_offer:
            kinds += ["duplicate"]
        kind = rng.choice(kinds)
        self.emu.clock.advance(rng.choice((0.0, 0.0, 0.3, 0.6, 1.1)))  # wall time passes between steps
        await getattr(self, f"_{kind}")()
        if kind not in ("cycle", "crash") and rng.random() < 0.4:
            await self._cycle()

    async def _buy(self) -> None:
        buyable = [
            o for sku in self.skus for o in self.offers_of(sku) if status_of(o) in PUBLISHING and stock_of(o) > 0
        ]
        if not buyable:
            return
        offer = self.rng.choice(buyable)
        quantity = self.rng.randint(1, min(3, stock_of(offer)))
        paid = self.rng.random() < 0.5
        answer = await self.control.post(
            "/__emulator/purchases", json={"offer_id": offer.id, "quantity": quantity, "paid": paid}
        )
        self.note(
            f"buy {quantity} of offer {offer.id} ({self.sku_of_offer(offer.id)}) paid={paid}: {answer.status_code}"
        )

    def _forms(self, *statuses: str) -> list[str]:
        return sorted(f.id for f in self.emu.world.forms.values() if f.body["status"] in statuses)

    async def _pay(self) -> None:
        forms = self._forms("BOUGHT")
        if forms:
            form = self.rng.choice(forms)
            answer = await self.control.post("/__emulator/payments", json={"checkout_form_id": form})
            self.note(f"pay {form[:8]}: {answer.status_code}")

    async def _cancel(self) -> None:
        forms = self._forms("BOUGHT", "READY_FOR_PROCESSING")
        if not forms:
            return
        form = self.rng.choice(forms)
        paid = self.emu.world.forms[form].body["status"] == "READY_FOR_PROCESSING"
        by = self.rng.choice(("BUYER", "SELLER") if paid else ("BUYER", "AUTO", "SELLER"))
        answer = await self.control.post("/__emulator/cancellations", json={"checkout_form_id": form, "by": by})
        self.note(f"cancel {form[:8]} by {by}: {answer.status_code}")

    async def _deliver(self) -> None:
        sku = self.rng.choice(self.skus)
        units = self.rng.randint(1, 6)
        pid = self.pid_of[sku]
        self.warehouse.set_stock(pid, self.warehouse.stock(pid) + units)
        self.deliveries[sku] += units
        self.note(f"delivery +{units} {sku} -> W={self.warehouse.stock(pid)}")

    async def _other(self) -> None:
        sku = self.rng.choice(self.skus)
        pid = self.pid_of[sku]
        free = self.warehouse.stock(pid) - self.unapplied_live(sku)
        if free < 1:
            return
        units = self.rng.randint(1, min(free, 4))
        self.warehouse.set_stock(pid, self.warehouse.stock(pid) - units)
        self.other_sales[sku] += units
        self.add_slack(sku, units, "other channel")
        self.note(f"other channel sold {units} {sku} -> W={self.warehouse.stock(pid)}")

    async def _panel(self) -> None:
        sku = self.rng.choice(self.skus)
        offer = self.managed_offer(sku)
        if offer is None:
            return
        was_buyable = status_of(offer) in PUBLISHING
        before = stock_of(offer) if was_buyable else 0
        action = self.rng.choice(("stock", "stock", "end", "activate"))
        body: dict[str, Any]
        if action == "stock":
            body = {"stock": self.rng.randint(0, 6)}
        elif action == "end":
            body = {"status": "ENDED"}
        else:
            if status_of(offer) in PUBLISHING:
                return
            body = {"status": "ACTIVE", "stock": max(1, stock_of(offer))}
        answer = await self.control.patch(f"/__emulator/offers/{offer.id}", json=body)
        after = stock_of(offer) if status_of(offer) in PUBLISHING else 0
        if answer.status_code == 200:
            if action == "end" and was_buyable:  # ending an ended offer changes nothing
                self.seller_ended.add(offer.id)
            elif status_of(offer) in PUBLISHING:
                self.seller_ended.discard(offer.id)
        self.add_slack(sku, after - before, f"panel {action}")
        self.note(f"panel edit {body} on {offer.id} ({sku}): {answer.status_code}; exposed {before} -> {after}")

    async def _duplicate(self) -> None:
        sku = self.rng.choice(self.skus)
        if len(self.offers_of(sku)) != 1:
            return
        body = {
            "name": f"Kabel USB-C do telefonu duplikat {sku}",
            "category": {"id": CATEGORY},
            "parameters": [{"id": "11323", "valuesIds": ["11323_1"]}],
            "sellingMode": {"format": "BUY_NOW", "price": {"amount": "18.99", "currency": "PLN"}},
            "stock": {"available": 1, "unit": "UNIT"},
            "external": {"id": sku},
            "images": ["https://example.invalid/dup.jpg"],
            "publication": {"status": "ACTIVE"},
            "delivery": {"shippingRates": {"name": "Standard"}, "handlingTime": "PT24H"},
        }
        answer = await self.control.post("/__emulator/offers", json=body)
        if answer.status_code == 201:
            self.seller_offers.add(str(answer.json()["id"]))
        # The seller's own offer exposes its unit for good: the engine never writes to it.
        self.slack[sku].append(Slack(units=1, born=self.tick, why="duplicate offer", permanent=True))
        self.note(f"seller listed a duplicate offer for {sku}: {answer.status_code} {answer.json().get('id')}")

    async def _advance(self) -> None:
        seconds = self.rng.choice((1, 2, 3, 5, 8, 13))
        self.emu.clock.advance(seconds)
        self.note(f"clock +{seconds}s")

    async def _cycle(self) -> None:
        await self.cycle()
        self.note("cycle")

    async def _crash(self) -> None:
        await self.cycle(crash=True)
        self.note("crash")

    # ---------------------------------------------------------------------------------------- the run

    async def run(self) -> Result:
        await self.open()
        self.check_safety()
        for number in range(1, self.profile.steps + 1):
            self.step_no = number
            await self.step()
            self.check_safety()
            self.strategy.white_box()
        return self.result


async def run_seed(seed: int, strategy_factory: Callable[[World], Strategy], **kw: Any) -> tuple[World, Result]:
    world = World(profile_of(seed, **kw), strategy_factory)
    try:
        result = await world.run()
    except BaseException:
        await world.close()
        raise
    return world, result
