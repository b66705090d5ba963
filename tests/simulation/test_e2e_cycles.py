"""End-to-end cycles: the sample SQLite warehouse, a SQLite ledger, the real client and the emulator in-process.

Each test reads as given / when / then and runs whole `run_once` cycles; the emulator's clock is frozen and
moved only by the test, so holds and grace windows are exact.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from adapters.allegro.client import AllegroClient
from adapters.allegro.secret import Secret
from adapters.allegro.settings import AllegroConfig
from adapters.allegro.tokens import TokenStore, from_token_response
from adapters.ledger import open_ledger, upgrade
from adapters.warehouse import SqlWarehouse, WarehouseConfig
from demo.changes import add_stock, set_stock, stock_of
from demo.generate import create_sample_warehouse
from demo.sample import SAMPLE_CATEGORIES, SAMPLE_CONDITIONS, sample_sql
from emulator.app import create_app
from emulator.config import EmulatorConfig
from emulator.state import EmulatorState
from engine.context import Context, CycleOptions
from engine.cycle import CycleReport, run_once
from engine.policy import OfferDefaults, ParameterRule, Policy
from tests.simulation.world import ALLEGRO_WRITE_ROUTES, BASE_URL, EPOCH, FrozenClock, WorldTime

GRACE = 3


class Shop:
    """One seller: warehouse database, ledger, emulator, engine context, and the test's hands on all four."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.warehouse_url = f"sqlite:///{folder / 'warehouse.db'}"
        create_sample_warehouse(self.warehouse_url, products=6, seed=0)
        self.app = create_app(EmulatorConfig(seed=1, base_url=BASE_URL))
        self.emu: EmulatorState = self.app.state.emulator
        self.emu.clock = FrozenClock(EPOCH)
        self.time = WorldTime(self.emu)
        ledger_url = f"sqlite:///{folder / 'state.db'}"
        upgrade(ledger_url)
        self.ledger = open_ledger(ledger_url, clock=self.time)
        sql = sample_sql("sqlite")
        self.warehouse = SqlWarehouse(
            WarehouseConfig(
                url=self.warehouse_url,
                products_query=sql["products_query"],
                stock_query=sql["stock_query"],
                decrement_stock=sql["decrement_stock"],
                increment_stock=sql["increment_stock"],
            )
        )
        self.control = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url=BASE_URL)
        self.client: AllegroClient | None = None
        self.ctx: Context | None = None

    async def start(self) -> None:
        answer = await self.control.post("/__emulator/tokens", json={})
        store = TokenStore(self.folder / "tokens.json")
        store.save(
            from_token_response(answer.json(), environment="emulator", client_id="emulator-client", now=self.time.now())
        )
        config = AllegroConfig(
            environment="emulator",
            api_url=BASE_URL,
            auth_url=BASE_URL,
            client_id="emulator-client",
            client_secret=Secret("emulator-secret"),
        )
        self.client = AllegroClient(
            config, store, transport=httpx.ASGITransport(app=self.app), clock=self.time, now=self.time.now
        )
        self.warehouse.start()
        self.ctx = Context(
            ledger=self.ledger,
            allegro=self.client,
            warehouse=self.warehouse,
            clock=self.time,
            policy=Policy(
                journal_grace_seconds=GRACE,
                categories=tuple(sorted(SAMPLE_CATEGORIES.items())),
                conditions=tuple(sorted(SAMPLE_CONDITIONS.items())),
                parameters=(
                    ("257932", (ParameterRule(parameter_id="127448", column="marka"),)),
                    ("257933", (ParameterRule(parameter_id="224017", column="model"),)),
                ),
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
            ),
            options=CycleOptions(
                sweep_seconds=0,
                command_poll_seconds=0,
                backoff_seconds=1,
                mapped_categories=tuple(sorted(set(SAMPLE_CATEGORIES.values()))),
            ),
        )

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()
        await self.control.aclose()
        self.warehouse.close()
        self.ledger.close()

    # ------------------------------------------------------------------------------------------- hands

    async def cycle(self) -> CycleReport:
        assert self.ctx is not None
        report = await run_once(self.ctx)
        assert report.stopped is None, report.stopped
        return report

    async def settle(self, cycles: int = 12) -> None:
        """Cycles (the clock moving past the grace window) until one changes nothing."""
        for _ in range(cycles):
            self.emu.clock.advance(GRACE + 1)
            before = self.ledger.last_seq()
            report = await self.cycle()
            if not report.commands_out and self.ledger.last_seq() == before and not self.state.held:
                return
        raise AssertionError("the shop did not settle")

    @property
    def state(self) -> Any:
        assert self.ctx is not None and self.ctx.state is not None
        return self.ctx.state

    def offer_of(self, product_id: int) -> dict[str, Any]:
        offer_id = self.state.products[str(product_id)].offer_id
        assert offer_id is not None, f"product {product_id} has no offer"
        offer = self.emu.world.offers[offer_id]
        return {
            "id": offer.id,
            "available": offer.body["stock"]["available"],
            "status": offer.body["publication"]["status"],
        }

    def writes(self) -> int:
        return sum(self.emu.stats.by_route.get(route, 0) for route in ALLEGRO_WRITE_ROUTES)

    def applied(self) -> list[str]:
        engine = sa.create_engine(self.warehouse_url)
        try:
            with engine.connect() as connection:
                return [row[0] for row in connection.execute(sa.text("SELECT * FROM allegro_sync_applied"))]
        finally:
            engine.dispose()

    async def buy(self, product_id: int, quantity: int, *, paid: bool = True) -> str:
        answer = await self.control.post(
            "/__emulator/purchases",
            json={"offer_id": self.offer_of(product_id)["id"], "quantity": quantity, "paid": paid},
        )
        assert answer.status_code == 201, answer.text
        return str(answer.json()["checkout_form_id"])

    async def faults(self, **switches: Any) -> None:
        (await self.control.put("/__emulator/faults", json=switches)).raise_for_status()


