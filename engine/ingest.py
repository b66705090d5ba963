"""Ingest: read Allegro's journals and the warehouse, and append what is new to the ledger.

Each page of a journal is appended together with its cursor, in one transaction. Nothing is appended when
nothing changed, so an idle cycle adds no rows. Reads that only confirm the model (an offer showing what we
expect) are not recorded either.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson

from engine import events as ev
from engine.codec import format_time
from engine.context import Context
from engine.errors import Resync, RetryLater, SkipItem
from engine.fold import state_of
from engine.model import KnownProduct, OfferSnapshot
from engine.offer_rules import CHANGES_WORTH_A_READ
from engine.ports import NewEvent, Warehouse
from engine.state import State

ORDERS_CURSOR = "allegro.orders"
OFFERS_CURSOR = "allegro.offers"
WAREHOUSE_CURSOR = "warehouse.products"
RETENTION = {ORDERS_CURSOR: timedelta(days=60), OFFERS_CURSOR: timedelta(hours=24)}
"""How long Allegro keeps each journal; a cursor that has not moved for longer may point past it."""
RETENTION_MARGIN = 0.95


def check_retention(ctx: Context, name: str) -> None:
    """Allegro may answer a cursor older than its journal's retention with the oldest events it still keeps,
    silently skipping the rest: treat a cursor that has not moved for that long as lost."""
    for cursor in ctx.ledger.cursors():
        if cursor.name == name and cursor.position is not None:
            age = ctx.clock.now() - cursor.updated_at
            if age > RETENTION[name] * RETENTION_MARGIN:
                raise Resync(f"cursor {name} has not moved for {age}; the journal keeps events only {RETENTION[name]}")


async def orders_journal(ctx: Context) -> int:
    """Append new order events; remember when the journal was last read to its end."""
    ledger = ctx.ledger
    known = {c.name: c.position for c in ledger.cursors()}
    if ORDERS_CURSOR not in known:
        start = await ctx.allegro.order_journal_start()
        ledger.append([], cursor=(ORDERS_CURSOR, start))
        known[ORDERS_CURSOR] = start
    check_retention(ctx, ORDERS_CURSOR)
    position, appended = known[ORDERS_CURSOR], 0
    ctx.last_orders_read = None
    while True:
        page = await ctx.allegro.order_events(position)
        if page.entries:
            position = page.entries[-1].event_id
            batch = [
                ev.encode(ev.OrderEventObserved(occurred_at=o.occurred_at, order=o), o.event_id) for o in page.entries
            ]
            appended += len(ledger.append(batch, cursor=(ORDERS_CURSOR, position)))
        if page.caught_up:
            ctx.last_orders_read = page.read_at
            return appended


def journal_coverage(ctx: Context) -> int:
    """Record how far the order journal is covered, but only while some product waits for it."""
    state = state_of(ctx)
    read = ctx.last_orders_read
    if read is None or not state.held or (state.covered_until is not None and state.covered_until >= read):
        return 0
    if not any(state.products[p].hold_until is not None and state.products[p].hold_until <= read for p in state.held):  # type: ignore[operator]
        return 0
    event = ev.OrderJournalCovered(occurred_at=read)
    return len(ctx.ledger.append([ev.encode(event, f"covered:{format_time(read)}")]))


async def offers_journal(ctx: Context) -> int:
    """Append offer events; read back the offers whose stock, price or status may have changed."""
    ledger = ctx.ledger
    known = {c.name: c.position for c in ledger.cursors()}
    first_start = OFFERS_CURSOR not in known
    check_retention(ctx, OFFERS_CURSOR)
    position, appended = known.get(OFFERS_CURSOR), 0
    to_read: set[str] = set()
    state = state_of(ctx)
    while True:
        page = await ctx.allegro.offer_events(position)
        if page.entries:
            position = page.entries[-1].event_id
            batch = (
                []
                if first_start
                else [
                    ev.encode(ev.OfferEventObserved(occurred_at=e.occurred_at, offer_event=e), e.event_id)
                    for e in page.entries
                ]
            )
            appended += len(ledger.append(batch, cursor=(OFFERS_CURSOR, position)))
            if not first_start:
                to_read |= {
                    e.offer_id
                    for e in page.entries
                    if e.type in CHANGES_WORTH_A_READ and _relevant(state, e.offer_id, e.external_id)
                }
        elif first_start:
            ledger.append([], cursor=(OFFERS_CURSOR, position))
        if page.caught_up:
            break
    if to_read:
        try:
            snapshots = await ctx.allegro.offer_parts(sorted(to_read))
        except (RetryLater, SkipItem) as exc:
            # The events are recorded and the cursor moved: remember the owed reads so they are not lost.
            unread = ev.OffersUnread(occurred_at=ctx.clock.now(), offer_ids=tuple(sorted(to_read)), reason=str(exc))
            return appended + len(ctx.ledger.append([ev.encode(unread, f"unread:{position}")]))
        appended += record_reads(ctx, snapshots, why="journal")
    return appended


def _relevant(state: State, offer_id: str, external_id: str | None) -> bool:
    """Offers we manage are read back through the outbox (the reducer asks); read at once only an offer we
    do not know yet whose external id is one of our products (the seller listed it himself)."""
    return offer_id not in state.offers and external_id is not None and external_id in state.by_external


def record_reads(
    ctx: Context, snapshots: list[OfferSnapshot], *, why: str, asked_by: dict[str, str] | None = None
) -> int:
    """Append the reads that tell the model something new. A verification (`asked_by`: offer id -> the
    command that asked) is always recorded, under that command's id, since it answers that command."""
    state = state_of(ctx)
    batch = []
    for snap in snapshots:
        asker = (asked_by or {}).get(snap.offer_id)
        if asker is None and not _news(state, snap):
            continue
        event = ev.OfferObserved(occurred_at=snap.read_at, offer=snap, why=why)
        key = f"{why}:{snap.offer_id}:{format_time(snap.read_at)}:{snap.status.value}:{snap.available}:{snap.price}"
        batch.append(ev.encode(event, f"{why}:{asker}" if asker else key))
    return len(ctx.ledger.append(batch))


