"""Audit replay over the scripted world: timelines say what happened and why; --verify catches tampering."""

from __future__ import annotations

import orjson
import pytest
from sqlalchemy import text

from adapters.ledger import open_ledger
from tests.audit.conftest import World, cli

pytestmark = pytest.mark.anyio


def _timeline(world: World, *args: str) -> list[dict[str, str]]:
    code, out, err = cli(world.config, "replay", *args, "--json")
    assert (code, err) == (0, ""), out
    entries: list[dict[str, str]] = orjson.loads(out)
    return entries


def _in_order(entries: list[dict[str, str]], expected: list[tuple[str, str, str]]) -> None:
    """Each (kind, what starts with, detail contains) appears, in this order."""
    position = 0
    for kind, what, detail in expected:
        for index in range(position, len(entries)):
            e = entries[index]
            if e["kind"] == kind and e["what"].startswith(what) and detail in e["detail"]:
                position = index + 1
                break
        else:
            shown = "\n".join(f"{e['seq']} {e['kind']} {e['what']}: {e['detail']}" for e in entries)
            raise AssertionError(f"no {kind} {what!r} with {detail!r} after entry {position}:\n{shown}")


async def test_product_timeline_tells_the_cancelled_sale_from_listing_to_restored_stock(world: World) -> None:
    pid, offer, form = world.trade["cancelled"], world.trade["cancelled_offer"], world.trade["cancelled_form"]
    entries = _timeline(world, "--product", pid)
    _in_order(
        entries,
        [
            ("observed", f"ProductObserved {pid}", "list True"),
            ("decided", f"create_offer {pid} [done]", f"product {pid} is marked for listing and has no offer"),
            ("outcome", f"OfferCreated {pid}", f"created offer {offer}: ACTIVE"),
            ("observed", f"OrderEventObserved {form}", f"BOUGHT: 1 x offer {offer}"),
            ("decided", f"change_stock {pid} [done]", "take 1 off stock"),
            ("observed", f"OrderEventObserved {form}", f"BUYER_CANCELLED: 1 x offer {offer}"),
            ("outcome", f"StockApplied {pid}", f"warehouse -1 under key sale:{form}:"),
            ("decided", f"change_stock {pid} [done]", "was cancelled: give 1 back"),
            ("outcome", f"StockApplied {pid}", f"warehouse +1 under key restore:{form}:"),
        ],
    )
    assert [int(e["seq"]) for e in entries] == sorted(int(e["seq"]) for e in entries)
    until = int(next(e["seq"] for e in entries if "BUYER_CANCELLED" in e["detail"])) - 1
    before_cancel = _timeline(world, "--product", pid, "--until", str(until))
    assert not any("BUYER_CANCELLED" in e["detail"] or "give 1 back" in e["detail"] for e in before_cancel)


async def test_order_timeline_shows_the_purchase_and_the_decrement_it_caused(world: World) -> None:
    form, offer, pid = world.trade["sold_form"], world.trade["sold_offer"], world.trade["sold"]
    entries = _timeline(world, "--order", form)
    _in_order(
        entries,
        [
            ("observed", f"OrderEventObserved {form}", f"BOUGHT: 2 x offer {offer}"),
            ("decided", f"change_stock {pid} [done]", "take 2 off stock"),
        ],
    )
    code, out, _ = cli(world.config, "replay", "--product", pid)
    assert code == 0 and "BOUGHT" in out and "take 2 off stock" in out


async def test_verify_passes_then_catches_an_altered_projection_row_and_command(world: World) -> None:
    code, out, _ = cli(world.config, "replay", "--verify")
    assert (code, out) == (0, "the projection and the outbox match a rebuild from zero\n")
    pid = world.trade["sold"]
    with open_ledger(world.settings.engine.state_url.reveal()) as ledger, ledger.engine.begin() as connection:
        row = connection.execute(
            text("SELECT data FROM projection WHERE kind = 'product' AND key = :k"), {"k": pid}
        ).scalar_one()
        data = orjson.loads(row)
        data["stock"] += 5
        connection.execute(
            text("UPDATE projection SET data = :d WHERE kind = 'product' AND key = :k"),
            {"d": orjson.dumps(data).decode(), "k": pid},
        )
        command_id = connection.execute(
            text("SELECT id FROM commands WHERE kind = 'change_stock' LIMIT 1")
        ).scalar_one()
        connection.execute(
            text("UPDATE commands SET payload = REPLACE(payload, :old, :new) WHERE id = :id"),
            {"old": '"delta":-', "new": '"delta":-1', "id": command_id},
        )
    code, out, _ = cli(world.config, "replay", "--verify")
    assert code == 1
    assert f"projection product {pid}: differs in stock" in out.splitlines()
    assert any(line.startswith(f"command {command_id}: stored change_stock") for line in out.splitlines())
    code, out, _ = cli(world.config, "replay", "--verify", "--json")
    assert code == 1 and f"projection product {pid}: differs in stock" in orjson.loads(out)["differences"]
