"""The composition root: settings in, a ready cycle context out. The only place that connects to anything."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import httpx

from adapters.allegro.client import AllegroClient
from adapters.allegro.settings import AllegroConfig
from adapters.allegro.tokens import TokenStore
from adapters.ledger import open_ledger
from adapters.warehouse import SqlWarehouse, WarehouseConfig
from engine.context import Context, CycleOptions
from engine.failpoints import failpoint
from engine.policy import Flows, OfferDefaults, ParameterRule, Policy
from engine.settings import Settings


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def policy_of(settings: Settings) -> Policy:
    """The rules the reducer applies, from the configuration."""
    defaults = settings.allegro.offer_defaults
    location = defaults.location
    return Policy(
        buffer=settings.stock.buffer,
        max_published=settings.stock.max_published,
        zero_threshold=settings.stock.zero_threshold,
        decrement_on=settings.stock.decrement_on,
        journal_grace_seconds=int(settings.stock.journal_grace_seconds),
        reactivate_on_restock=settings.offers.reactivate_on_restock,
        end_when_unlisted=settings.offers.end_when_unlisted,
        flows=Flows(
            listing=settings.flows.listing,
            stock=settings.flows.stock,
            price=settings.flows.price,
            orders=settings.flows.orders,
        ),
        categories=tuple(sorted(settings.mapping.categories.items())),
        conditions=tuple(sorted(settings.mapping.conditions.items())),
        parameters=tuple(
            (
                category,
                tuple(
                    ParameterRule(
                        parameter_id=pid,
                        values_ids=rule.values_ids,
                        values=rule.values,
                        column=rule.column,
                        value_map=tuple(sorted((rule.map or {}).items())),
                    )
                    for pid, rule in sorted(rules.items())
                ),
            )
            for category, rules in sorted(settings.mapping.parameters.items())
        ),
        offer_defaults=OfferDefaults(
            shipping_rates=defaults.shipping_rates,
            handling_time=defaults.handling_time,
            return_policy=defaults.return_policy,
            implied_warranty=defaults.implied_warranty,
            invoice=defaults.invoice,
            location=()
            if location is None
            else (
                ("city", location.city),
                ("country_code", location.country_code),
                ("post_code", location.post_code),
                ("province", location.province),
            ),
            publish=defaults.publish,
        ),
        write_back=bool(settings.warehouse.offer_linked),
        image_base_url=settings.warehouse.image_base_url,
    )


def options_of(settings: Settings) -> CycleOptions:
    return CycleOptions(
        sweep_seconds=int(settings.engine.sweep_seconds),
        reconcile_hours=settings.engine.reconcile_hours,
        max_change_fraction=settings.engine.max_change_fraction,
        price_band_fraction=settings.engine.price_band_fraction,
        mapped_categories=tuple(sorted(set(settings.mapping.categories.values()))),
    )


def allegro_config(settings: Settings) -> AllegroConfig:
    a = settings.allegro
    return AllegroConfig(
        environment=a.environment,
        client_id=a.client_id,
        client_secret=a.require_secret(),
        api_url=a.api_url,
        auth_url=a.auth_url,
        user_agent=a.user_agent,
        max_concurrency=a.max_concurrency,
        requests_per_minute=a.requests_per_minute,
        offer_creations_per_minute=a.offer_creations_per_minute,
    )


def warehouse_config(settings: Settings) -> WarehouseConfig:
    w = settings.warehouse
    return WarehouseConfig(
        url=w.url.reveal(),
        products_query=w.products_query,
        decrement_stock=w.decrement_stock or "",
        increment_stock=w.increment_stock or "",
        stock_query=w.stock_query,
        offer_linked=w.offer_linked,
        applied_table=w.applied_table or None,
        updated_at_overlap_seconds=w.updated_at_overlap_seconds,
    )


@asynccontextmanager
async def open_context(
    settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
) -> AsyncIterator[Context]:
    """Connect the ledger, the warehouse and Allegro; close them all on the way out."""
    clock = SystemClock()
    ledger = open_ledger(settings.engine.state_url.reveal())
    warehouse = SqlWarehouse(warehouse_config(settings), before_commit=lambda _: failpoint("inside_warehouse_tx"))
    allegro = AllegroClient(allegro_config(settings), TokenStore(settings.allegro.token_file), transport=transport)
    try:
        warehouse.start()
        yield Context(
            ledger=ledger,
            allegro=allegro,
            warehouse=warehouse,
            clock=clock,
            policy=policy_of(settings),
            options=options_of(settings),
        )
    finally:
        await allegro.aclose()
        warehouse.close()
        ledger.close()