@pytest.fixture
async def shop(tmp_path: Path) -> AsyncIterator[Shop]:
    shop = Shop(tmp_path)
    await shop.start()
    try:
        await shop.cycle()
        await shop.settle()
        yield shop
    finally:
        await shop.close()


pytestmark = pytest.mark.anyio


def _stock(shop: Shop, product_id: int) -> int:
    stock = stock_of(shop.warehouse_url, product_id)
    assert stock is not None, f"product {product_id} has no stock row"
    return stock


async def test_listing_creates_one_offer_per_product_carrying_its_external_id(shop: Shop) -> None:
    offers = list(shop.emu.world.offers.values())
    external_ids = [o.body["external"]["id"] for o in offers]
    assert sorted(external_ids) == sorted(set(external_ids)), "two offers for one external id"
    for product in shop.state.products.values():
        if product.offer_id is None:
            continue
        offer = shop.emu.world.offers[product.offer_id]
        assert offer.body["external"]["id"] == product.external_id
        stock = stock_of(shop.warehouse_url, int(product.product_id))
        assert offer.body["stock"]["available"] == stock
        assert offer.body["publication"]["status"] == ("ACTIVE" if stock else "INACTIVE")
    assert {p.product_id for p in shop.state.products.values() if p.offer_id} >= {"1", "2", "3", "5", "6"}


async def test_an_order_takes_stock_off_the_warehouse_once_even_when_its_events_repeat(shop: Shop) -> None:
    await shop.faults(duplicate_order_events=1.0, shuffle_order_events=1.0)
    before = _stock(shop, 2)
    form = await shop.buy(2, 3)
    await shop.settle()
    await shop.cycle()
    assert stock_of(shop.warehouse_url, 2) == before - 3
    assert [key for key in shop.applied() if form in key] == [
        f"sale:{form}:{shop.emu.world.forms[form].body['lineItems'][0]['id']}"
    ]


@pytest.mark.parametrize("by", ["BUYER", "AUTO", "SELLER"])
async def test_a_cancelled_order_gives_its_units_back_once(shop: Shop, by: str) -> None:
    before = _stock(shop, 6)
    form = await shop.buy(6, 2, paid=by != "AUTO")
    await shop.settle()
    assert stock_of(shop.warehouse_url, 6) == before - 2
    answer = await shop.control.post("/__emulator/cancellations", json={"checkout_form_id": form, "by": by})
    assert answer.status_code == 200
    await shop.settle()
    await shop.settle()
    assert stock_of(shop.warehouse_url, 6) == before
    keys = sorted(key.split(":")[0] for key in shop.applied() if form in key)
    assert keys == ["restore", "sale"]
    assert shop.offer_of(6)["available"] == before


