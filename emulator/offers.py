"""Offer lifecycle: creation, merge-patch edits, stock and price changes, activation and ending, with events."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from emulator.clock import iso
from emulator.http import error, money
from emulator.journals import emit_offer_event
from emulator.offer_rules import normalise, validation_block
from emulator.records import Json, Offer
from emulator.state import EmulatorState

PUBLISHING = ("ACTIVE", "ACTIVATING")
ARCHIVE_SECONDS = 60 * 24 * 3600
_CONTENT = (
    "name",
    "productSet",
    "category",
    "parameters",
    "images",
    "description",
    "delivery",
    "afterSalesServices",
    "payments",
    "location",
    "language",
    "external",
)


def status_of(offer: Offer) -> str:
    status: str = offer.body["publication"]["status"]
    return status


def stock_of(offer: Offer) -> int:
    available: int = offer.body["stock"]["available"]
    return available


def price_of(offer: Offer) -> Decimal:
    return Decimal(offer.body["sellingMode"]["price"]["amount"])


def _publication(status: str) -> Json:
    return {
        "status": status,
        "republish": False,
        "endingAt": None,
        "endedBy": None,
        "marketplaces": {"base": {"id": "allegro-pl"}, "additional": []},
    }


def requested_status(body: Json) -> Any:
    publication = body.get("publication")
    return publication.get("status") if isinstance(publication, dict) else None


def create(
    state: EmulatorState, seller_id: str, request: Json, *, activate_now: bool
) -> tuple[Offer | None, list[Json]]:
    """Validates and stores a new offer (INACTIVE unless ACTIVE is asked for); nothing is stored on errors."""
    wanted = requested_status(request) or "INACTIVE"
    errors: list[Json] = []
    if wanted not in ("ACTIVE", "INACTIVE"):
        errors.append(
            error(
                "ConstraintViolationException",
                "publication.status must be ACTIVE or INACTIVE",
                path="publication.status",
            )
        )
    content = normalise(
        request, activating=wanted == "ACTIVE", errors=errors, check_html=state.faults.strict_descriptions
    )
    if errors:
        return None, errors
    now = state.now()
    offer_id = state.new_offer_id()
    body = {
        "id": offer_id,
        **content,
        "publication": _publication("INACTIVE"),
        "validation": validation_block([], now),
        "createdAt": iso(now),
        "updatedAt": iso(now),
        "b2b": {"buyableOnlyByBusiness": False},
        "contact": None,
    }
    offer = Offer(id=offer_id, seller_id=seller_id, body=body, touched_at=now)
    state.world.offers[offer_id] = offer
    if wanted == "ACTIVE":
        if activate_now:
            activate(state, offer)
        else:
            offer.body["publication"]["status"] = "ACTIVATING"
    return offer, []


def touch(state: EmulatorState, offer: Offer) -> None:
    offer.touched_at = state.now()
    offer.body["updatedAt"] = iso(offer.touched_at)


def live(state: EmulatorState, offer_id: str) -> Offer | None:
    """The offer as the API sees it: archived and deleted offers are gone."""
    offer = state.world.offers.get(offer_id)
    return None if offer is None or offer.archived else offer


def archive_due(state: EmulatorState) -> None:
    """Ended offers are archived 60 days after ending (OFFER_ARCHIVED); drafts untouched for 60 days are deleted."""
    horizon = state.now() - ARCHIVE_SECONDS
    for offer in state.world.offers.values():
        if offer.archived:
            continue
        status = status_of(offer)
        if status == "ENDED" and offer.ended_at is not None and offer.ended_at <= horizon:
            offer.archived = True
            emit_offer_event(state, offer, "OFFER_ARCHIVED")
        elif status == "INACTIVE" and offer.touched_at <= horizon:
            offer.archived = True


def activate(state: EmulatorState, offer: Offer) -> None:
    if status_of(offer) == "ACTIVE":
        return
    offer.body["publication"].update({"status": "ACTIVE", "endedBy": None, "endingAt": None})
    offer.started_at = state.now()
    offer.ended_at = None
    touch(state, offer)
    emit_offer_event(state, offer, "OFFER_ACTIVATED")


def end(state: EmulatorState, offer: Offer, ended_by: str) -> None:
    if status_of(offer) == "ENDED":
        return
    emit_offer_event(state, offer, "OFFER_ENDED", ended_by=ended_by)
    offer.body["publication"].update({"status": "ENDED", "endedBy": ended_by})
    offer.ended_at = state.now()
    touch(state, offer)


def set_stock(state: EmulatorState, offer: Offer, available: int) -> None:
    """Sets `stock.available`; on a publishing offer it emits OFFER_STOCK_CHANGED and ends it at 0."""
    if available == stock_of(offer):
        return
    offer.body["stock"]["available"] = available
    touch(state, offer)
    emit_offer_event(state, offer, "OFFER_STOCK_CHANGED")
    if available == 0 and status_of(offer) in PUBLISHING:
        end(state, offer, "EMPTY_STOCK")


def set_price(state: EmulatorState, offer: Offer, amount: Decimal, currency: str | None = None) -> None:
    current = offer.body["sellingMode"]["price"]
    if Decimal(current["amount"]) == amount and currency in (None, current["currency"]):
        return
    offer.body["sellingMode"]["price"] = money(amount, currency or current["currency"])
    touch(state, offer)
    emit_offer_event(state, offer, "OFFER_PRICE_CHANGED")


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396: objects merge recursively, `null` deletes, anything else (arrays included) replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def apply_patch(state: EmulatorState, offer: Offer, patch: Json) -> list[Json]:
    """Applies a merge patch as Allegro does; returns `errors[]` (ENDED is applied even when they are not empty)."""
    wanted = requested_status(patch)
    if wanted == "ENDED":
        end(state, offer, "USER")
    merged = merge_patch(offer.body, patch)
    errors: list[Json] = []
    if wanted not in (None, "ACTIVE", "ENDED", status_of(offer)):
        errors.append(
            error(
                "ConstraintViolationException",
                f"publication.status cannot be set to {wanted}",
                path="publication.status",
            )
        )
    content = normalise(
        merged,
        activating=wanted == "ACTIVE" and status_of(offer) not in PUBLISHING,
        errors=errors,
        check_html=state.faults.strict_descriptions,
    )
    if errors:
        return errors
    old_content = {key: offer.body.get(key) for key in _CONTENT}
    old_price = price_of(offer)
    new_stock = content.pop("stock")
    new_selling = content.pop("sellingMode")
    changed = any(old_content.get(key) != content.get(key) for key in _CONTENT)
    offer.body.update(content)
    if "external" not in content:
        offer.body.pop("external", None)
    offer.body["stock"]["unit"] = new_stock["unit"]
    if changed:
        touch(state, offer)
        emit_offer_event(state, offer, "OFFER_CHANGED")
    new_price = Decimal(new_selling["price"]["amount"])
    if new_price != old_price:
        set_price(state, offer, new_price, new_selling["price"]["currency"])
    if wanted == "ACTIVE" and status_of(offer) not in PUBLISHING:
        offer.body["stock"]["available"] = new_stock["available"]
        activate(state, offer)
    else:
        set_stock(state, offer, new_stock["available"])
    return []
