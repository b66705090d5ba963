"""Bad inputs (design.md invariant 7): each case asserts a message that names the thing and the fix, that the
rest of the work goes on (the other products are listed, the other sources are read, other commands are
sent), and that nothing is lost once the input is fixed.

Three tables: configuration files (through `load_settings`, the warehouse adapter and the CLI), product rows
(one defect per product in one sample warehouse, listed through the engine), and Allegro answers (a small
Starlette proxy in front of the emulator rewrites one endpoint's answers: the emulator cannot produce
malformed JSON, missing fields, unknown event types or a journal stuck on an empty page, on purpose)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import create_engine, text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from typer.testing import CliRunner

from adapters.ledger import upgrade
from adapters.warehouse import SqlWarehouse
from demo.changes import add_stock
from demo.generate import create_sample_warehouse
from emulator.app import create_app
from emulator.config import EmulatorConfig
from engine.bootstrap import open_context, warehouse_config
from engine.cli import app as cli_app
from engine.cycle import run_once
from engine.demo import EMULATOR, write_config
from engine.errors import ConfigError
from engine.settings import load_settings
from tests.reliability.bad_rows import CASES, GOOD_IDS, INJECTION, Listed, build_and_list, log_in, product_id

ROOT = Path(__file__).resolve().parents[2]

# ---------------------------------------------------------------------------------------------- configuration

# name: (text in the demo config, replacement, fragments the message must contain)
CONFIG_CASES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "missing warehouse url": ('url = "sqlite:///warehouse.db"\n', "", ("[warehouse].url", "missing", "expected")),
    "warehouse url with an unknown scheme": (
        'url = "sqlite:///warehouse.db"',
        'url = "ftp://host/db"',
        ("[warehouse].url", "ftp://host/db", "mysql+pymysql://"),
    ),
    "api url that is no URL": (
        'api_url = "http://127.0.0.1:8900"',
        'api_url = "not a url"',
        ("[allegro].api_url", "not a url", "http(s) base URL"),
    ),
    "number given as text": ("poll_seconds = 1", 'poll_seconds = "often"', ("[engine].poll_seconds", "a number")),
    "mistyped key": ("poll_seconds = 1", "pol_seconds = 1", ("[engine].pol_seconds", "did you mean poll_seconds")),
    "zero poll interval": ("poll_seconds = 1", "poll_seconds = 0", ("[engine].poll_seconds", ">= 1")),
    "negative buffer": ("journal_grace_seconds = 2", "journal_grace_seconds = 2\nbuffer = -1", ("[stock].buffer",)),
    "unknown decrement_on": (
        "journal_grace_seconds = 2",
        'journal_grace_seconds = 2\ndecrement_on = "PAID"',
        ("[stock].decrement_on", "PAID", "READY_FOR_PROCESSING"),
    ),
    "unknown environment": (
        'environment = "emulator"',
        'environment = "prod"',
        ("[allegro].environment", "production"),
    ),
    "mistyped section": ("[engine]", "[engin]\nx = 1\n[engine]", ("[engin]", "did you mean [engine]")),
    "grace as text": (
        "journal_grace_seconds = 2",
        'journal_grace_seconds = "two"',
        ("[stock].journal_grace_seconds", "a number"),
    ),
    "fraction above one": (
        "reconcile_hours = 24",
        "reconcile_hours = 24\nmax_change_fraction = 2",
        ("[engine].max_change_fraction", "<= 1"),
    ),
    "password variable not set": (
        'url = "sqlite:///warehouse.db"',
        'url = "postgresql://shop:${WH_PASSWORD_NOT_SET}@db.example/shop"',
        ("[warehouse].url", "WH_PASSWORD_NOT_SET is not set"),
    ),
    "ledger on MySQL": (
        'state_url = "sqlite:///state.db"',
        'state_url = "mysql://u:hunter2@h/db"',
        ("[engine].state_url", "postgresql+psycopg://"),
    ),
    "query without the stock column": (
        "s.ilosc AS stock, t.wystawiaj",
        "t.wystawiaj",
        ("[warehouse].products_query", "no column stock", "AS stock"),
    ),
    "query that is not a SELECT": (
        'products_query = """SELECT',
        'products_query = """DELETE FROM towary WHERE 1=0 AND',
        ("[warehouse].products_query", "expected a SELECT"),
    ),
    "decrement without :quantity": (
        "SET ilosc = ilosc - :quantity WHERE",
        "SET ilosc = ilosc - 1 WHERE",
        ("[warehouse].decrement_stock", ":quantity"),
    ),
    "condition mapped to a number": (
        'N = "11323_1"',
        "N = 5",
        ("[mapping.conditions].N", "11323_1"),
    ),
    "category mapped to nothing": (
        'ELEKTRONIKA = "257931"',
        'ELEKTRONIKA = ""',
        ("[mapping.categories].ELEKTRONIKA", "leaf category id"),
    ),
    "parameter from a column the query lacks": (
        '127448 = { column = "marka" }',
        '127448 = { column = "brand_not_in_query" }',
        ("127448.column", "brand_not_in_query", "[warehouse].products_query selects"),
    ),
    "client secret written in the file": (
        'client_id = "emulator-client"',
        'client_id = "emulator-client"\nclient_secret = "x"',
        ("[allegro].client_secret", "ALLEGRO_CLIENT_SECRET"),
    ),
    "token file as a number": ('token_file = "tokens.json"', "token_file = 5", ("[allegro].token_file", "a path")),
    "country code as a number": (
        'country_code = "PL"',
        "country_code = 5",
        ("location.country_code", '"PL"'),
    ),
    "image base that is no http URL": (
        'url = "sqlite:///warehouse.db"',
        'url = "sqlite:///warehouse.db"\nimage_base_url = "zdjecia/"',
        ("[warehouse].image_base_url", '"zdjecia/"', "https://sklep.example.pl/foto"),
    ),
    "broken TOML": ("[engine]", "[engine", ("not valid TOML", "line 2")),
}


