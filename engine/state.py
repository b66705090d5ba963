"""The projection: what the engine believes about products, offers and order lines, folded from the ledger.

Entities are small mutable records owned by one `State`; the reducer is their only writer. `dirty` collects
what changed since the last save so that a cycle writes only those rows. Everything here is derived data:
dropping it and folding the ledger from zero gives the same state (`allegro-sync replay --verify`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.codec import from_plain, to_plain
from engine.model import CategoryParameter, OfferStatus, ProductRow
from engine.policy import Policy

# Order line statuses.
SEEN = "SEEN"
"""Bought on Allegro, not yet taken off warehouse stock: counts in `pending`."""
DECREMENTING = "DECREMENTING"
APPLIED = "APPLIED"
CANCELLED = "CANCELLED"
"""Cancelled before it was taken off warehouse stock: never will be."""
RESTORING = "RESTORING"
RESTORED = "RESTORED"
UNMAPPED = "UNMAPPED"
"""Its offer maps to no product: reported, blocks nothing."""


@dataclass(slots=True, kw_only=True)
class ProductState:
    product_id: str
    external_id: str
    row: ProductRow | None = None
    stock: int | None = None
    """W: warehouse stock last observed, adjusted by our own applied changes."""
    row_hash: str = ""
    pending: int = 0
    """P: units bought on Allegro and not yet taken off warehouse stock."""
    removed: bool = False
    offer_id: str | None = None
    """The offer the engine manages for this product (created or adopted)."""
    creating: str | None = None
    """Id of the CreateOffer command in flight."""
    problems: tuple[str, ...] = ()
    rejected_hash: str | None = None
    """Listing content that was rejected; listing is retried only when the product changes."""
    hold_until: datetime | None = None
    """No increase until the order journal has covered this Allegro time."""
    unknown: str | None = None
    """Why the product's stock cannot be trusted now (a bad row): increases are frozen, decreases still go."""


@dataclass(slots=True, kw_only=True)
class OfferState:
    offer_id: str
    product_id: str | None
    status: OfferStatus
    expected: int
    """E: the modelled `stock.available`."""
    shadow: int = 0
    """Units of an end or an unexplained drop that may have been sold but not yet seen."""
    baseline_at: datetime | None = None
    """Allegro time of the last absolute knowledge of the stock; purchases before it are already in it."""
    ended_by: str | None = None
    price: Decimal | None = None
    content_hash: str = ""
    inflight: str | None = None
    inflight_kind: str | None = None
    needs_verify: bool = False
    """Increases wait until the offer is read back (after a cancellation, a failure or an ambiguous read)."""
    verify_reason: str = ""


@dataclass(slots=True, kw_only=True)
class LineState:
    key: str
    checkout_form_id: str
    line_id: str
    offer_id: str
    product_id: str | None
    quantity: int
    bought_at: datetime | None
    status: str
    cancelled: bool = False


@dataclass(slots=True, kw_only=True)
class FormState:
    checkout_form_id: str
    lines: tuple[str, ...] = ()
    ready: bool = False
    cancelled: bool = False


@dataclass(slots=True, kw_only=True)
class State:
    policy: Policy = field(default_factory=Policy)
    products: dict[str, ProductState] = field(default_factory=dict)
    offers: dict[str, OfferState] = field(default_factory=dict)
    lines: dict[str, LineState] = field(default_factory=dict)
    forms: dict[str, FormState] = field(default_factory=dict)
    categories: dict[str, tuple[CategoryParameter, ...]] = field(default_factory=dict)
    covered_until: datetime | None = None
    by_external: dict[str, str] = field(default_factory=dict)
    """external id -> product id (derived)."""
    held: set[str] = field(default_factory=set)
    """Products with a `hold_until` (derived)."""
    product_offers: dict[str, set[str]] = field(default_factory=dict)
    """product id -> ids of the offers linked to it (derived)."""
    dirty: set[tuple[str, str]] = field(default_factory=set)
    words: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    """One object for each category, condition and column name of the product rows (see `shared_row`)."""

    def touch(self, kind: str, key: str) -> None:
        self.dirty.add((kind, key))

    def ensure_product(self, product_id: str, external_id: str | None = None) -> ProductState:
        """The product's record, created on first sight; a changed external id is re-indexed (unless another
        product holds it: see `external_id_owner`)."""
        product = self.products.get(product_id)
        if product is None:
            product = self.products[product_id] = ProductState(
                product_id=product_id, external_id=external_id or product_id
            )
            self.by_external.setdefault(product.external_id, product_id)
        elif external_id is not None and external_id != product.external_id:
            if self.by_external.get(product.external_id) == product_id:
                del self.by_external[product.external_id]
            product.external_id = external_id
            self.by_external.setdefault(external_id, product_id)
        self.touch("product", product_id)
        return product

    def shared_row(self, product: ProductState, row: ProductRow) -> ProductRow:
        """`row` (equal) holding no copy of a string its product or another row already holds: the ids and
        the hash are the product's, the category, condition and column names one object for every row.
        A hundred thousand products otherwise keep a few hundred thousand copies of the same few words."""
        words = self.words
        return replace(
            row,
            product_id=_same(row.product_id, product.product_id),
            external_id=_same(row.external_id, product.external_id),
            row_hash=_same(row.row_hash, product.row_hash),
            category=None if row.category is None else words.setdefault(row.category, row.category),
            condition=None if row.condition is None else words.setdefault(row.condition, row.condition),
            extra=tuple((words.setdefault(name, name), value) for name, value in row.extra),
        )

    def external_id_owner(self, external_id: str, product_id: str) -> str | None:
        """Another product that already uses this external id (and is still in the warehouse), if any."""
        owner = self.by_external.get(external_id)
        if owner is None or owner == product_id or self.products[owner].removed:
            return None
        return owner

    def product_for(self, external_id: str | None, offer_id: str | None) -> ProductState | None:
        """The product an order line or an offer belongs to: by its offer's link first (the external id
        may have been edited since), then by the external id."""
        offer = self.offers.get(offer_id) if offer_id is not None else None
        if offer is not None and offer.product_id is not None:
            return self.products.get(offer.product_id)
        if external_id is not None and external_id in self.by_external:
            return self.products[self.by_external[external_id]]
        return None

    def offers_of(self, product: ProductState) -> list[OfferState]:
        """The product's managed offer first, then any other offer linked to it (seller's duplicates)."""
        found = [self.offers[i] for i in self.product_offers.get(product.product_id, ())]
        return sorted(found, key=lambda o: (o.offer_id != product.offer_id, o.offer_id))

    def link(self, offer: OfferState, product_id: str | None) -> None:
        if offer.product_id is not None:
            self.product_offers.get(offer.product_id, set()).discard(offer.offer_id)
        offer.product_id = product_id
        if product_id is not None:
            self.product_offers.setdefault(product_id, set()).add(offer.offer_id)
        self.touch("offer", offer.offer_id)


