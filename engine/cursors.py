"""Where `latest` is for each cursor, for `allegro-sync cursors reset NAME --to latest`.

For Allegro's journals it is the newest event now (the order journal says so through `/order/event-stats`;
the offer journal is paged to its end). The warehouse cursor has no `latest`: the warehouse is compared
with the projection, so `beginning` (read everything again) is the only reset that means anything.
"""

from __future__ import annotations

from engine.bootstrap import open_context
from engine.cli import UsageError
from engine.ingest import ORDERS_CURSOR, RETENTION
from engine.settings import Settings


async def resolve_latest(settings: Settings, name: str) -> str | None:
    if name not in RETENTION:
        raise UsageError(f"cursor {name}: has no 'latest'; use --to beginning to read the warehouse again from scratch")
    async with open_context(settings) as ctx:
        if name == ORDERS_CURSOR:
            return await ctx.allegro.order_journal_start()
        position = ctx.ledger.cursor(name)
        while True:
            page = await ctx.allegro.offer_events(position)
            if page.entries:
                position = page.entries[-1].event_id
            if page.caught_up:
                return position
