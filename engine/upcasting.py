"""Upcasting: old versions of stored event payloads are rewritten to the current version on read.

Register a function for each (type, version) that was replaced; it receives the payload of that version and
returns the payload of the next one. A ledger written by any earlier release therefore still replays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Payload = dict[str, Any]

UPCASTERS: dict[tuple[str, int], Callable[[Payload], Payload]] = {}
"""(event type, version) -> function producing the payload of version + 1."""


def upcast(event_type: str, version: int, payload: Payload, current: int) -> Payload:
    while version < current:
        step = UPCASTERS.get((event_type, version))
        if step is None:
            raise ValueError(f"no upcaster for {event_type} v{version} -> v{version + 1}")
        payload = step(payload)
        version += 1
    if version > current:
        raise ValueError(
            f"{event_type} v{version} is newer than this release understands (v{current}): upgrade allegro-sync"
        )
    return payload
