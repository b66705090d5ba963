"""Orders: purchases, payments and cancellations (the buyer's side) and the seller's fulfillment status."""

from __future__ import annotations

import copy
from decimal import Decimal

from emulator.clock import iso
from emulator.http import money
from emulator.journals import emit_order_event
from emulator.offers import set_stock, status_of, stock_of
from emulator.records import CheckoutForm, Json, Offer
from emulator.state import EmulatorState

FULFILLMENT_STATUSES = (
    "NEW",
    "PROCESSING",
    "READY_FOR_SHIPMENT",
    "READY_FOR_PICKUP",
    "SENT",
    "PICKED_UP",
    "CANCELLED",
    "SUSPENDED",
    "RETURNED",
)
CANCEL_EVENTS = {"BUYER": "BUYER_CANCELLED", "AUTO": "AUTO_CANCELLED", "SELLER": None}


class Refused(Exception):
    """The control API asked for something impossible (answered 409 with this message)."""


def _buyer(state: EmulatorState) -> Json:
    number = state.rng.randrange(10**7, 10**8)
    return {
        "id": str(number),
        "email": f"buyer-{number}@allegromail.pl",
        "login": f"Kupujacy_{number}",
        "firstName": "Jan",
        "lastName": "Kowalski",
        "guest": False,
        "preferences": {"language": "pl-PL"},
        "address": {"street": "Grunwaldzka 182", "city": "Poznań", "postCode": "60-166", "countryCode": "PL"},
    }


def purchase(state: EmulatorState, offer: Offer, quantity: int, paid: bool, filled_in: bool = False) -> CheckoutForm:
    """A buyer takes `quantity` units: the offer loses them at once (BOUGHT), as on Allegro.

    `filled_in` adds the FILLED_IN step (delivery form filled, payment pending) before any payment.
    """
    if status_of(offer) != "ACTIVE":
        raise Refused(f"offer {offer.id} is {status_of(offer)}, not buyable")
    if quantity < 1 or quantity > stock_of(offer):
        raise Refused(f"offer {offer.id} has {stock_of(offer)} units; cannot buy {quantity}")
    now = state.now()
    price = Decimal(offer.body["sellingMode"]["price"]["amount"])
    currency = offer.body["sellingMode"]["price"]["currency"]
    line = {
        "id": state.new_uuid(),
        # Without a signature `external` is left out: the notes saw null, the spec does not allow it.
        "offer": {"id": offer.id, "name": offer.body["name"]}
        | ({"external": offer.body["external"]} if offer.body.get("external") else {}),
        "quantity": quantity,
        "originalPrice": money(price, currency),
        "price": money(price, currency),
        "boughtAt": iso(now),
        "discounts": [],
        "selectedAdditionalServices": [],
        "vouchers": [],
    }
    form_id = state.new_uuid()
    total = money(price * quantity, currency)
    body: Json = {
        "id": form_id,
        "messageToSeller": "",
        "buyer": _buyer(state),
        "payment": None,
        "status": "BOUGHT",
        "fulfillment": {"status": "NEW", "shipmentSummary": {"lineItemsSent": "NONE"}, "provider": {"id": "SELLER"}},
        "delivery": {
            "method": {"id": "7203cb90-864c-4cab-b2d1-f39c6b3c6a3d", "name": "Allegro Kurier"},
            "cost": money(Decimal("9.99"), currency),
            "smart": False,
        },
        "invoice": {"required": False},
        "lineItems": [line],
        "surcharges": [],
        "note": {"text": ""},
        "marketplace": {"id": "allegro-pl"},
        "summary": {"totalToPay": total},
        "updatedAt": iso(now),
        "revision": state.new_hex(8),
    }
    form = CheckoutForm(id=form_id, seller_id=offer.seller_id, body=body, bought_at=now, updated_at=now)
    state.world.forms[form_id] = form
    offer.sold += quantity
    set_stock(state, offer, stock_of(offer) - quantity)
    emit_order_event(state, form.seller_id, "BOUGHT", order_snapshot(form), occurred_at=now)
    if filled_in:
        form.body["status"] = "FILLED_IN"
        _touch(state, form)
        emit_order_event(state, form.seller_id, "FILLED_IN", order_snapshot(form))
    if paid:
        pay(state, form)
    return form


def _touch(state: EmulatorState, form: CheckoutForm) -> None:
    form.updated_at = state.now()
    form.body["updatedAt"] = iso(form.updated_at)
    form.body["revision"] = state.new_hex(8)


def pay(state: EmulatorState, form: CheckoutForm) -> None:
    if form.body["status"] == "CANCELLED":
        raise Refused(f"checkout form {form.id} is cancelled")
    if form.body["status"] == "READY_FOR_PROCESSING":
        raise Refused(f"checkout form {form.id} is already paid")
    total = form.body["summary"]["totalToPay"]
    form.body["payment"] = {
        "id": state.new_uuid(),
        "type": "ONLINE",
        "provider": "P24",
        "finishedAt": iso(state.now()),
        "paidAmount": dict(total),
    }
    form.body["status"] = "READY_FOR_PROCESSING"
    _touch(state, form)
    emit_order_event(state, form.seller_id, "READY_FOR_PROCESSING", order_snapshot(form))


def cancel(state: EmulatorState, form: CheckoutForm, by: str) -> None:
    """BUYER and AUTO emit their events; a SELLER cancellation only changes the form, as on Allegro."""
    if by not in CANCEL_EVENTS:
        raise ValueError("by must be BUYER, AUTO or SELLER")
    if form.body["status"] == "CANCELLED":
        raise Refused(f"checkout form {form.id} is already cancelled")
    form.body["status"] = "CANCELLED"
    _touch(state, form)
    event = CANCEL_EVENTS[by]
    if event is not None:
        emit_order_event(state, form.seller_id, event, order_snapshot(form))
    if state.faults.cancellation_restores_stock and not form.stock_restored:
        form.stock_restored = True
        for line in form.body["lineItems"]:
            offer = state.world.offers.get(line["offer"]["id"])
            if offer is not None:
                set_stock(state, offer, stock_of(offer) + int(line["quantity"]))


def set_fulfillment(state: EmulatorState, form: CheckoutForm, status: str) -> None:
    form.body["fulfillment"]["status"] = status
    _touch(state, form)
    emit_order_event(state, form.seller_id, "FULFILLMENT_STATUS_CHANGED", order_snapshot(form))


def order_snapshot(form: CheckoutForm) -> Json:
    """The `order` part of an order event, as it was when the event happened."""
    body = form.body
    buyer = body["buyer"]
    return copy.deepcopy(
        {
            "seller": {"id": form.seller_id},
            "buyer": {key: buyer[key] for key in ("id", "email", "login", "guest", "preferences")},
            "lineItems": [
                {key: line[key] for key in ("id", "offer", "quantity", "originalPrice", "price", "boughtAt")}
                for line in body["lineItems"]
            ],
            "checkoutForm": {"id": form.id, "revision": body["revision"]},
            "marketplace": {"id": "allegro-pl"},
        }
    )


def form_json(form: CheckoutForm) -> Json:
    body = {key: value for key, value in form.body.items() if value is not None}
    return copy.deepcopy(body)
