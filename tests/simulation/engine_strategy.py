"""Our engine as a world strategy: `run_once` over a ledger that survives crashes, a fresh Context per life."""

from __future__ import annotations

import asyncio
import random
import shutil
from functools import cache
from pathlib import Path

from adapters.allegro.client import AllegroClient
from adapters.allegro.tokens import TokenStore
from adapters.ledger import SqlLedger, open_ledger, upgrade
from adapters.memory_ledger import MemoryLedger
from engine.commands import ALLEGRO_WRITES
from engine.context import Context
from engine.cycle import CycleReport, run_once
from tests.simulation.world import World, WorldTransport

OPEN_STATUSES = ("pending", "sent", "failed", "held")


@cache
def _ledger_template() -> Path:
    """One migrated SQLite ledger per test session, copied for every seed that uses SQLite."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="sim-ledger-template-"))
    path = folder / "ledger.db"
    upgrade(f"sqlite:///{path}")
    return path


class EngineStrategy:
    name = "ours"

    def __init__(self, world: World) -> None:
        self.world = world
        self.rng = random.Random(f"crash:{world.seed}")
        self.sqlite = world.profile.sqlite_ledger
        self.ledger_path = world.folder / "ledger.db"
        self.ledger: MemoryLedger | SqlLedger = self._open_ledger()
        self.store: TokenStore | None = None
        self.client: AllegroClient | None = None
        self.transport: WorldTransport | None = None
        self.ctx: Context | None = None
        self.reports: list[CycleReport] = []

    def _open_ledger(self) -> MemoryLedger | SqlLedger:
        if not self.sqlite:
            return MemoryLedger(clock=self.world.time)
        if not self.ledger_path.exists():
            shutil.copy(_ledger_template(), self.ledger_path)
        return open_ledger(f"sqlite:///{self.ledger_path}", clock=self.world.time)

    def _new_life(self) -> None:
        assert self.store is not None
        self.client, self.transport = self.world.new_client(self.store)
        self.ctx = Context(
            ledger=self.ledger,
            allegro=self.client,
            warehouse=self.world.warehouse,
            clock=self.world.time,
            policy=self.world.policy(),
            options=self.world.options(),
        )

    async def start(self) -> None:
        self.store = await self.world.token_store()
        self._new_life()

    async def cycle(self) -> None:
        assert self.ctx is not None
        report = await run_once(self.ctx)
        self.reports.append(report)
        if report.stopped:
            self.world.violate("STOP", None, f"the cycle stopped: {report.stopped}")
        self.check_s3()

    async def crash(self, mid_cycle: bool) -> None:
        """kill -9: at a random request of a cycle (before or after Allegro handled it), or between cycles."""
        assert self.ctx is not None and self.transport is not None and self.client is not None
        if mid_cycle:
            self.transport.count = 0
            self.transport.kill_on_writes = self.rng.random() < 0.6
            self.transport.kill_at = self.rng.randint(1, 2 if self.transport.kill_on_writes else 8)
            self.transport.kill_after_send = self.rng.random() < 0.5
            task = asyncio.create_task(run_once(self.ctx))
            self.transport.victim = task
            try:
                await task
            except asyncio.CancelledError:
                self.world.note(
                    f"engine killed at {'write' if self.transport.kill_on_writes else 'request'} "
                    f"{self.transport.kill_at} "
                    f"({'after' if self.transport.kill_after_send else 'before'} Allegro handled it)"
                )
        self.transport.dead = True
        await self.client.aclose()
        if self.sqlite:
            self.ledger.close()
            self.ledger = self._open_ledger()
        self._new_life()

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()
        self.ledger.close()

    def white_box(self) -> None:
        self.check_s2()

    def retrying(self, sku: str) -> bool:
        return any(
            command.kind in ALLEGRO_WRITES and self.world.sku_of_offer(command.target) == sku
            for command in self.ledger.commands(statuses=["failed"])
        )

    # ---------------------------------------------------------------------------------------- white box

    def check_s2(self) -> None:
        """S2 (stock-sync.md section 7): the model never under-counts exposure, unless the product waits on
        a hold, an owed read, or something the engine cannot know yet (the harness's slack)."""
        if self.ctx is None or self.ctx.state is None:
            return
        state = self.ctx.state
        for sku in self.world.skus:
            product = state.products.get(self.world.pid_of[sku])
            if product is None or product.hold_until is not None or self.world.slack[sku]:
                continue
            offers = state.offers_of(product)
            if any(o.needs_verify or o.inflight for o in offers) or self._unseen_restore(sku):
                continue
            modelled = (
                sum(o.expected for o in offers if o.status.buyable) + product.pending + sum(o.shadow for o in offers)
            )
            real, *_ = self.world.exposure(sku)
            if modelled < real:
                self.world.violate("S2", sku, f"modelled exposure {modelled} < real exposure {real}")

    def _unseen_restore(self, sku: str) -> bool:
        """Allegro put a cancelled order's units back on the offer, and the engine has not seen the cancellation."""
        assert self.ctx is not None and self.ctx.state is not None
        lines = self.ctx.state.lines
        for form in self.world.emu.world.forms.values():
            if not form.stock_restored:
                continue
            for line in form.body["lineItems"]:
                known = lines.get(f"{form.id}:{line['id']}")
                if (line["offer"].get("external") or {}).get("id") == sku and (known is None or not known.cancelled):
                    return True
        return False

    def check_s3(self) -> None:
        """At most one Allegro operation open per offer, in the outbox and in the projection."""
        open_by_offer: dict[str, list[str]] = {}
        for command in self.ledger.commands(statuses=list(OPEN_STATUSES)):
            if command.kind in ALLEGRO_WRITES and command.kind != "create_offer":
                open_by_offer.setdefault(command.target, []).append(f"{command.kind}:{command.status}")
        for offer_id, open_commands in open_by_offer.items():
            if len(open_commands) > 1:
                self.world.violate(
                    "S3", self.world.sku_of_offer(offer_id), f"offer {offer_id} has {open_commands} open at once"
                )
        world = self.world.emu.world
        per_offer: dict[str, int] = {}
        for key in world.pending_commands:
            for offer_id in world.commands[key].offer_ids:
                per_offer[offer_id] = per_offer.get(offer_id, 0) + 1
        for offer_id, count in per_offer.items():
            if count > 1:
                self.world.violate(
                    "S3", self.world.sku_of_offer(offer_id), f"offer {offer_id}: {count} commands pending in Allegro"
                )
