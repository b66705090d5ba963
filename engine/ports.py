"""The ports: what the engine needs from the warehouse, Allegro and the ledger, as `typing.Protocol`s.

Each port has an in-memory adapter (`adapters/memory.py`) used by engine tests and `--dry-run`, and real
adapters under `adapters/`. Adapters raise only the classes of `engine.errors`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from engine.model import (
    CatalogueProduct,
    CategoryParameter,
    CheckoutForm,
    CommandReport,
    JournalPage,
    KnownProduct,
    OfferEvent,
    OfferLink,
    OfferSnapshot,
    OrderEvent,
    StockChange,
    StockChangeResult,
    WarehouseDelta,
)

# ---------------------------------------------------------------------------------------------- warehouse


class Warehouse(Protocol):
    """The seller's own database, reached only through the configured SQL."""

    def read_delta(self, known: Mapping[str, KnownProduct], watermark: str | None) -> WarehouseDelta:
        """Read the products and return what differs from `known` (see `WarehouseDelta`).

        Raises `RetryLater` when the database cannot be reached and `StopEngine` when the configured
        query is unusable (missing columns, not a SELECT).
        """
        ...

    def apply_stock_changes(self, changes: Sequence[StockChange]) -> list[StockChangeResult]:
        """Apply each change exactly once per key (stock statement + applied-key insert in one transaction).

        A failing change does not block the others: it gets a FAILED result with the reason.
        """
        ...

    def write_offer_links(self, links: Sequence[OfferLink]) -> None:
        """Run `[warehouse].offer_linked` for each link; a no-op when it is not configured."""
        ...


# ---------------------------------------------------------------------------------------------- allegro


class Allegro(Protocol):
    """Allegro's REST API as the engine uses it (the real client or the emulator behind it)."""

    async def order_journal_start(self) -> str | None:
        """The id of the newest order event (`/order/event-stats`), to start reading "from now"."""
        ...

    async def order_events(self, after: str | None, limit: int = 1000) -> JournalPage[OrderEvent]: ...

    async def offer_events(self, after: str | None, limit: int = 1000) -> JournalPage[OfferEvent]: ...

    async def offer_parts(self, offer_ids: Sequence[str]) -> list[OfferSnapshot]:
        """Stock, price and status of each offer (offers that no longer exist come back ARCHIVED)."""
        ...

    async def offers_by_external_id(self, external_ids: Sequence[str]) -> list[OfferSnapshot]:
        """Every offer whose `external.id` is one of these (batched 100 per request)."""
        ...

    def all_offers(self) -> AsyncIterator[OfferSnapshot]:
        """Every offer of the seller, paged (for reconciliation)."""
        ...

    async def checkout_forms(
        self, *, updated_since: datetime | None = None, bought_since: datetime | None = None
    ) -> list[CheckoutForm]: ...

    async def create_offer(self, body: Mapping[str, Any]) -> OfferSnapshot:
        """POST /sale/product-offers and follow a 202 to completion.

        Raises `SkipItem` (with every reason) on 422 and never retries the POST blindly.
        """
        ...

    async def patch_offer(self, offer_id: str, patch: Mapping[str, Any], *, idempotent: bool = True) -> OfferSnapshot:
        """PATCH an offer and follow a 202. `idempotent=False` (an absolute stock on an offer that may become
        buyable) is never re-sent after an uncertain outcome: the caller reads the offer first."""
        ...

    async def change_quantity(self, command_id: str, offer_ids: Sequence[str], delta: int) -> CommandReport:
        """PUT a GAIN quantity command (same id and body on retry) and return its report so far."""
        ...

    async def change_price(self, command_id: str, offer_ids: Sequence[str], price: Decimal) -> CommandReport: ...

    async def command_report(self, kind: str, command_id: str) -> CommandReport:
        """Poll a batch command (`kind` is `quantity`, `price` or `publication`)."""
        ...

    async def category_parameters(self, category_id: str) -> list[CategoryParameter]: ...

    async def product_by_gtin(self, ean: str) -> CatalogueProduct | None: ...


