"""Value types that cross the ports: what adapters read and what they are asked to write.

Everything here is a frozen dataclass of plain values (str, int, Decimal, datetime, tuples) so that it can be
compared, hashed and turned into an event payload without surprises.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Generic, TypeVar

T = TypeVar("T")

# ---------------------------------------------------------------------------------------------- warehouse


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductRow:
    """One normalized row of `[warehouse].products_query`.

    `row_hash` covers every column except `stock` and `updated_at`: stock is compared on its own every
    cycle, and the watermark is not content.
    """

    product_id: str
    external_id: str
    stock: int
    title: str | None = None
    price: Decimal | None = None
    list: bool = False
    category: str | None = None
    condition: str | None = None
    ean: str | None = None
    description: str | None = None
    images: tuple[str, ...] = ()
    extra: tuple[tuple[str, str], ...] = ()
    """Any other selected columns (name, text value), sorted by name; used by column-driven parameters."""
    row_hash: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class RowProblem:
    """A row that cannot be used; it concerns this product only."""

    product_id: str
    problems: tuple[str, ...]
    row_hash: str


@dataclass(frozen=True, slots=True, kw_only=True)
class KnownProduct:
    """What the projection last saw of a product: the content hash and the stock."""

    row_hash: str
    stock: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class WarehouseDelta:
    """The difference between the warehouse now and what the projection knows.

    `changed` rows have a new content hash (or are new); `stock_changed` are (product_id, stock) pairs whose
    content is unchanged but whose stock differs; `removed` products are known but no longer returned by
    the query; `rejected` rows could not be normalized (only when their problem is new). `watermark` is the
    opaque `updated_at` high-water mark to pass back next time (None when the query has no `updated_at`).
    """

    changed: tuple[ProductRow, ...] = ()
    stock_changed: tuple[tuple[str, int], ...] = ()
    removed: tuple[str, ...] = ()
    rejected: tuple[RowProblem, ...] = ()
    watermark: str | None = None


class StockApplyStatus(StrEnum):
    APPLIED = "APPLIED"
    ALREADY_APPLIED = "ALREADY_APPLIED"
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True, kw_only=True)
class StockChange:
    """Change a product's warehouse stock by `delta` (negative: decrement), exactly once per `key`."""

    key: str
    product_id: str
    delta: int


@dataclass(frozen=True, slots=True, kw_only=True)
class StockChangeResult:
    key: str
    status: StockApplyStatus
    error: str | None = None
    retryable: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferLink:
    """Write-back to the warehouse (`[warehouse].offer_linked`): which offer a product has, and why not."""

    product_id: str
    offer_id: str | None
    status: str | None
    problem: str | None


# ---------------------------------------------------------------------------------------------- allegro


class OfferStatus(StrEnum):
    INACTIVE = "INACTIVE"
    ACTIVATING = "ACTIVATING"
    ACTIVE = "ACTIVE"
    ENDED = "ENDED"
    ARCHIVED = "ARCHIVED"
    """Not an Allegro status: the offer is gone (archived after 60 days, or 404)."""

    @property
    def buyable(self) -> bool:
        return self in (OfferStatus.ACTIVE, OfferStatus.ACTIVATING)


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferSnapshot:
    """An offer as read from Allegro (`/parts`, `GET /sale/offers`, a create or PATCH answer)."""

    offer_id: str
    external_id: str | None
    status: OfferStatus
    available: int
    price: Decimal | None
    read_at: datetime
    """Allegro's clock (the `Date` header of the answer)."""
    ended_by: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferEvent:
    """One entry of `GET /sale/offer-events`."""

    event_id: str
    type: str
    occurred_at: datetime
    offer_id: str
    external_id: str | None
    ended_by: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderLine:
    line_id: str
    offer_id: str
    external_id: str | None
    quantity: int
    bought_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderEvent:
    """One entry of `GET /order/events`."""

    event_id: str
    type: str
    occurred_at: datetime
    checkout_form_id: str
    revision: str | None
    lines: tuple[OrderLine, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckoutForm:
    """A checkout form (order) as read by the sweep."""

    checkout_form_id: str
    status: str
    revision: str | None
    updated_at: datetime | None
    lines: tuple[OrderLine, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class JournalPage(Generic[T]):
    """One page of a journal: its entries, oldest first, and Allegro's clock at the time of the read.

    `caught_up` is true when the page was shorter than the limit (nothing more to read now).
    """

    entries: tuple[T, ...]
    read_at: datetime
    caught_up: bool


class TaskStatus(StrEnum):
    NEW = "NEW"
    SUCCESS = "SUCCESS"
    FAIL = "FAIL"


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskOutcome:
    offer_id: str
    status: TaskStatus
    message: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandReport:
    """The state of an Allegro batch command: done when `completed` and every task is terminal."""

    command_id: str
    completed: bool
    tasks: tuple[TaskOutcome, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class CategoryParameter:
    parameter_id: str
    name: str
    type: str
    required: bool
    dictionary: tuple[tuple[str, str], ...] = ()
    """(value id, value) pairs of a dictionary parameter."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CatalogueProduct:
    product_id: str
    name: str
    images: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferRejection:
    """Allegro refused an offer (422): every reason it gave."""

    reasons: tuple[str, ...]