def _news(state: State, snap: OfferSnapshot) -> bool:
    offer = state.offers.get(snap.offer_id)
    if offer is None:
        return snap.external_id is not None and snap.external_id in state.by_external
    if offer.inflight is not None:
        return False
    if offer.status != snap.status or offer.price != snap.price:
        return True
    return snap.status.buyable and snap.available != offer.expected


def _known(ctx: Context, state: State) -> dict[str, KnownProduct]:
    """What the projection knows of each product, built once and then updated for the products that changed
    (rebuilding it for 100,000 products every cycle was most of an idle cycle's CPU)."""
    if ctx.known is None:
        ctx.known, ctx.changed_products = {}, set(state.products)
    for pid in ctx.changed_products:
        product = state.products.get(pid)
        if product is None or product.removed:
            ctx.known.pop(pid, None)
        else:
            ctx.known[pid] = KnownProduct(row_hash=product.row_hash, stock=None if product.unknown else product.stock)
    ctx.changed_products.clear()
    return ctx.known


def warehouse(ctx: Context) -> int:
    """Append products that changed, stock that moved, rows that broke and products that disappeared."""
    if ctx.warehouse is None:
        return 0
    position = ctx.ledger.cursor(WAREHOUSE_CURSOR)
    mark: dict[str, Any] = orjson.loads(position) if position else {"scan": 0, "watermark": None}
    scan = mark["scan"] + 1
    batch, watermark = _warehouse_events(ctx, ctx.warehouse, mark["watermark"], scan)
    if not batch and watermark == mark["watermark"]:
        return 0
    cursor = orjson.dumps({"scan": scan, "watermark": watermark}).decode()
    return len(ctx.ledger.append(batch, cursor=(WAREHOUSE_CURSOR, cursor)))


def _warehouse_events(
    ctx: Context, source: Warehouse, watermark: str | None, scan: int
) -> tuple[list[NewEvent], str | None]:
    """The events of one warehouse read and its new watermark. The delta's rows are dropped on return, before
    the batch is appended: at the initial import they are every product of the warehouse."""
    delta = source.read_delta(_known(ctx, state_of(ctx)), watermark)
    at = ctx.clock.now()
    batch = [
        ev.encode(ev.ProductObserved(occurred_at=at, product=row), f"{scan}:{row.product_id}") for row in delta.changed
    ]
    batch += [
        ev.encode(ev.ProductStockObserved(occurred_at=at, product_id=pid, stock=stock), f"{scan}:{pid}:stock")
        for pid, stock in delta.stock_changed
    ]
    batch += [
        ev.encode(ev.ProductRemoved(occurred_at=at, product_id=pid), f"{scan}:{pid}:removed") for pid in delta.removed
    ]
    batch += [
        ev.encode(ev.ProductRowRejected(occurred_at=at, problem=p), f"{scan}:{p.product_id}:rejected")
        for p in delta.rejected
    ]
    return batch, delta.watermark