async def test_a_delivery_raises_the_offer_with_a_gain_command(shop: Shop) -> None:
    before = shop.offer_of(5)["available"]
    add_stock(shop.warehouse_url, 5, 4)
    await shop.settle()
    quantity = [c.body for c in shop.emu.world.commands.values() if c.kind == "quantity"]
    assert {"changeType": "GAIN", "value": 4} in [b["modification"] for b in quantity]
    assert all(b["modification"]["changeType"] == "GAIN" for b in quantity)
    assert shop.offer_of(5) == {"id": shop.offer_of(5)["id"], "available": before + 4, "status": "ACTIVE"}


async def test_stock_zero_ends_the_offer_and_a_restock_reactivates_it_after_the_grace_window(shop: Shop) -> None:
    set_stock(shop.warehouse_url, 6, 0)
    await shop.cycle()
    assert shop.offer_of(6)["status"] == "ENDED"
    add_stock(shop.warehouse_url, 6, 4)
    await shop.cycle()
    assert shop.offer_of(6)["status"] == "ENDED", "restocked before the order journal covered the end"
    shop.emu.clock.advance(GRACE + 1)
    await shop.cycle()
    await shop.cycle()
    assert shop.offer_of(6)["status"] == "ACTIVE"
    assert shop.offer_of(6)["available"] == 4


async def test_a_seller_panel_stock_edit_is_noticed_from_the_offer_journal(shop: Shop) -> None:
    offer = shop.offer_of(1)
    seq = shop.ledger.last_seq()
    answer = await shop.control.patch(f"/__emulator/offers/{offer['id']}", json={"stock": 1})
    assert answer.status_code == 200
    await shop.cycle()
    reads = [e for e in shop.ledger.events(after_seq=seq) if e.type == "OfferObserved" and e.entity == offer["id"]]
    assert [e.payload["why"] for e in reads] == ["verify"], "the edit was not read back"
    asked = [c for c in shop.ledger.commands() if c.kind == "verify_offer" and c.target == offer["id"]]
    assert any("OFFER_STOCK_CHANGED" in c.reason for c in asked), "the read was not asked for by the offer journal"
    await shop.settle()
    assert shop.offer_of(1)["available"] == stock_of(shop.warehouse_url, 1)


async def test_an_idle_cycle_writes_nothing_to_allegro_and_nothing_to_the_ledger(shop: Shop) -> None:
    writes, rows = shop.writes(), shop.ledger.last_seq()
    for _ in range(3):
        shop.emu.clock.advance(30)
        report = await shop.cycle()
        assert not report.commands_out
    assert shop.writes() == writes
    assert shop.ledger.last_seq() == rows


async def test_a_purchase_that_leaves_stock_to_sell_causes_no_allegro_write(shop: Shop) -> None:
    """Q2 economy: Allegro already lowered the offer; the warehouse decrement lowers W and P together."""
    writes = shop.writes()
    available = shop.offer_of(3)["available"]
    await shop.buy(3, 2)
    await shop.settle()
    assert shop.writes() == writes
    assert shop.offer_of(3)["available"] == available - 2 == stock_of(shop.warehouse_url, 3)


async def test_an_existing_offer_with_the_external_id_is_adopted_not_duplicated(tmp_path: Path) -> None:
    shop = Shop(tmp_path)
    await shop.start()
    try:
        body = {
            "name": "Ładowarka sieciowa USB-C GaN 100 W (z panelu)",
            "category": {"id": "257931"},
            "parameters": [{"id": "11323", "valuesIds": ["11323_1"]}],
            "sellingMode": {"format": "BUY_NOW", "price": {"amount": "102.00", "currency": "PLN"}},
            "stock": {"available": 3, "unit": "UNIT"},
            "external": {"id": "TW-000006"},
            "images": ["https://example.invalid/6.jpg"],
            "publication": {"status": "ACTIVE"},
            "delivery": {"shippingRates": {"name": "Standard"}, "handlingTime": "PT24H"},
        }
        existing = (await shop.control.post("/__emulator/offers", json=body)).json()["id"]
        await shop.cycle()
        await shop.settle()
        same = [o.id for o in shop.emu.world.offers.values() if o.body["external"]["id"] == "TW-000006"]
        assert same == [existing]
        assert shop.state.products["6"].offer_id == existing
        assert shop.offer_of(6)["available"] == stock_of(shop.warehouse_url, 6)
    finally:
        await shop.close()