@pytest.fixture(scope="module")
def demo_config(tmp_path_factory: pytest.TempPathFactory) -> str:
    return write_config(tmp_path_factory.mktemp("config"), 10).read_text(encoding="utf-8")


@pytest.mark.parametrize("case", CONFIG_CASES, ids=list(CONFIG_CASES))
def test_a_configuration_mistake_names_the_key_and_the_fix(case: str, demo_config: str, tmp_path: Path) -> None:
    old, new, fragments = CONFIG_CASES[case]
    assert old in demo_config, f"the demo config changed: {old!r} is gone"
    path = tmp_path / "config.toml"
    path.write_text(demo_config.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={"ALLEGRO_CLIENT_SECRET": "s"})
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message, message
    assert "hunter2" not in message


def test_every_mistake_of_one_file_is_reported_at_once(demo_config: str, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    broken = demo_config.replace("poll_seconds = 1", "pol_seconds = 1").replace('N = "11323_1"', "N = 5")
    path.write_text(broken.replace('environment = "emulator"', 'environment = "prod"'), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={"ALLEGRO_CLIENT_SECRET": "s"})
    assert all(k in str(caught.value) for k in ("pol_seconds", "[mapping.conditions].N", "[allegro].environment"))


WAREHOUSE_CASES = {
    "query on a table that does not exist": (
        "FROM towary t LEFT JOIN",
        "FROM towary_old t LEFT JOIN",
        ("products_query", "towary_old"),
    ),
    "query selecting a column that does not exist": ("t.ean AS ean", "t.kod_ean AS ean", ("products_query", "kod_ean")),
}


@pytest.mark.parametrize("case", WAREHOUSE_CASES, ids=list(WAREHOUSE_CASES))
def test_a_query_the_database_refuses_is_named_at_start(case: str, demo_config: str, tmp_path: Path) -> None:
    old, new, fragments = WAREHOUSE_CASES[case]
    create_sample_warehouse(f"sqlite:///{tmp_path / 'warehouse.db'}", products=5, seed=1)
    path = tmp_path / "config.toml"
    path.write_text(demo_config.replace(old, new), encoding="utf-8")
    warehouse = SqlWarehouse(warehouse_config(load_settings(path, env={"ALLEGRO_CLIENT_SECRET": "s"})))
    try:
        with pytest.raises(ConfigError) as caught:
            warehouse.start()
    finally:
        warehouse.close()
    for fragment in fragments:
        assert fragment in str(caught.value), str(caught.value)


def test_sync_without_the_client_secret_says_which_variable_to_set(demo_config: str, tmp_path: Path) -> None:
    """The emulator has a default secret; the sandbox has none."""
    path = tmp_path / "config.toml"
    sandbox = demo_config.replace('environment = "emulator"', 'environment = "sandbox"')
    path.write_text(sandbox.replace('api_url = "http://127.0.0.1:8900"\n', ""), encoding="utf-8")
    upgrade(f"sqlite:///{tmp_path / 'state.db'}")
    create_sample_warehouse(f"sqlite:///{tmp_path / 'warehouse.db'}", products=5, seed=1)
    result = CliRunner().invoke(cli_app, ["--config", str(path), "sync"], env={"ALLEGRO_CLIENT_SECRET": None})
    assert result.exit_code != 0
    assert "ALLEGRO_CLIENT_SECRET" in result.output, result.output


def test_python_dash_m_engine_cli_runs_the_command(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-config.toml"
    result = subprocess.run(
        [sys.executable, "-m", "engine.cli", "--config", str(missing), "sync"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "not found" in result.stderr


# ---------------------------------------------------------------------------------------------- product rows

ROW_MESSAGES: dict[str, tuple[str, ...]] = {
    "null stock": ("stock is empty", "products_query must return a whole number"),
    "negative stock": ("stock -3 is negative", "correct it in the warehouse"),
    "non-numeric stock": ("stock 'dużo' is not a whole number", "whole number of units"),
    "non-numeric price": ("price 'do ustalenia' is not a number", "decimal separator"),
    "zero price": ("price 0.00 is not above 0",),
    "negative price": ("price -5.00 is negative", "correct the price in the warehouse"),
    "200-character title": ("title has", "Allegro needs 12-75"),
    "empty title": ("title has 0 characters", "Allegro needs 12-75"),
    "invalid EAN": ("EAN '5901234123458'", "check digit", "fix or clear it"),
    "17 images": ("17 images", "at most 16"),
    "unmapped category": ("category 'ZABAWKI'", "[mapping.categories]"),
    "unmapped condition": ("condition 'X'", "[mapping.conditions]"),
    "image that is not a URL": ("image 'zdjecie1.jpg' is not an http(s) URL", "[warehouse].image_base_url"),
}
# Listed, with the description turned into Allegro's HTML subset (the emulator refuses anything else).
LISTED = {
    "HTML and emoji in the description": "<p>Kabel 🔌⚡ <b>złocony</b> &amp; ekranowany</p>",
    "shop-page HTML in the description": (
        "<h2>Cechy</h2><p><b>Nowy</b> kabel</p><p>2 m</p><p>Waga 80 g</p>"
        "<ul><li>złącza złocone</li><li>ekran</li></ul><p>Promocja!</p>"
    ),
    "SQL in the title": None,
}


@pytest.fixture(scope="module")
def listed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Listed]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ALLEGRO_CLIENT_SECRET", "emulator-secret")
        yield build_and_list(tmp_path_factory.mktemp("rows"))


def _rest_proceeds(listed: Listed) -> None:
    assert all(listed.external_ids[g] in listed.offers for g in GOOD_IDS), "the good products were not listed"
    assert all(r.stopped is None for r in listed.reports)
    assert {"towary", "stany_magazynowe"} <= set(listed.tables)


@pytest.mark.parametrize("case", list(ROW_MESSAGES), ids=list(ROW_MESSAGES))
def test_a_bad_product_row_is_named_and_the_others_are_listed(case: str, listed: Listed) -> None:
    pid = product_id(case)
    problems = " | ".join(listed.problems.get(str(pid), ()))
    for fragment in ROW_MESSAGES[case]:
        assert fragment in problems, f"product {pid} ({case}): {problems!r}"
    assert listed.external_ids[pid] not in listed.offers, f"product {pid} ({case}) was listed anyway"
    _rest_proceeds(listed)


@pytest.mark.parametrize("case", list(LISTED), ids=list(LISTED))
def test_odd_but_valid_content_is_listed(case: str, listed: Listed) -> None:
    pid = product_id(case)
    offer = listed.offers.get(listed.external_ids[pid])
    assert offer is not None and not listed.problems.get(str(pid)), listed.problems.get(str(pid))
    if case == "SQL in the title":
        assert offer["name"] == INJECTION, "bound parameters keep the title as text"
    else:
        assert offer["description"]["sections"][0]["items"][0]["content"] == LISTED[case]
    _rest_proceeds(listed)


def test_every_row_case_is_in_a_table() -> None:
    assert set(CASES) == set(ROW_MESSAGES) | set(LISTED) | {"duplicate external id"}


def test_image_names_are_listed_under_the_configured_image_base_url(tmp_path: Path) -> None:
    case = "image that is not a URL"
    names = ["UPDATE towary SET zdjecia = 'zdjecie1.jpg, /duże/zdjęcie-2.jpg', ean = NULL WHERE id = :id"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ALLEGRO_CLIENT_SECRET", "emulator-secret")
        listed = build_and_list(
            tmp_path, cases={case: names}, warehouse_settings='image_base_url = "https://sklep.example.pl/foto/"'
        )
    pid = product_id(case)
    assert not listed.problems.get(str(pid)), listed.problems.get(str(pid))
    assert listed.offers[listed.external_ids[pid]]["images"] == [
        "https://sklep.example.pl/foto/zdjecie1.jpg",
        "https://sklep.example.pl/foto/du%C5%BCe/zdj%C4%99cie-2.jpg",
    ]


def test_a_duplicate_external_id_is_named_and_never_listed_twice(listed: Listed) -> None:
    pid = product_id("duplicate external id")
    problems = " | ".join(listed.problems.get(str(pid), ()) + listed.problems.get(str(pid + 1), ()))
    assert listed.external_ids[pid] in problems and "external" in problems, problems
    _rest_proceeds(listed)


# ---------------------------------------------------------------------------------------------- API answers

VENDOR = "application/vnd.allegro.public.v1+json"
Rewrite = Callable[[httpx.Response], Awaitable[Response]]


def _raw(body: bytes, status: int = 200, media: str = VENDOR) -> Rewrite:
    async def rewrite(_: httpx.Response) -> Response:
        return Response(body, status_code=status, media_type=media)

    return rewrite


def _edit(change: Callable[[Any], Any]) -> Rewrite:
    async def rewrite(real: httpx.Response) -> Response:
        return Response(orjson.dumps(change(real.json())), status_code=real.status_code, media_type=VENDOR)

    return rewrite


def _unknown_event(body: Any) -> Any:
    unknown = {"id": "unknown-1", "type": "PARCEL_TELEPORTED", "occurredAt": "2026-01-01T00:00:00.000Z"}
    body["events"] = [unknown, *body.get("events", [])]
    return body


def _no_line_items(body: Any) -> Any:
    for form in body.get("checkoutForms", []):
        form.pop("lineItems", None)
    return body


# name: (path, rewrite, the cycle-report error source expected (None: handled without an error))
API_CASES: dict[str, tuple[str, Rewrite, str | None]] = {
    "order journal answers malformed JSON": ("/order/events", _raw(b'{"events": [{"id": '), "allegro.orders"),
    "order journal answer without events": ("/order/events", _raw(b'{"lastEventId": "7"}'), "allegro.orders"),
    "order journal with an unknown event type": ("/order/events", _edit(_unknown_event), None),
    "order journal stuck on an empty page": ("/order/events", _raw(b'{"events": []}'), None),
    "offer journal answers an HTML error page": (
        "/sale/offer-events",
        _raw(b"<html><body>Bad gateway</body></html>", 502, "text/html"),
        "allegro.offers",
    ),
    "checkout forms without line items": ("/order/checkout-forms", _edit(_no_line_items), "allegro.sweep"),
}


class Proxy:
    """Forwards everything to the emulator app, except the answers of one path while `active`."""

    def __init__(self, emulator: Any, path: str, rewrite: Rewrite) -> None:
        self.upstream = httpx.AsyncClient(transport=httpx.ASGITransport(app=emulator), base_url=EMULATOR)
        self.path, self.rewrite, self.active = path, rewrite, False
        self.app = Starlette(routes=[Route("/{rest:path}", self.forward, methods=["GET", "POST", "PUT", "PATCH"])])

    async def forward(self, request: Request) -> Response:
        real = await self.upstream.request(
            request.method,
            request.url.path,
            params=list(request.query_params.multi_items()),
            headers={k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")},
            content=await request.body(),
        )
        if self.active and request.url.path == self.path:
            return await self.rewrite(real)
        headers = {k: v for k, v in real.headers.items() if k.lower() not in ("content-length", "content-encoding")}
        return Response(real.content, status_code=real.status_code, headers=headers)


@pytest.mark.anyio
@pytest.mark.parametrize("case", API_CASES, ids=list(API_CASES))
async def test_a_bad_answer_stops_only_its_source_and_loses_nothing(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, rewrite, source = API_CASES[case]
    monkeypatch.setenv("ALLEGRO_CLIENT_SECRET", "emulator-secret")
    warehouse = f"sqlite:///{tmp_path / 'warehouse.db'}"
    create_sample_warehouse(warehouse, products=8, seed=2)
    settings = load_settings(write_config(tmp_path, 8))
    upgrade(settings.engine.state_url.reveal())
    emulator = create_app(EmulatorConfig(seed=2, base_url=EMULATOR))
    proxy = Proxy(emulator, path, rewrite)
    transport = httpx.ASGITransport(app=proxy.app)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=emulator), base_url=EMULATOR) as control:
        await log_in(control, settings)
        async with open_context(settings, transport=transport) as ctx:
            for _ in range(3):
                await run_once(ctx)
                await control.post("/__emulator/clock", json={"advance_seconds": 3})
            offers = [o for o in (await control.get("/__emulator/offers")).json()["offers"] if o.get("external")]
            bought, delivered = [o for o in offers if o["stock"]["available"] >= 2][:2]
            purchase = (
                await control.post(
                    "/__emulator/purchases", json={"offer_id": bought["id"], "quantity": 1, "paid": True}
                )
            ).json()
            delivered_pid = int(delivered["external"]["id"].removeprefix("TW-"))
            add_stock(warehouse, delivered_pid, 3)
            proxy.active = True
            report = await run_once(ctx)
            proxy.active = False
            # the bad answer is named, and nothing else stopped
            assert report.stopped is None, report.stopped
            if source is not None:
                assert any(e.startswith(source) for e in report.errors), report.errors
            assert report.events_in["warehouse"] >= 1, "the warehouse was not read"
            assert report.commands_out["change_quantity"] >= 1, f"the delivery was not published: {report.as_dict()}"
            # nothing lost: once the answers are good again, the purchase is taken off stock once
            for _ in range(3):
                await control.post("/__emulator/clock", json={"advance_seconds": 3})
                await run_once(ctx)
            key = f"sale:{purchase['checkout_form_id']}:{purchase['line_item_id']}"
    await proxy.upstream.aclose()
    engine = create_engine(warehouse)
    try:
        with engine.connect() as connection:
            applied = [k for (k,) in connection.execute(text("SELECT key FROM allegro_sync_applied"))]
    finally:
        engine.dispose()
    assert applied.count(key) == 1, applied


def test_the_tables_hold_at_least_forty_cases() -> None:
    total = len(CONFIG_CASES) + len(WAREHOUSE_CASES) + len(CASES) + len(API_CASES) + 2
    assert total >= 40, total


@pytest.mark.anyio
async def test_a_purchase_is_taken_off_the_product_of_its_offer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALLEGRO_CLIENT_SECRET", "emulator-secret")
    warehouse = f"sqlite:///{tmp_path / 'warehouse.db'}"
    create_sample_warehouse(warehouse, products=4, seed=4)
    engine = create_engine(warehouse)
    with engine.begin() as c:
        c.execute(
            text(
                "UPDATE towary SET wystawiaj = 'T', kategoria = 'ELEKTRONIKA', stan_techniczny = 'N', cena = '49,99', "
                "nazwa = 'Kabel HDMI 2.1 złocony ' || id || ' m'"
            )
        )
        c.execute(text("UPDATE towary SET symbol = 'TW-DUP' WHERE id IN (1, 2)"))
        c.execute(text("UPDATE stany_magazynowe SET ilosc = CASE towar_id WHEN 1 THEN 2 WHEN 2 THEN 9 ELSE 5 END"))
    settings = load_settings(write_config(tmp_path, 4))
    upgrade(settings.engine.state_url.reveal())
    transport = httpx.ASGITransport(app=create_app(EmulatorConfig(seed=4, base_url=EMULATOR)))
    async with httpx.AsyncClient(transport=transport, base_url=EMULATOR) as control:
        await log_in(control, settings)
        async with open_context(settings, transport=transport) as ctx:
            for _ in range(3):
                await run_once(ctx)
                await control.post("/__emulator/clock", json={"advance_seconds": 3})
            offers = [o for o in (await control.get("/__emulator/offers")).json()["offers"] if o.get("external")]
            product_1 = next(o for o in offers if o["external"]["id"] == "TW-DUP" and o["stock"]["available"] == 2)
            order = {"offer_id": product_1["id"], "quantity": 2, "paid": True}
            (await control.post("/__emulator/purchases", json=order)).raise_for_status()
            for _ in range(3):
                await run_once(ctx)
                await control.post("/__emulator/clock", json={"advance_seconds": 3})
    with engine.connect() as c:
        stock: dict[int, int] = {
            int(k): int(v) for k, v in c.execute(text("SELECT towar_id, ilosc FROM stany_magazynowe"))
        }
    engine.dispose()
    assert (stock[1], stock[2]) == (0, 9), stock
