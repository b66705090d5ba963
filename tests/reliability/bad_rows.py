"""A sample warehouse with one defect per product, listed through the engine against the in-process emulator."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from adapters.allegro.tokens import TokenStore, from_token_response
from adapters.ledger import upgrade
from demo.generate import create_sample_warehouse
from emulator.app import create_app
from emulator.config import EmulatorConfig
from engine.bootstrap import open_context
from engine.cycle import CycleReport, run_once
from engine.demo import EMULATOR, write_config
from engine.settings import Settings, load_settings

INJECTION = "Kabel HDMI'); DROP TABLE towary; -- 2 m złocony"
SQL_BY_CASE: dict[str, list[str]] = {
    "null stock": ["DELETE FROM stany_magazynowe WHERE towar_id = :id"],
    "negative stock": ["UPDATE stany_magazynowe SET ilosc = -3 WHERE towar_id = :id"],
    "non-numeric stock": ["UPDATE stany_magazynowe SET ilosc = 'dużo' WHERE towar_id = :id"],
    "non-numeric price": ["UPDATE towary SET cena = 'do ustalenia' WHERE id = :id"],
    "zero price": ["UPDATE towary SET cena = '0,00' WHERE id = :id"],
    "negative price": ["UPDATE towary SET cena = '-5,00' WHERE id = :id"],
    "200-character title": ["UPDATE towary SET nazwa = :long WHERE id = :id"],
    "empty title": ["UPDATE towary SET nazwa = '' WHERE id = :id"],
    "invalid EAN": ["UPDATE towary SET ean = '5901234123458' WHERE id = :id"],
    "HTML and emoji in the description": ["UPDATE towary SET opis = :html WHERE id = :id"],
    "duplicate external id": [
        "UPDATE towary SET symbol = (SELECT symbol FROM towary WHERE id = :id + 1) WHERE id = :id"
    ],
    "17 images": ["UPDATE towary SET zdjecia = :images WHERE id = :id"],
    "unmapped category": ["UPDATE towary SET kategoria = 'ZABAWKI' WHERE id = :id"],
    "unmapped condition": ["UPDATE towary SET stan_techniczny = 'X' WHERE id = :id"],
    "image that is not a URL": ["UPDATE towary SET zdjecia = 'zdjecie1.jpg', ean = NULL WHERE id = :id"],
    "SQL in the title": ["UPDATE towary SET nazwa = :injection WHERE id = :id"],
    "shop-page HTML in the description": ["UPDATE towary SET opis = :shop_html WHERE id = :id"],
}
CASES = tuple(SQL_BY_CASE)
PARAMS = {
    "long": "Kabel HDMI 2.1 " + "bardzo długi " * 20,
    "html": "<script>alert(1)</script><p>Kabel 🔌⚡ <b>złocony</b> &amp; ekranowany</p><iframe src=x></iframe>",
    "images": ", ".join(f"https://images.example.invalid/x/{i}.jpg" for i in range(17)),
    "injection": INJECTION,
    "shop_html": (
        '<div class="opis"><h3>Cechy</h3><strong>Nowy</strong> kabel<br/>2 m<table><tr><td>Waga</td>'
        "<td>80 g</td></tr></table><ul><li>złącza <em>złocone</em><ul><li>ekran</li></ul></li></ul>"
        '<img src="x.jpg"><span style="color:red">Promocja!</span></div>'
    ),
}
FIRST_ID = 1
GOOD_IDS = (42, 43, 44, 45, 46)
PRODUCTS = 46


def product_id(case: str) -> int:
    return FIRST_ID + 2 * CASES.index(case)  # every other id: "duplicate external id" borrows id + 1's symbol


@dataclass(slots=True)
class Listed:
    problems: dict[str, tuple[str, ...]]
    offers: dict[str, dict[str, Any]]
    reports: list[CycleReport]
    stock: dict[int, int | None]
    tables: list[str]
    external_ids: dict[int, str]


async def log_in(control: httpx.AsyncClient, settings: Settings) -> dict[str, Any]:
    """A token pair from the emulator's control API, stored where the engine reads it; returns the pair."""
    body: dict[str, Any] = (await control.post("/__emulator/tokens", json={})).json()
    now = datetime.now(UTC)
    tokens = from_token_response(body, environment="emulator", client_id="emulator-client", now=now)
    TokenStore(settings.allegro.token_file).save(tokens)
    return body


def build_and_list(folder: Path, *, cases: dict[str, list[str]] = SQL_BY_CASE, warehouse_settings: str = "") -> Listed:
    """Lists the sample warehouse with `cases` applied; `warehouse_settings` are extra `[warehouse]` lines."""
    return asyncio.run(_build_and_list(folder, cases, warehouse_settings))


async def _build_and_list(folder: Path, cases: dict[str, list[str]], warehouse_settings: str) -> Listed:
    url = f"sqlite:///{folder / 'warehouse.db'}"
    create_sample_warehouse(url, products=PRODUCTS, seed=4)
    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(text("UPDATE towary SET wystawiaj = 'T', kategoria = 'ELEKTRONIKA', stan_techniczny = 'N'"))
        c.execute(text("UPDATE stany_magazynowe SET ilosc = 5"))
        c.execute(text("UPDATE towary SET cena = '49,99', nazwa = 'Kabel HDMI 2.1 złocony ' || id || ' m'"))
        for case, statements in cases.items():
            for sql in statements:
                c.execute(text(sql), {"id": product_id(case), **PARAMS})
        external = {int(i): str(s) for i, s in c.execute(text("SELECT id, symbol FROM towary"))}
    engine.dispose()
    config = write_config(folder, PRODUCTS)
    config.write_text(config.read_text().replace("[warehouse]\n", f"[warehouse]\n{warehouse_settings}\n"))
    settings = load_settings(config)
    upgrade(settings.engine.state_url.reveal())
    app = create_app(EmulatorConfig(seed=4, base_url=EMULATOR))
    transport = httpx.ASGITransport(app=app)
    reports = []
    async with httpx.AsyncClient(transport=transport, base_url=EMULATOR) as control:
        body = await log_in(control, settings)
        async with open_context(settings, transport=transport) as ctx:
            for _ in range(4):
                reports.append(await run_once(ctx))
                await control.post("/__emulator/clock", json={"advance_seconds": 3})
            state = ctx.state
            assert state is not None
            problems = {pid: p.problems for pid, p in state.products.items()}
        listed = (await control.get("/__emulator/offers")).json()["offers"]
        offers = {o["external"]["id"]: o for o in listed if o.get("external")}
        auth = {"Authorization": f"Bearer {body['access_token']}", "Accept": "application/vnd.allegro.public.v1+json"}
        for offer in offers.values():
            full = (await control.get(f"/sale/product-offers/{offer['id']}", headers=auth)).json()
            offer["description"], offer["images"] = full["description"], full["images"]
    engine = create_engine(url)
    with engine.connect() as c:
        stock = {int(i): q for i, q in c.execute(text("SELECT towar_id, ilosc FROM stany_magazynowe"))}
        tables = [str(n) for (n,) in c.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))]
    engine.dispose()
    return Listed(problems=problems, offers=offers, reports=reports, stock=stock, tables=tables, external_ids=external)