# ---------------------------------------------------------------------------------------------- ledger


@dataclass(frozen=True, slots=True, kw_only=True)
class NewEvent:
    """An event to append; `(stream, source_key)` identifies it, so appending it twice is a no-op."""

    stream: str
    source_key: str
    type: str
    version: int
    entity: str
    payload: Mapping[str, Any]
    occurred_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredEvent:
    seq: int
    stream: str
    source_key: str
    type: str
    version: int
    entity: str
    payload: Mapping[str, Any]
    occurred_at: datetime
    recorded_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class CursorState:
    name: str
    position: str | None
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandRecord:
    """One row of the outbox. `status` is pending, held (waiting for an operator), sent, done, failed or dead."""

    id: str
    kind: str
    target: str
    payload: Mapping[str, Any]
    reason: str
    caused_by: int
    status: str = "pending"
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    batch: str | None = None
    """Id of the Allegro batch command this command was sent in (stored before the PUT)."""
    created_at: datetime | None = None
    updated_at: datetime | None = None


T = TypeVar("T")

ProjectionItem = tuple[tuple[str, str], dict[str, Any]]
"""One projection row: (kind, key) and its JSON-able data."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectionChanges:
    """Rows of the projection to upsert (kind, key) -> JSON-able dict, and keys to delete."""

    upserts: Mapping[tuple[str, str], Mapping[str, Any]] = field(default_factory=dict)
    deletes: Sequence[tuple[str, str]] = ()


class Ledger(Protocol):
    """The local append-only event store with cursors, the outbox and the projection.

    Contract (checked by tests/ledger/ against every backend):
    - `append` inserts the events whose (stream, source_key) is new, in order, and moves the cursor in the
      same transaction; it returns only the events it inserted, with their seq.
    - `commit_reduction` stores the projection changes, the folded seq and new commands (an existing
      command id is left untouched) in one transaction.
    """

    def append(
        self, events: Sequence[NewEvent], *, cursor: tuple[str, str | None] | None = None
    ) -> list[StoredEvent]: ...

    def events(self, *, after_seq: int = 0, until_seq: int | None = None) -> Iterator[StoredEvent]: ...

    def events_for_entity(self, entity: str) -> list[StoredEvent]: ...

    def last_seq(self) -> int: ...

    def cursor(self, name: str) -> str | None: ...

    def cursors(self) -> list[CursorState]: ...

    def load_projection(self) -> tuple[int, dict[tuple[str, str], dict[str, Any]]]:
        """The folded seq and every projection row."""
        ...

    def read_projection(self, consume: Callable[[Iterator[ProjectionItem]], T]) -> tuple[int, T]:
        """The folded seq and what `consume` made of the projection rows, read one by one in the same
        transaction (no list of every decoded row is built: a large projection is loaded in bounded memory)."""
        ...

    def commit_reduction(
        self, *, folded_seq: int, changes: ProjectionChanges, commands: Sequence[CommandRecord]
    ) -> None: ...

    def reset_projection(self) -> None:
        """Drop every projection row and set the folded seq to 0 (rebuild from zero)."""
        ...

    def commands(self, *, statuses: Sequence[str] | None = None) -> list[CommandRecord]: ...

    def command(self, command_id: str) -> CommandRecord | None: ...

    def due_commands(self, now: datetime) -> list[CommandRecord]:
        """Pending or failed commands whose `next_attempt_at` is empty or not after `now`, oldest first."""
        ...

    def mark_sent(self, command_ids: Sequence[str], *, batch: str | None, attempts_increment: int = 1) -> None:
        """Status `sent`, the batch id and one more attempt, before the request goes out."""
        ...

    def record_outcome(
        self,
        command_id: str,
        *,
        status: str,
        attempts: int,
        next_attempt_at: datetime | None,
        last_error: str | None,
        events: Sequence[NewEvent] = (),
    ) -> list[StoredEvent]:
        """Update a command's status and append its outcome events, in one transaction."""
        ...


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...
