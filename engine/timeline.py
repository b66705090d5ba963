"""Timelines for `allegro-sync replay --product/--order`: every observation, decision, command and outcome.

The ledger answers "why": each event is shown with its ledger position and time, each decision with the
reason the reducer gave, each command with its current status, oldest first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.compact import rebuild_from_snapshot
from engine.events import decode
from engine.ports import Ledger, StoredEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    seq: int
    at: datetime
    kind: str
    """observed, decided, outcome or operator."""
    what: str
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "at": self.at.isoformat(), "kind": self.kind, "what": self.what, "detail": self.detail}


_KIND = {"warehouse": "observed", "allegro.orders": "observed", "allegro.offers": "observed", "engine": "outcome"}


def _related_entities(ledger: Ledger, product_id: str | None, order_id: str | None, until: int | None) -> set[str]:
    state = rebuild_from_snapshot(ledger, until_seq=until)[0].state
    if order_id is not None:
        return {order_id}
    assert product_id is not None
    entities = {product_id}
    entities |= state.product_offers.get(product_id, set())
    entities |= {line.checkout_form_id for line in state.lines.values() if line.product_id == product_id}
    return entities


def timeline(
    ledger: Ledger, *, product_id: str | None = None, order_id: str | None = None, until: int | None = None
) -> list[Entry]:
    """The history of one product (with its offers and orders) or one checkout form, oldest first."""
    entities = _related_entities(ledger, product_id, order_id, until)
    stored: dict[int, StoredEvent] = {}
    for entity in entities:
        for event in ledger.events_for_entity(entity):
            if until is None or event.seq <= until:
                stored[event.seq] = event
    entries = [_event_entry(e) for e in stored.values()]
    targets = entities | {product_id} if product_id else entities
    for command in ledger.commands():
        if command.target in targets or command.payload.get("key", "").split(":", 2)[1:2] == [order_id]:
            if until is not None and command.caused_by > until:
                continue
            cause = stored.get(command.caused_by)
            entries += [_event_entry(e) for e in ledger.events_for_entity(f"command:{command.id}")]
            entries.append(
                Entry(
                    seq=command.caused_by,
                    at=cause.recorded_at if cause else command.created_at or datetime.min,
                    kind="decided",
                    what=f"{command.kind} {command.target} [{command.status}]",
                    detail=command.reason + (f" (last error: {command.last_error})" if command.last_error else ""),
                )
            )
    order = {"observed": 0, "operator": 0, "outcome": 1, "decided": 2}
    return sorted(entries, key=lambda e: (e.seq, order[e.kind], e.what))


def _event_entry(stored: StoredEvent) -> Entry:
    kind = "operator" if stored.stream == "operator" else _KIND.get(stored.stream, "observed")
    try:
        detail = _describe(decode(stored))
    except (KeyError, ValueError, TypeError) as exc:
        detail = f"(cannot be read: {exc})"
    return Entry(seq=stored.seq, at=stored.occurred_at, kind=kind, what=f"{stored.type} {stored.entity}", detail=detail)


def _describe(event: object) -> str:
    from engine import events as ev

    match event:
        case ev.ProductObserved(product=row):
            return f"stock {row.stock}, price {row.price}, list {row.list}, title {row.title!r}"
        case ev.ProductStockObserved(stock=stock):
            return f"stock {stock}"
        case ev.OrderEventObserved(order=order):
            lines = ", ".join(f"{ln.quantity} x offer {ln.offer_id} (line {ln.line_id})" for ln in order.lines)
            return f"{order.type}: {lines}"
        case ev.CheckoutFormObserved(form=form):
            return f"sweep found the form {form.status}"
        case ev.OfferEventObserved(offer_event=oe):
            return oe.type + (f" by {oe.ended_by}" if oe.ended_by else "")
        case ev.OfferObserved(offer=o, why=why):
            return f"read ({why}): {o.status.value}, available {o.available}, price {o.price}"
        case ev.OfferCreated(offer=o, adopted=adopted):
            return (
                f"{'adopted' if adopted else 'created'} offer {o.offer_id}: {o.status.value}, available {o.available}"
            )
        case ev.OfferRejected(problems=problems):
            return "; ".join(problems)
        case ev.QuantityChanged(delta=delta, succeeded=ok, message=message):
            return f"GAIN {delta:+d} {'succeeded' if ok else 'failed: ' + message}"
        case ev.PriceChanged(price=price, succeeded=ok, message=message):
            return f"price {price} {'set' if ok else 'failed: ' + message}"
        case ev.OfferPatched(purpose=purpose, offer=o):
            return f"{purpose}: now {o.status.value}, available {o.available}"
        case ev.StockApplied(key=key, delta=delta, already=already):
            return f"warehouse {delta:+d} under key {key}" + (" (had already been applied)" if already else "")
        case ev.CommandFailed(error=error):
            return error
        case ev.CommandSkipped(command_id=cid, reason=reason):
            return f"command {cid} skipped: {reason}"
        case ev.CommandRetried(command_id=cid, reason=reason):
            return f"command {cid} sent again: {reason}"
        case ev.CursorReset(cursor=cursor, from_position=old, to_position=new, reason=reason):
            return f"{cursor}: {old} -> {new} ({reason})"
        case ev.PlanApproved(command_ids=ids, reason=reason):
            return f"{len(ids)} held commands released ({reason})"
        case ev.ProductRowRejected(problem=p):
            return "; ".join(p.problems)
    return ""
