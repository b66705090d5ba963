"""Frozen, versioned event types: every fact the engine observed or decided, as stored in the ledger.

An event's class fixes its stream, type name and version; `encode` turns it into a ledger envelope and
`decode` turns an envelope (of any older version, through `engine.upcasting`) back into the current class.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from engine.codec import format_time, from_plain, to_plain
from engine.model import (
    CategoryParameter,
    CheckoutForm,
    OfferEvent,
    OfferSnapshot,
    OrderEvent,
    ProductRow,
    RowProblem,
)
from engine.policy import Policy
from engine.ports import NewEvent, StoredEvent
from engine.upcasting import upcast

WAREHOUSE = "warehouse"
ORDERS = "allegro.orders"
OFFERS = "allegro.offers"
ENGINE = "engine"
OPERATOR = "operator"


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Base of every event; `occurred_at` is the source's own time (Allegro's clock for Allegro facts)."""

    STREAM: ClassVar[str] = ""
    VERSION: ClassVar[int] = 1
    occurred_at: datetime

    @property
    def entity(self) -> str:
        raise NotImplementedError


# ---------------------------------------------------------------------------------------------- warehouse


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductObserved(Event):
    STREAM = WAREHOUSE
    product: ProductRow

    @property
    def entity(self) -> str:
        return self.product.product_id


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductStockObserved(Event):
    STREAM = WAREHOUSE
    product_id: str
    stock: int

    @property
    def entity(self) -> str:
        return self.product_id


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductRemoved(Event):
    STREAM = WAREHOUSE
    product_id: str

    @property
    def entity(self) -> str:
        return self.product_id


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductRowRejected(Event):
    STREAM = WAREHOUSE
    problem: RowProblem

    @property
    def entity(self) -> str:
        return self.problem.product_id


# ---------------------------------------------------------------------------------------------- orders


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderEventObserved(Event):
    STREAM = ORDERS
    order: OrderEvent

    @property
    def entity(self) -> str:
        return self.order.checkout_form_id


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckoutFormObserved(Event):
    """A checkout form read by the sweep (catches seller-panel cancellations and lost events)."""

    STREAM = ORDERS
    form: CheckoutForm

    @property
    def entity(self) -> str:
        return self.form.checkout_form_id


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderJournalCovered(Event):
    """The order journal was read to its end at Allegro time `occurred_at`: nothing bought before is missing
    (give or take the journal's lag, which `journal_grace_seconds` covers)."""

    STREAM = ORDERS

    @property
    def entity(self) -> str:
        return "journal:orders"


# ---------------------------------------------------------------------------------------------- offers


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferEventObserved(Event):
    STREAM = OFFERS
    offer_event: OfferEvent

    @property
    def entity(self) -> str:
        return self.offer_event.offer_id


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferObserved(Event):
    """An offer read from Allegro; `why` says what prompted the read."""

    STREAM = OFFERS
    offer: OfferSnapshot
    why: str

    @property
    def entity(self) -> str:
        return self.offer.offer_id


@dataclass(frozen=True, slots=True, kw_only=True)
class CategoryObserved(Event):
    STREAM = OFFERS
    category_id: str
    parameters: tuple[CategoryParameter, ...]

    @property
    def entity(self) -> str:
        return f"category:{self.category_id}"


# ---------------------------------------------------------------------------------------------- engine


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyChanged(Event):
    STREAM = ENGINE
    policy: Policy

    @property
    def entity(self) -> str:
        return "policy"


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferCreated(Event):
    """An offer was created for a product, or an existing one with its external id was adopted."""

    STREAM = ENGINE
    command_id: str
    product_id: str
    offer: OfferSnapshot
    adopted: bool
    content_hash: str

    @property
    def entity(self) -> str:
        return self.product_id


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferRejected(Event):
    STREAM = ENGINE
    command_id: str
    product_id: str
    problems: tuple[str, ...]

    @property
    def entity(self) -> str:
        return self.product_id


@dataclass(frozen=True, slots=True, kw_only=True)
class QuantityChanged(Event):
    """The outcome of one offer's task in a GAIN quantity command."""

    STREAM = ENGINE
    command_id: str
    offer_id: str
    delta: int
    succeeded: bool
    message: str = ""

    @property
    def entity(self) -> str:
        return self.offer_id


