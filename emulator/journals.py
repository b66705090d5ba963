"""The offer and order event journals: appending, retention, paging and delivery faults."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Sequence

from emulator.clock import iso
from emulator.records import Json, Offer, OfferEvent, OrderEvent
from emulator.state import EmulatorState, offer_event_id, offer_event_seq

OFFER_RETENTION_SECONDS = 24 * 3600
ORDER_RETENTION_SECONDS = 60 * 24 * 3600
OFFER_EVENT_TYPES = (
    "OFFER_ACTIVATED",
    "OFFER_CHANGED",
    "OFFER_ENDED",
    "OFFER_STOCK_CHANGED",
    "OFFER_PRICE_CHANGED",
    "OFFER_ARCHIVED",
    "OFFER_BID_PLACED",
    "OFFER_BID_CANCELED",
    "OFFER_TRANSLATION_UPDATED",
    "OFFER_VISIBILITY_CHANGED",
    "OFFER_DELIVERY_COUNTRIES_BLOCKED",
)
ORDER_EVENT_TYPES = (
    "BOUGHT",
    "FILLED_IN",
    "READY_FOR_PROCESSING",
    "BUYER_CANCELLED",
    "FULFILLMENT_STATUS_CHANGED",
    "BUYER_MODIFIED",
    "AUTO_CANCELLED",
)
_PUBLISHING = ("ACTIVE", "ACTIVATING")


def emit_offer_event(state: EmulatorState, offer: Offer, event_type: str, *, ended_by: str | None = None) -> None:
    """Appends an offer event, unless the offer is a draft or ended (only OFFER_ARCHIVED passes then).

    Callers emit OFFER_ENDED before switching the status, while the offer is still publishing.
    """
    status = offer.body["publication"]["status"]
    if status not in _PUBLISHING and event_type != "OFFER_ARCHIVED":
        return
    external = offer.body.get("external") or {}
    state.world.offer_events.append(
        OfferEvent(
            seq=state.next_offer_event_seq(),
            occurred_at=state.now(),
            type=event_type,
            offer_id=offer.id,
            seller_id=offer.seller_id,
            external_id=external.get("id"),
            ended_by=ended_by,
        )
    )


def offer_event_json(event: OfferEvent) -> Json:
    offer: Json = {"id": event.offer_id}
    if event.type not in ("OFFER_BID_PLACED", "OFFER_BID_CANCELED"):
        offer["external"] = {"id": event.external_id} if event.external_id is not None else None
    if event.type == "OFFER_ENDED":
        offer["publication"] = {"endedBy": event.ended_by or "USER"}
    body: Json = {
        "id": offer_event_id(event.seq),
        "occurredAt": iso(event.occurred_at),
        "type": event.type,
        "offer": offer,
    }
    if event.type == "OFFER_PRICE_CHANGED":
        offer["marketplaces"] = [{"id": "allegro-pl", "changeType": "MANUAL"}]
    return body


def read_offer_events(
    state: EmulatorState, seller_id: str, after: str | None, limit: int, types: set[str]
) -> list[Json] | None:
    """Events strictly after `after` within 24 h; None when `after` is not an id this journal issued."""
    events = state.world.offer_events
    start = _start_index(events, after, offer_event_seq)
    if start is None:
        return None
    horizon = state.now() - OFFER_RETENTION_SECONDS
    wanted = (
        event
        for event in itertools.islice(events, start, None)
        if event.seller_id == seller_id and event.occurred_at >= horizon and (not types or event.type in types)
    )
    return [offer_event_json(event) for event in itertools.islice(wanted, limit)]


def emit_order_event(
    state: EmulatorState, seller_id: str, event_type: str, order: Json, *, occurred_at: float | None = None
) -> None:
    """Appends an order event; with `drop_order_events` it is recorded but never delivered.

    With `order_event_delay_seconds` it joins the journal only that much later (keeping its `occurredAt`),
    so a reader's cursor never skips it.
    """
    now = state.now() if occurred_at is None else occurred_at
    delay = state.faults.order_event_delay_seconds
    event = OrderEvent(
        seq=0,
        occurred_at=now,
        type=event_type,
        seller_id=seller_id,
        order=order,
        dropped=state.chance(state.faults.drop_order_events),
        visible_at=now + delay,
    )
    if delay > 0:
        state.world.delayed_order_events.append(event)
    else:
        event.seq = state.next_order_event_seq()
        state.world.order_events.append(event)


def release_delayed_order_events(state: EmulatorState) -> None:
    delayed = state.world.delayed_order_events
    if not delayed:
        return
    now = state.now()
    ready = sorted((event for event in delayed if event.visible_at <= now), key=lambda event: event.visible_at)
    for event in ready:
        delayed.remove(event)
        event.seq = state.next_order_event_seq()
        state.world.order_events.append(event)


def order_event_json(event: OrderEvent) -> Json:
    return {"id": str(event.seq), "occurredAt": iso(event.occurred_at), "type": event.type, "order": event.order}


def _order_seq(event_id: str) -> int | None:
    return int(event_id) if event_id.isdigit() else None


def read_order_events(
    state: EmulatorState, seller_id: str, after: str | None, limit: int, types: set[str]
) -> list[Json] | None:
    """Events strictly after `after` within 60 days, with the delivery faults applied to this page."""
    events = state.world.order_events
    start = _start_index(events, after, _order_seq)
    if start is None:
        return None
    horizon = state.now() - ORDER_RETENTION_SECONDS
    wanted = (
        event
        for event in itertools.islice(events, start, None)
        if event.seller_id == seller_id
        and not event.dropped
        and event.occurred_at >= horizon
        and (not types or event.type in types)
    )
    page = list(itertools.islice(wanted, limit))
    faults = state.faults
    for event in page:
        if not event.duplicated and state.chance(faults.duplicate_order_events):
            # Re-delivered later: a copy with a new id and the same type, time and order.
            event.duplicated = True
            events.append(
                OrderEvent(
                    seq=state.next_order_event_seq(),
                    occurred_at=event.occurred_at,
                    type=event.type,
                    seller_id=event.seller_id,
                    order=event.order,
                    duplicated=True,
                )
            )
    if len(page) > 1 and state.chance(faults.shuffle_order_events):
        state.rng.shuffle(page)
    return [order_event_json(event) for event in page]


def latest_order_event(state: EmulatorState, seller_id: str) -> OrderEvent | None:
    for event in reversed(state.world.order_events):
        if event.seller_id == seller_id and not event.dropped:
            return event
    return None


def _start_index(
    events: Sequence[OfferEvent | OrderEvent], after: str | None, decode: Callable[[str], int | None]
) -> int | None:
    """Index of the first event strictly after `after` (journals are sorted by sequence number)."""
    if after is None or after == "":
        return 0
    seq = decode(after)
    if seq is None:
        return None
    return bisect.bisect_right(events, seq, key=lambda event: event.seq)
