"""The cycle's working set: the ports, the policy, the cycle options and the projection kept between cycles."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from engine.model import KnownProduct
from engine.policy import Policy
from engine.ports import Allegro, Clock, Ledger, Warehouse
from engine.state import State


@dataclass(frozen=True, slots=True, kw_only=True)
class CycleOptions:
    sweep_seconds: int = 300
    """Checkout-form sweep interval; 0 sweeps every cycle."""
    sweep_window_days: int = 10
    """How far back the sweep looks (unpaid orders are cancelled automatically after 7 days)."""
    reconcile_hours: float = 24
    max_change_fraction: float = 0.2
    price_band_fraction: float = 0.5
    max_attempts: int = 8
    """Attempts before a command goes dead."""
    backoff_seconds: float = 5
    max_backoff_seconds: float = 900
    command_poll_seconds: float = 10
    """How long a cycle waits for Allegro to finish a batch command before checking again next cycle."""
    mapped_categories: tuple[str, ...] = ()


@dataclass(slots=True, kw_only=True)
class Context:
    ledger: Ledger
    allegro: Allegro
    warehouse: Warehouse | None
    clock: Clock
    policy: Policy
    options: CycleOptions = field(default_factory=CycleOptions)
    state: State | None = None
    folded: int = 0
    last_orders_read: datetime | None = None
    """Allegro time of the last order-journal read that reached the end (None if it did not)."""
    dead_letters: list[str] = field(default_factory=list)
    """Commands that went dead during this cycle, for its report."""
    known: dict[str, KnownProduct] | None = None
    """What the warehouse read is compared with, kept between cycles and updated for changed products."""
    changed_products: set[str] = field(default_factory=set)
    """Products the projection changed since `known` was last brought up to date."""
