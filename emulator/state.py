"""The emulator state object (`app.state.emulator`): config, clock, seeded RNG, switches and the world."""

from __future__ import annotations

import base64
import random
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field

from emulator.clock import Clock
from emulator.config import EmulatorConfig
from emulator.faults import Faults
from emulator.records import World


@dataclass(slots=True)
class RequestStats:
    """Counters for benchmarks: requests per `METHOD /path/template`, and the 429s sent."""

    by_route: Counter[str] = field(default_factory=Counter)
    by_status: Counter[int] = field(default_factory=Counter)
    sent_429: int = 0
    total: int = 0


@dataclass(slots=True)
class RateWindow:
    """Requests of one client id in the last minute and the end of its block, if blocked."""

    stamps: deque[float] = field(default_factory=deque)
    blocked_until: float = 0.0


class EmulatorState:
    """Owns everything mutable; handlers get it from `request.app.state.emulator`."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.clock = Clock()
        self.faults = Faults(seed=config.seed)
        self.rng = random.Random(config.seed)
        self.world = World()
        self.stats = RequestStats()
        self.rate_windows: dict[str, RateWindow] = {}
        self.next_archive_check = 0.0

    def reset(self, *, keep_auth: bool = False) -> None:
        """Back to an empty world, default switches, the configured seed and the real time."""
        old = self.world
        self.world = World()
        if keep_auth:
            self.world.access_tokens = old.access_tokens
            self.world.refresh_tokens = old.refresh_tokens
        self.faults = Faults(seed=self.config.seed)
        self.rng = random.Random(self.config.seed)
        self.clock = Clock()
        self.stats = RequestStats()
        self.rate_windows = {}
        self.next_archive_check = 0.0

    def now(self) -> float:
        return self.clock.now()

    def chance(self, rate: float) -> bool:
        """True with probability `rate`; draws nothing when the rate is 0, so calm runs stay reproducible."""
        return rate > 0 and self.rng.random() < rate

    def new_uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def new_hex(self, length: int) -> str:
        return f"{self.rng.getrandbits(4 * length):0{length}x}"

    def new_offer_id(self) -> str:
        self.world.next_offer_id += 1
        return str(self.world.next_offer_id)

    def next_offer_event_seq(self) -> int:
        self.world.next_offer_event += self.rng.randint(1, 9)
        return self.world.next_offer_event

    def next_order_event_seq(self) -> int:
        self.world.next_order_event += self.rng.randint(1, 999)
        return self.world.next_order_event


def offer_event_id(seq: int) -> str:
    """Unpadded base64 of the decimal sequence number, like Allegro's `MTEzMjQzODU3NA`."""
    return base64.urlsafe_b64encode(str(seq).encode()).decode().rstrip("=")


def offer_event_seq(event_id: str) -> int | None:
    """The sequence number behind an offer event id; None for ids this emulator never issued."""
    try:
        text = base64.urlsafe_b64decode(event_id + "=" * (-len(event_id) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None
