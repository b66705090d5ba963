"""Fault and behaviour switches, set with `PUT /__emulator/faults`; defaults behave like a calm Allegro."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

# One-shot actions accepted by `PUT /__emulator/faults`: they act once and are not stored.
ACTIONS = ("expire_access_tokens", "invalidate_refresh_tokens")

_CHOICES: dict[str, tuple[str, ...]] = {
    "fixed_below_one": ("task_fail", "422"),
    "concurrent_commands": ("both", "outdated"),
    "gain_on_ended": ("apply", "fail"),
    "command_replay": ("201", "409"),
}
_RATES = (
    "error_rate_429",
    "error_rate_5xx",
    "duplicate_order_events",
    "shuffle_order_events",
    "drop_order_events",
    "timeout_after_registration",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Faults:
    """Every switch with its default. Rates are probabilities in [0, 1] drawn from the seeded RNG.

    UNVERIFIED behaviours of Allegro are switches with both settings tested; the default is the guess in
    allegro-api.md / stock-sync.md.
    """

    seed: int = 0  # re-seeds the RNG when set: same seed and same requests give the same world
    # --- the network and the gateway (API paths; OAuth only with faults_on_oauth; never the control API)
    latency_ms: int = 0  # added to every answer with asyncio.sleep, so concurrent requests overlap
    error_rate_429: float = 0.0  # injected 429 RateLimitExceedException
    error_rate_5xx: float = 0.0  # injected 500/502/503 with an errors[] body
    faults_on_oauth: bool = False  # latency, 429 and 5xx also on /auth/oauth/... (AuthError bodies)
    retry_after_on_429: bool = False  # UNVERIFIED: send Retry-After on 429 (seconds left of the block; 1 if injected)
    client_rate_limit_per_minute: int = 9000  # per client id; beyond it the client id is blocked 60 s (429)
    offer_creation_limit_per_minute: int | None = None  # per seller, POST /sale/product-offers; None = no limit
    seller_offer_edits_per_minute: int | None = 2500  # per seller, PATCH /sale/product-offers/{id} (Oct 2024)
    seller_offer_reads_per_minute: int | None = 3500  # per seller, GET /sale/product-offers/{id} (Oct 2024)
    timeout_after_registration: float = 0.0  # command PUT / offer POST / PATCH applied, then answered 504
    # --- the order journal
    duplicate_order_events: float = 0.0  # a delivered event is delivered once more later (new id, same content)
    shuffle_order_events: float = 0.0  # a delivered page comes in random order
    drop_order_events: float = 0.0  # the event is never delivered; the checkout form still exists
    order_event_delay_seconds: float = 0.0  # events join the journal this late (occurredAt unchanged)
    # --- offers
    async_offer_creation: bool = False  # POST answers 202 + Location + Retry-After; ACTIVE goes via ACTIVATING
    async_operation_polls: int = 1  # 202 answers of the operation endpoint before its 303
    retry_after_seconds: int = 5  # Retry-After of 202 answers; an operation also completes after this long
    patch_processing_seconds: float = 0.0  # > 0: PATCH answers 202, applies this much later, 409 meanwhile
    strict_descriptions: bool = True  # TEXT items must be Allegro's HTML subset (422 VALIDATION_ERROR otherwise)
    # --- batch commands
    command_delay_seconds: float = 0.0  # 0: a command executes during its PUT (the 201 still shows zeros)
    command_out_of_order: bool = False  # commands wait for the next non-PUT request and run in random order
    command_replay: str = "201"  # UNVERIFIED: same id and body again answers "201" (first report) or "409"
    concurrent_commands: str = "both"  # UNVERIFIED: two in flight for one offer: "both" apply or "outdated"
    fixed_below_one: str = "task_fail"  # FIXED < 1: "task_fail" (INVALID_OFFER_QUANTITY) or "422"
    gain_on_ended: str = "apply"  # UNVERIFIED: quantity change on a non-publishing offer: "apply" or "fail"
    # --- orders
    cancellation_restores_stock: bool = False  # UNVERIFIED: a cancellation puts the units back on the offer
    # --- OAuth
    device_interval_seconds: int = 5  # device flow polling interval; faster polls get slow_down


def as_json(faults: Faults) -> dict[str, Any]:
    return dataclasses.asdict(faults)


def updated(faults: Faults, changes: dict[str, Any]) -> Faults:
    """A copy with `changes` applied; raises ValueError naming the first bad switch."""
    fields = {field.name: field for field in dataclasses.fields(Faults)}
    clean: dict[str, Any] = {}
    for name, value in changes.items():
        if name in ACTIONS:
            continue
        if name not in fields:
            raise ValueError(f"unknown switch {name!r}; known: {', '.join(sorted(fields))}")
        clean[name] = _checked(name, value, getattr(faults, name))
    return dataclasses.replace(faults, **clean)


def _checked(name: str, value: Any, current: Any) -> Any:
    if name in _CHOICES:
        text = str(value)
        if text not in _CHOICES[name]:
            raise ValueError(f"{name} must be one of {', '.join(_CHOICES[name])}")
        return text
    if name.endswith("_per_minute") and name != "client_rate_limit_per_minute" and value is None:
        return None
    if isinstance(current, bool) or name in ("faults_on_oauth",):
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number")
    if value < 0:
        raise ValueError(f"{name} must not be negative")
    if name in _RATES:
        if value > 1:
            raise ValueError(f"{name} is a probability between 0 and 1")
        return float(value)
    if isinstance(current, float):
        return float(value)
    if int(value) != value:
        raise ValueError(f"{name} must be an integer")
    return int(value)
