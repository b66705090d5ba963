"""Dumping the whole state to JSON (for `GET /__emulator/state` and `state_file`) and loading it back."""

from __future__ import annotations

import dataclasses
import os
import random
import tempfile
from pathlib import Path
from typing import Any

import orjson

from emulator.faults import Faults
from emulator.records import (
    AccessToken,
    AuthCode,
    CheckoutForm,
    Command,
    Device,
    Offer,
    OfferEvent,
    Operation,
    OrderEvent,
    RefreshToken,
    World,
)
from emulator.state import EmulatorState

FORMAT_VERSION = 1
_MAPS: dict[str, type[Any]] = {
    "offers": Offer,
    "forms": CheckoutForm,
    "commands": Command,
    "operations": Operation,
    "devices": Device,
    "access_tokens": AccessToken,
    "refresh_tokens": RefreshToken,
    "auth_codes": AuthCode,
}
_LISTS: dict[str, type[Any]] = {
    "offer_events": OfferEvent,
    "order_events": OrderEvent,
    "delayed_order_events": OrderEvent,
}


def dump(state: EmulatorState) -> dict[str, Any]:
    return {
        "version": FORMAT_VERSION,
        "clock_offset_seconds": state.clock.offset_seconds,
        "faults": dataclasses.asdict(state.faults),
        "rng": _rng_state(state.rng),
        "world": dataclasses.asdict(state.world),
    }


def _rng_state(rng: random.Random) -> list[Any]:
    version, internal, gauss = rng.getstate()
    return [version, list(internal), gauss]


def load(state: EmulatorState, data: dict[str, Any]) -> None:
    """Replaces `state`'s world, clock offset, switches and RNG with a dump made by `dump`."""
    if data.get("version") != FORMAT_VERSION:
        raise ValueError(f"unsupported emulator state version {data.get('version')!r}")
    raw = data["world"]
    world = World()
    for name, record in _MAPS.items():
        setattr(world, name, {key: record(**value) for key, value in raw[name].items()})
    for name, record in _LISTS.items():
        setattr(world, name, [record(**value) for value in raw[name]])
    for name in ("next_offer_id", "next_offer_event", "next_order_event", "pending_commands"):
        setattr(world, name, raw[name])
    state.world = world
    state.clock.offset_seconds = float(data["clock_offset_seconds"])
    state.faults = Faults(**data["faults"])
    version, internal, gauss = data["rng"]
    state.rng.setstate((version, tuple(internal), gauss))


def save(state: EmulatorState, path: str) -> None:
    """Writes atomically (temporary file, then rename), so a crash never leaves half a state file."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    with os.fdopen(handle, "wb") as file:
        file.write(orjson.dumps(dump(state)))
    os.replace(temporary, target)


def load_file(state: EmulatorState, path: str) -> bool:
    """Loads `path` if it exists; False when there is nothing to load."""
    target = Path(path)
    if not target.exists():
        return False
    load(state, orjson.loads(target.read_bytes()))
    return True
