"""The emulator's world as flat records of JSON values, so a dump is the state and a load restores it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]


@dataclass(slots=True, kw_only=True)
class Offer:
    id: str
    seller_id: str
    body: Json  # SaleProductOfferResponseV1 as Allegro would answer it
    sold: int = 0
    busy_until: float = 0.0  # a PATCH is processing until then (409 for the next one)
    started_at: float | None = None
    ended_at: float | None = None
    touched_at: float = 0.0  # last edit or activation: drafts untouched for 60 days are deleted
    archived: bool = False  # archived or deleted: gone from the API (404), kept here for the record


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferEvent:
    seq: int
    occurred_at: float
    type: str
    offer_id: str
    seller_id: str
    external_id: str | None
    ended_by: str | None = None


@dataclass(slots=True, kw_only=True)
class OrderEvent:
    seq: int
    occurred_at: float
    type: str
    seller_id: str
    order: Json  # snapshot of the order at the time of the event
    dropped: bool = False  # never delivered (fault `drop_order_events`)
    visible_at: float = 0.0  # joins the journal then (switch `order_event_delay_seconds`)
    duplicated: bool = False  # already re-delivered once (fault `duplicate_order_events`)


@dataclass(slots=True, kw_only=True)
class CheckoutForm:
    id: str
    seller_id: str
    body: Json  # CheckoutForm as Allegro would answer it
    bought_at: float
    updated_at: float
    stock_restored: bool = False


@dataclass(slots=True, kw_only=True)
class Command:
    id: str
    kind: str  # quantity | price | publication
    seller_id: str
    body: Json
    offer_ids: list[str]
    created_at: float
    due_at: float
    completed_at: float | None = None
    tasks: list[Json] = field(default_factory=list)


@dataclass(slots=True, kw_only=True)
class Operation:
    id: str
    offer_id: str
    kind: str  # create | patch
    started_at: float
    due_at: float
    polls_left: int
    patch: Json | None = None
    target_status: str | None = None
    done: bool = False


@dataclass(slots=True, kw_only=True)
class Device:
    device_code: str
    user_code: str
    client_id: str
    expires_at: float
    state: str = "pending"  # pending | approved | denied | used
    last_poll: float | None = None
    seller_id: str | None = None


@dataclass(slots=True, kw_only=True)
class AccessToken:
    token: str
    client_id: str
    seller_id: str | None  # None for client_credentials tokens
    session: str
    expires_at: float
    revoked: bool = False


@dataclass(slots=True, kw_only=True)
class RefreshToken:
    token: str
    client_id: str
    seller_id: str
    session: str
    expires_at: float
    used_at: float | None = None
    invalid: bool = False


@dataclass(slots=True, kw_only=True)
class AuthCode:
    code: str
    client_id: str
    redirect_uri: str
    seller_id: str
    expires_at: float
    used: bool = False


@dataclass(slots=True, kw_only=True)
class World:
    offers: dict[str, Offer] = field(default_factory=dict)
    offer_events: list[OfferEvent] = field(default_factory=list)
    order_events: list[OrderEvent] = field(default_factory=list)
    forms: dict[str, CheckoutForm] = field(default_factory=dict)
    commands: dict[str, Command] = field(default_factory=dict)  # key "kind:id"
    pending_commands: list[str] = field(default_factory=list)  # keys of commands not executed yet, in order
    delayed_order_events: list[OrderEvent] = field(default_factory=list)  # not in the journal yet
    operations: dict[str, Operation] = field(default_factory=dict)
    devices: dict[str, Device] = field(default_factory=dict)
    access_tokens: dict[str, AccessToken] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)
    auth_codes: dict[str, AuthCode] = field(default_factory=dict)
    next_offer_id: int = 7770273738
    next_offer_event: int = 1132438574
    next_order_event: int = 1532603898317497
