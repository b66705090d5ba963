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
    """Every switch with its default. Rates are probabilities in [0, 1] drawn from the seeded RNG."""

    seed: int = 0
    latency_ms: int = 0
    error_rate_429: float = 0.0
    error_rate_5xx: float = 0.0
    faults_on_oauth: bool = False
    duplicate_order_events: float = 0.0
    shuffle_order_events: float = 0.0
    drop_order_events: float = 0.0
    order_event_delay_seconds: float = 0.0
    async_offer_creation: bool = False
    async_operation_polls: int = 1
    retry_after_seconds: int = 5
    patch_processing_seconds: float = 0.0
    command_delay_seconds: float = 0.0
    command_out_of_order: bool = False
    command_replay: str = "201"
    concurrent_commands: str = "both"
    fixed_below_one: str = "task_fail"
    gain_on_ended: str = "apply"
    cancellation_restores_stock: bool = False
    retry_after_on_429: bool = False
    client_rate_limit_per_minute: int = 9000
    offer_creation_limit_per_minute: int | None = None
    timeout_after_registration: float = 0.0
    device_interval_seconds: int = 5


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
    if name == "offer_creation_limit_per_minute" and value is None:
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