@dataclass(frozen=True, slots=True, kw_only=True)
class PriceChanged(Event):
    STREAM = ENGINE
    command_id: str
    offer_id: str
    price: Decimal
    succeeded: bool
    message: str = ""

    @property
    def entity(self) -> str:
        return self.offer_id


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferPatched(Event):
    """A PATCH of an offer completed; `purpose` is end, unlist, restock or update."""

    STREAM = ENGINE
    command_id: str
    offer_id: str
    purpose: str
    offer: OfferSnapshot
    content_hash: str = ""
    requested: int = 0
    """The stock a restock published (the answer may already show the offer sold out again)."""

    @property
    def entity(self) -> str:
        return self.offer_id


@dataclass(frozen=True, slots=True, kw_only=True)
class StockApplied(Event):
    """A warehouse stock change ran (or had already run: `already`) under its exactly-once key."""

    STREAM = ENGINE
    command_id: str
    key: str
    product_id: str
    delta: int
    already: bool

    @property
    def entity(self) -> str:
        return self.product_id


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandFailed(Event):
    """A command failed for good (`dead`) or was given up by an operator; its target is released."""

    STREAM = ENGINE
    command_id: str
    kind: str
    target: str
    error: str
    dead: bool

    @property
    def entity(self) -> str:
        return self.target


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandSuperseded(Event):
    """A planned increase was never sent and no longer fits the newest state: dropped, its slot freed."""

    STREAM = ENGINE
    command_id: str
    target: str
    reason: str

    @property
    def entity(self) -> str:
        return self.target


@dataclass(frozen=True, slots=True, kw_only=True)
class OffersUnread(Event):
    """Offer events asked for reads that failed: the offers are verified later through the outbox."""

    STREAM = ENGINE
    offer_ids: tuple[str, ...]
    reason: str

    @property
    def entity(self) -> str:
        return "offers:unread"


@dataclass(frozen=True, slots=True, kw_only=True)
class JournalResynced(Event):
    """A journal refused our cursor (past its retention): a full reconciliation ran, then the cursor moved."""

    STREAM = ENGINE
    cursor: str
    from_position: str | None
    to_position: str | None
    reason: str

    @property
    def entity(self) -> str:
        return f"cursor:{self.cursor}"


# ---------------------------------------------------------------------------------------------- operator


@dataclass(frozen=True, slots=True, kw_only=True)
class CursorReset(Event):
    STREAM = OPERATOR
    cursor: str
    from_position: str | None
    to_position: str | None
    reason: str

    @property
    def entity(self) -> str:
        return f"cursor:{self.cursor}"


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandRetried(Event):
    STREAM = OPERATOR
    command_id: str
    reason: str

    @property
    def entity(self) -> str:
        return f"command:{self.command_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandSkipped(Event):
    """An operator gave a command up; what it targets is released as if it had failed for good."""

    STREAM = OPERATOR
    command_id: str
    kind: str
    target: str
    reason: str

    @property
    def entity(self) -> str:
        return self.target


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanApproved(Event):
    STREAM = OPERATOR
    command_ids: tuple[str, ...]
    reason: str

    @property
    def entity(self) -> str:
        return "plan"


EVENT_TYPES: dict[str, type[Event]] = {
    cls.__name__: cls
    for cls in (
        ProductObserved,
        ProductStockObserved,
        ProductRemoved,
        ProductRowRejected,
        OrderEventObserved,
        CheckoutFormObserved,
        OrderJournalCovered,
        OfferEventObserved,
        OfferObserved,
        CategoryObserved,
        PolicyChanged,
        OfferCreated,
        OfferRejected,
        QuantityChanged,
        PriceChanged,
        OfferPatched,
        StockApplied,
        CommandFailed,
        JournalResynced,
        OffersUnread,
        CommandSuperseded,
        CursorReset,
        CommandRetried,
        CommandSkipped,
        PlanApproved,
    )
}


def encode(event: Event, source_key: str) -> NewEvent:
    payload: dict[str, Any] = to_plain(event)
    payload.pop("occurred_at")
    return NewEvent(
        stream=event.STREAM,
        source_key=source_key,
        type=type(event).__name__,
        version=event.VERSION,
        entity=event.entity,
        payload=payload,
        occurred_at=event.occurred_at,
    )


def decode(stored: StoredEvent | NewEvent) -> Event:
    """The current-version event for a ledger envelope; raises KeyError for an unknown type."""
    cls = EVENT_TYPES[stored.type]
    payload = upcast(stored.type, stored.version, dict(stored.payload), cls.VERSION)
    payload["occurred_at"] = format_time(stored.occurred_at)
    return from_plain(cls, payload)
