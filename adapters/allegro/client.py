"""`AllegroClient`: the `engine.ports.Allegro` implementation, composed from the modules of this package."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from types import TracebackType
from typing import Any

import httpx

from adapters.allegro.auth import TokenProvider
from adapters.allegro.budget import BudgetClock, RateBudget
from adapters.allegro.caller import Caller
from adapters.allegro.catalogue import Catalogue
from adapters.allegro.commands import Commands
from adapters.allegro.http import make_http_client
from adapters.allegro.journals import Journals
from adapters.allegro.oauth import OAuth
from adapters.allegro.offers import Offers
from adapters.allegro.orders import Orders
from adapters.allegro.settings import AllegroConfig
from adapters.allegro.tokens import TokenStore
from engine.model import (
    CatalogueProduct,
    CategoryParameter,
    CheckoutForm,
    CommandReport,
    JournalPage,
    OfferEvent,
    OfferSnapshot,
    OrderEvent,
)
from engine.ports import Allegro


class AllegroClient:
    """One per process (per seller account). Owns the pooled HTTP client unless one is injected.

    `transport` plugs in e.g. `httpx.ASGITransport(app=emulator_app)`; `clock` replaces monotonic time and
    sleeping (rate budget, backoff, operation polling); `now` replaces the wall clock of token expiry.
    Nothing connects before the first call.
    """

    def __init__(
        self,
        config: AllegroConfig,
        store: TokenStore,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        http: httpx.AsyncClient | None = None,
        clock: BudgetClock | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.config = config
        self._own_http = http is None
        self.http = http if http is not None else make_http_client(config, transport=transport)
        margin = config.rate_margin
        self.budget = RateBudget(
            requests_per_minute=config.requests_per_minute * margin,
            max_concurrency=config.max_concurrency,
            extra={
                "offer_create": config.offer_creations_per_minute and config.offer_creations_per_minute * margin,
                "offer_patch": config.offer_patches_per_minute and config.offer_patches_per_minute * margin,
            },
            clock=clock,
        )
        clocks: dict[str, Any] = {"now": now} if now is not None else {}
        self.oauth = OAuth(config, self.http, self.budget, **clocks)
        self.tokens = TokenProvider(config, store, self.oauth, **clocks)
        caller = Caller(config, self.http, self.budget, self.tokens)
        self.journals = Journals(caller)
        self.offers = Offers(config, caller, self.budget)
        self.commands = Commands(caller)
        self.orders = Orders(caller)
        self.catalogue = Catalogue(caller)

    def __repr__(self) -> str:
        return f"AllegroClient(environment={self.config.environment!r}, api_url={self.config.api_url!r})"

    async def aclose(self) -> None:
        if self._own_http:
            await self.http.aclose()

    async def __aenter__(self) -> AllegroClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.aclose()

    # journals
    async def order_journal_start(self) -> str | None:
        return await self.journals.order_journal_start()

    async def order_events(self, after: str | None, limit: int = 1000) -> JournalPage[OrderEvent]:
        return await self.journals.order_events(after, limit)

    async def offer_events(self, after: str | None, limit: int = 1000) -> JournalPage[OfferEvent]:
        return await self.journals.offer_events(after, limit)

    # offers
    async def offer_parts(self, offer_ids: Sequence[str]) -> list[OfferSnapshot]:
        return await self.offers.offer_parts(offer_ids)

    async def offers_by_external_id(self, external_ids: Sequence[str]) -> list[OfferSnapshot]:
        return await self.offers.offers_by_external_id(external_ids)

    def all_offers(self) -> AsyncIterator[OfferSnapshot]:
        return self.offers.all_offers()

    async def create_offer(self, body: Mapping[str, Any]) -> OfferSnapshot:
        return await self.offers.create_offer(body)

    async def patch_offer(self, offer_id: str, patch: Mapping[str, Any], *, idempotent: bool = True) -> OfferSnapshot:
        return await self.offers.patch_offer(offer_id, patch, idempotent=idempotent)

    # orders
    async def checkout_forms(
        self, *, updated_since: datetime | None = None, bought_since: datetime | None = None
    ) -> list[CheckoutForm]:
        return await self.orders.checkout_forms(updated_since=updated_since, bought_since=bought_since)

    # commands
    async def change_quantity(self, command_id: str, offer_ids: Sequence[str], delta: int) -> CommandReport:
        return await self.commands.change_quantity(command_id, offer_ids, delta)

    async def change_price(self, command_id: str, offer_ids: Sequence[str], price: Decimal) -> CommandReport:
        return await self.commands.change_price(command_id, offer_ids, price)

    async def change_publication(self, command_id: str, offer_ids: Sequence[str], action: str) -> CommandReport:
        return await self.commands.change_publication(command_id, offer_ids, action)

    async def command_report(self, kind: str, command_id: str) -> CommandReport:
        return await self.commands.command_report(kind, command_id)

    # catalogue
    async def category_parameters(self, category_id: str) -> list[CategoryParameter]:
        return await self.catalogue.category_parameters(category_id)

    async def product_by_gtin(self, ean: str) -> CatalogueProduct | None:
        return await self.catalogue.product_by_gtin(ean)


def _conforms(client: AllegroClient) -> Allegro:
    """mypy proves here that AllegroClient satisfies the port."""
    return client
