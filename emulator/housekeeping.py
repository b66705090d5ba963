"""Time-driven work done before each request: due commands and operations, delayed events, archiving."""

from __future__ import annotations

from emulator import commands, operations
from emulator.journals import release_delayed_order_events
from emulator.offers import archive_due
from emulator.state import EmulatorState

ARCHIVE_CHECK_SECONDS = 60.0  # archiving is checked at most once a minute of emulator time


def tick(state: EmulatorState, *, run_commands: bool = True) -> None:
    """Brings the world up to the emulator's clock. Command PUTs skip running commands (`run_commands=False`),
    so that commands sent back to back can pile up and, with `command_out_of_order`, swap."""
    if run_commands:
        commands.run_due(state)
    operations.run_due(state)
    release_delayed_order_events(state)
    now = state.now()
    if now >= state.next_archive_check:
        state.next_archive_check = now + ARCHIVE_CHECK_SECONDS
        archive_due(state)
