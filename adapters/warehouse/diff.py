"""Pure comparison of normalized rows with what the projection knows: changed, stock-only, removed, rejected."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from hashlib import blake2b
from typing import Any

from adapters.warehouse.normalize import STOCK_PROBLEM_PREFIX, Normalized, RowNormalizer, build
from adapters.warehouse.values import stock_value, text_value
from engine.model import KnownProduct, ProductRow, RowProblem


@dataclass(slots=True)
class DeltaParts:
    """The pieces of a WarehouseDelta while it is being assembled."""

    changed: list[ProductRow] = field(default_factory=list)
    stock_changed: list[tuple[str, int]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    rejected: list[RowProblem] = field(default_factory=list)


Seen = dict[str, tuple[int, str]]
"""Per product: Python's hash() of the raw content last read and its row hash, so that an unchanged row is
recognised without serializing it. In-process only; a 64-bit hash per product, not the content."""


@dataclass(slots=True)
class Digested:
    """Rows of one read: `items` to compare in full, and `unchanged` (product id -> stock) whose content
    hash equals what `known` has, so only their stock is compared; `seen` for the next read."""

    items: list[Normalized]
    unchanged: dict[str, int]
    seen: Seen


def digest_rows(
    normalizer: RowNormalizer, rows: Iterable[Sequence[Any]], known: Mapping[str, KnownProduct], seen: Seen
) -> Digested | None:
    """Hash every row (in one pass); normalize only the rows whose hash `known` does not have (or whose stock
    is odd). None when a product id is returned by several rows: then compare every row with `digest_all`."""
    content_of, hash_content, digest = normalizer.content_of, normalizer.hash_content, normalizer.digest
    id_position, stock_position, get, remembered = (
        normalizer.product_id_position,
        normalizer.stock_position,
        known.get,
        seen.get,
    )
    items: list[Normalized] = []
    unchanged: dict[str, int] = {}
    now: Seen = {}
    hits = 0
    for raw in rows:
        raw_id = raw[id_position]
        product_id = str(raw_id) if type(raw_id) is int else (text_value(raw_id) or "")
        content = content_of(raw)
        quick = hash(content)
        cached = remembered(product_id)
        if cached is None or cached[0] != quick:
            cached = (quick, hash_content(content))
        now[product_id] = cached
        row_hash = cached[1]
        previous = get(product_id)
        stock = raw[stock_position]
        if previous is not None and previous.row_hash == row_hash and type(stock) is int and stock >= 0:
            unchanged[product_id] = stock
            hits += 1
            continue
        items.append(digest(raw, row_hash))
    if hits != len(unchanged) or any(item.product_id in unchanged for item in items):
        return None
    return Digested(items, unchanged, now)


def digest_all(normalizer: RowNormalizer, rows: Iterable[Sequence[Any]]) -> Digested:
    """Every row normalized in full, nothing remembered: `index_rows` then reports a product returned by
    several rows as one problem."""
    return Digested([normalizer.digest(raw) for raw in rows], {}, {})


def index_rows(items: Sequence[Normalized]) -> dict[str, Normalized]:
    """Rows by product id; a product id returned by several rows becomes one problem."""
    by_id = {item.product_id: item for item in items}
    if len(by_id) == len(items):
        return by_id
    groups: dict[str, list[str]] = {}
    for item in items:
        groups.setdefault(item.product_id, []).append(item.row_hash)
    for product_id, hashes in groups.items():
        if len(hashes) > 1:
            digest = blake2b("\x1f".join(["duplicate", *sorted(hashes)]).encode(), digest_size=16).hexdigest()
            problem = (
                f"product_id {product_id!r} is returned by {len(hashes)} rows; products_query must return one "
                "row per product (check its JOINs)"
            )
            by_id[product_id] = Normalized(product_id, digest, None, (problem,), ())
    return by_id


def classify(by_id: Mapping[str, Normalized], known: Mapping[str, KnownProduct], parts: DeltaParts) -> None:
    """Add each row to changed, stock_changed or rejected when it differs from `known`."""
    changed, stock_changed, rejected = parts.changed, parts.stock_changed, parts.rejected
    get = known.get
    for product_id, item in by_id.items():
        seen = get(product_id)
        if item.problems:
            if seen is None or seen.row_hash != item.row_hash:
                problem = build(item)
                assert isinstance(problem, RowProblem)
                rejected.append(problem)
        elif seen is None or seen.row_hash != item.row_hash:
            row = build(item)
            assert isinstance(row, ProductRow)
            changed.append(row)
        elif seen.stock != item.stock:
            assert item.stock is not None
            stock_changed.append((product_id, item.stock))


def classify_unchanged(unchanged: Mapping[str, int], known: Mapping[str, KnownProduct], parts: DeltaParts) -> None:
    """Rows whose content `known` already has: only their stock may differ."""
    stock_changed = parts.stock_changed
    for product_id, stock in unchanged.items():
        if known[product_id].stock != stock:
            stock_changed.append((product_id, stock))


def removed_ids(known: Iterable[str], *present: Mapping[str, Any] | set[str]) -> list[str]:
    gone = list(known)
    for group in present:
        gone = [product_id for product_id in gone if product_id not in group]
    return gone


@dataclass(slots=True)
class StockScan:
    """What a stock_query read says: stock changes, ids present, and rows that need their full row read."""

    present: set[str] = field(default_factory=set)
    stock_changed: list[tuple[str, int]] = field(default_factory=list)
    refetch: dict[str, Any] = field(default_factory=dict)
    """product id -> the id value as the database returned it (to query it back with its own type)."""


def scan_stock(
    rows: Iterable[Sequence[Any]],
    id_position: int,
    stock_position: int,
    known: Mapping[str, KnownProduct],
    skip: Mapping[str, Any],
) -> StockScan:
    """Compare stock_query rows with `known`; ids in `skip` were already read in full this cycle.

    A row is read again in full when the product is unknown, when its stock became unusable (so that it is
    reported as a problem), or when it was rejected for its stock and the stock is now usable.
    """
    scan = StockScan()
    present, changes, refetch = scan.present, scan.stock_changed, scan.refetch
    get = known.get
    for row in rows:
        raw_id = row[id_position]
        product_id = str(raw_id) if type(raw_id) is int else text_value(raw_id)
        if product_id is None:
            continue
        present.add(product_id)
        if product_id in skip:
            continue
        raw_stock = row[stock_position]
        if type(raw_stock) is int and raw_stock >= 0:
            stock: int | None = raw_stock
        else:
            stock, _ = stock_value(raw_stock)
        seen = get(product_id)
        if seen is None:
            refetch[product_id] = raw_id
        elif seen.stock is None:
            if stock is not None and seen.row_hash.startswith(STOCK_PROBLEM_PREFIX):
                refetch[product_id] = raw_id
        elif stock is None:
            refetch[product_id] = raw_id
        elif stock != seen.stock:
            changes.append((product_id, stock))
    return scan
