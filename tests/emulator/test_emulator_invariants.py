"""Random walks through the emulator's world must keep Allegro's invariants (and every answer in the spec)."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from starlette.applications import Starlette

from emulator.state import EmulatorState
from tests.emulator.seller_api import SellerApi, quantity_command

pytestmark = pytest.mark.anyio
STEPS = 120


async def _random_step(seller: SellerApi, rng: random.Random, offers: list[str], forms: list[str], step: int) -> None:
    action = rng.choice(("create", "buy", "buy", "panel", "patch", "gain", "fixed", "publish", "pay", "cancel", "time"))
    offer_id = rng.choice(offers) if offers else None
    if action == "create" or offer_id is None:
        created = await seller.create_offer(stock={"available": rng.randint(1, 6)}, external={"id": f"S{step}"})
        offers.append(created["id"])
    elif action == "buy":
        response = await seller.control(
            "POST", "purchases", {"offer_id": offer_id, "quantity": rng.randint(1, 3), "paid": rng.random() < 0.5}
        )
        assert response.status_code in (201, 409)
        if response.status_code == 201:
            forms.append(response.json()["checkout_form_id"])
    elif action == "panel":
        change = rng.choice(
            (
                {"stock": rng.randint(0, 5)},
                {"price": "9.99"},
                {"status": "ENDED"},
                {"status": "ACTIVE", "stock": rng.randint(1, 4)},
            )
        )
        assert (await seller.control("PATCH", f"offers/{offer_id}", change)).status_code == 200
    elif action == "patch":
        body = rng.choice(
            (
                {"stock": {"available": rng.randint(0, 5)}},
                {"publication": {"status": "ENDED"}},
                {"stock": {"available": rng.randint(1, 5)}, "publication": {"status": "ACTIVE"}},
            )
        )
        assert (await seller.patch(f"/sale/product-offers/{offer_id}", body)).status_code == 200
    elif action in ("gain", "fixed"):
        change_type = "GAIN" if action == "gain" else "FIXED"
        value = rng.randint(-3, 3) if change_type == "GAIN" else rng.randint(0, 6)
        response = await seller.command(
            "offer-quantity-change-commands", f"q-{step}", quantity_command([offer_id], change_type, value)
        )
        assert response.status_code == 201
    elif action == "publish":
        criteria = [{"type": "CONTAINS_OFFERS", "offers": [{"id": offer_id}]}]
        command: dict[str, object] = {
            "publication": {"action": rng.choice(("ACTIVATE", "END"))},
            "offerCriteria": criteria,
        }
        assert (await seller.command("offer-publication-commands", f"p-{step}", command)).status_code == 201
    elif action in ("pay", "cancel") and forms:
        form_id = rng.choice(forms)
        request = {"checkout_form_id": form_id, "by": rng.choice(("BUYER", "AUTO", "SELLER"))}
        response = await seller.control("POST", "payments" if action == "pay" else "cancellations", request)
        assert response.status_code in (200, 409)
    elif action == "time":
        await seller.advance(rng.choice((1, 30, 600)))


def _check_invariants(state: EmulatorState) -> None:
    world = state.world
    bought: Counter[str] = Counter()
    for form in world.forms.values():
        for line in form.body["lineItems"]:
            bought[line["offer"]["id"]] += line["quantity"]
    for offer in world.offers.values():
        available, status = offer.body["stock"]["available"], offer.body["publication"]["status"]
        assert available >= 0
        assert status != "ACTIVE" or available >= 1, f"offer {offer.id} is ACTIVE with {available}"
        assert offer.sold == bought[offer.id]
    bought_events = Counter(event.order["checkoutForm"]["id"] for event in world.order_events if event.type == "BOUGHT")
    assert bought_events == Counter({form_id: 1 for form_id in world.forms})
    order_seqs = [event.seq for event in world.order_events]
    assert order_seqs == sorted(set(order_seqs))
    offer_seqs = [event.seq for event in world.offer_events]
    assert offer_seqs == sorted(set(offer_seqs))


@pytest.mark.parametrize("seed", range(4))
async def test_random_walk_keeps_allegros_invariants(seller: SellerApi, emulator_app: Starlette, seed: int) -> None:
    await seller.faults(seed=seed, cancellation_restores_stock=seed % 2 == 1)
    rng = random.Random(seed)
    offers: list[str] = []
    forms: list[str] = []
    for step in range(STEPS):
        await _random_step(seller, rng, offers, forms, step)
    _check_invariants(emulator_app.state.emulator)