_ROW_TYPES: dict[str, type[Any]] = {
    "product": ProductState,
    "offer": OfferState,
    "line": LineState,
    "form": FormState,
}


class EncodedRows(Mapping[tuple[str, str], dict[str, Any]]):
    """Projection rows of `state`, each encoded (`to_plain`) when it is read: a fold that changed every
    product (the initial import of a warehouse) hands them to the ledger without building all of them first.
    Read it before the state changes again."""

    __slots__ = ("_keys", "_state")

    def __init__(self, state: State, keys: Iterable[tuple[str, str]]) -> None:
        self._state = state
        self._keys = dict.fromkeys(keys)

    def __getitem__(self, key: tuple[str, str]) -> dict[str, Any]:
        if key not in self._keys:
            raise KeyError(key)
        encoded: dict[str, Any] = to_plain(_lookup(self._state, *key))
        return encoded

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


def to_rows(state: State, keys: set[tuple[str, str]]) -> tuple[EncodedRows, list[tuple[str, str]]]:
    """Projection rows to upsert and to delete for the given (kind, key) pairs."""
    upserts: list[tuple[str, str]] = []
    deletes: list[tuple[str, str]] = []
    for kind, key in keys:
        (deletes if _lookup(state, kind, key) is None else upserts).append((kind, key))
    return EncodedRows(state, upserts), deletes


def all_rows(state: State) -> dict[tuple[str, str], dict[str, Any]]:
    keys = {("meta", "policy")} | ({("meta", "journal")} if state.covered_until is not None else set())
    keys |= {("product", k) for k in state.products}
    keys |= {("offer", k) for k in state.offers}
    keys |= {("line", k) for k in state.lines}
    keys |= {("form", k) for k in state.forms}
    keys |= {("category", k) for k in state.categories}
    return dict(to_rows(state, keys)[0])


def from_rows(rows: Mapping[tuple[str, str], Mapping[str, Any]]) -> State:
    return from_items(rows.items())


def from_items(items: Iterable[tuple[tuple[str, str], Mapping[str, Any]]]) -> State:
    """The state of projection rows given one at a time (`Ledger.read_projection`): only the state is kept."""
    state = State()
    for (kind, key), data in items:
        if kind == "meta" and key == "policy":
            state.policy = from_plain(Policy, data)
        elif kind == "meta" and key == "journal":
            covered = data.get("covered_until")
            state.covered_until = from_plain(_Journal, data).covered_until if covered else None
        elif kind == "category":
            state.categories[key] = from_plain(_Category, data).parameters
        elif kind == "product":
            product = from_plain(ProductState, data)
            product.product_id = _same(product.product_id, key)
            if product.row is not None:
                product.row = state.shared_row(product, product.row)
            state.products[key] = product
        else:
            getattr(state, _collection(kind))[key] = from_plain(_ROW_TYPES[kind], data)
    for product in state.products.values():
        state.by_external[product.external_id] = product.product_id
        if product.hold_until is not None:
            state.held.add(product.product_id)
    for offer in state.offers.values():
        if offer.product_id is not None:
            state.product_offers.setdefault(offer.product_id, set()).add(offer.offer_id)
    return state


@dataclass(frozen=True, slots=True, kw_only=True)
class _Journal:
    covered_until: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class _Category:
    parameters: tuple[CategoryParameter, ...]


def _same(value: str, held: str) -> str:
    """`held` when it is equal to `value`, so that one string object serves both."""
    return held if value == held else value


def _collection(kind: str) -> str:
    return {"product": "products", "offer": "offers", "line": "lines", "form": "forms"}[kind]


def _lookup(state: State, kind: str, key: str) -> Any:
    if kind == "meta":
        return state.policy if key == "policy" else _Journal(covered_until=state.covered_until)
    if kind == "category":
        params = state.categories.get(key)
        return None if params is None else _Category(parameters=params)
    return getattr(state, _collection(kind)).get(key)
