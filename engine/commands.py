"""Frozen command types: what the reducer decides to do, with deterministic ids and a human reason.

A command id is a uuid5 of its kind, its target and its cause, so replaying the ledger produces the same
ids, and the outbox (and Allegro, and the warehouse's applied-keys table) can recognise a repeat.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from engine.codec import to_plain

NAMESPACE = uuid.UUID("6f0b3a52-3f5e-5c1d-9a57-a11e60c0ffee")


def command_id(kind: str, target: str, cause: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{kind}|{target}|{cause}"))


@dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    KIND: ClassVar[str] = ""
    id: str
    reason: str

    @property
    def target(self) -> str:
        raise NotImplementedError

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = to_plain(self)
        del data["id"], data["reason"]
        return data


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateOffer(Command):
    """Adopt the offer with this external id if one exists, else create it (POST /sale/product-offers)."""

    KIND = "create_offer"
    product_id: str
    external_id: str
    ean: str | None
    body: dict[str, Any]
    content_hash: str

    @property
    def target(self) -> str:
        return self.product_id


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateOffer(Command):
    """PATCH title, description, images or parameters."""

    KIND = "update_offer"
    offer_id: str
    patch: dict[str, Any]
    content_hash: str

    @property
    def target(self) -> str:
        return self.offer_id


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangePrice(Command):
    """One offer's share of a price-change command; offers with the same price share one Allegro command."""

    KIND = "change_price"
    offer_id: str
    price: Decimal

    @property
    def target(self) -> str:
        return self.offer_id


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeQuantity(Command):
    """One offer's share of a GAIN quantity command; offers with the same delta share one Allegro command."""

    KIND = "change_quantity"
    offer_id: str
    delta: int

    @property
    def target(self) -> str:
        return self.offer_id


@dataclass(frozen=True, slots=True, kw_only=True)
class EndOffer(Command):
    """PATCH stock 0 (purpose `zero`) or publication ENDED (purpose `unlist`)."""

    KIND = "end_offer"
    offer_id: str
    purpose: str

    @property
    def target(self) -> str:
        return self.offer_id


@dataclass(frozen=True, slots=True, kw_only=True)
class RestockOffer(Command):
    """One PATCH with stock and ACTIVE for an offer that nobody can buy (ended): race-free."""

    KIND = "restock_offer"
    offer_id: str
    available: int

    @property
    def target(self) -> str:
        return self.offer_id


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyOffer(Command):
    """Read an offer back (after a cancellation or a failed command) before anything is increased."""

    KIND = "verify_offer"
    offer_id: str

    @property
    def target(self) -> str:
        return self.offer_id


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeStock(Command):
    """Change warehouse stock by `delta` exactly once under `key` (an order line's decrement or restore)."""

    KIND = "change_stock"
    key: str
    product_id: str
    delta: int

    @property
    def target(self) -> str:
        return self.product_id


@dataclass(frozen=True, slots=True, kw_only=True)
class WriteBack(Command):
    """Tell the warehouse which offer a product has and why it has none (`[warehouse].offer_linked`)."""

    KIND = "write_back"
    product_id: str
    offer_id: str | None
    status: str | None
    problem: str | None

    @property
    def target(self) -> str:
        return self.product_id


COMMAND_TYPES: dict[str, type[Command]] = {
    cls.KIND: cls
    for cls in (
        CreateOffer,
        UpdateOffer,
        ChangePrice,
        ChangeQuantity,
        EndOffer,
        RestockOffer,
        VerifyOffer,
        ChangeStock,
        WriteBack,
    )
}
ALLEGRO_WRITES = frozenset(
    {
        CreateOffer.KIND,
        UpdateOffer.KIND,
        ChangePrice.KIND,
        ChangeQuantity.KIND,
        EndOffer.KIND,
        RestockOffer.KIND,
    }
)
