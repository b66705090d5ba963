"""The emulator's ASGI application: routes wired to handlers behind the gateway middleware."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from emulator import (
    account_api,
    auth,
    catalogue_api,
    command_api,
    control,
    journal_api,
    offer_api,
    order_api,
    persistence,
)
from emulator.config import EmulatorConfig
from emulator.gateway import Gateway
from emulator.http import auth_error, error, json_response
from emulator.state import EmulatorState

__all__ = ["EmulatorConfig", "create_app"]

log = logging.getLogger(__name__)


def _routes() -> list[Route]:
    routes = [
        Route("/auth/oauth/device", auth.device, methods=["POST"]),
        Route("/auth/oauth/token", auth.token, methods=["POST"]),
        Route("/auth/oauth/authorize", auth.authorize, methods=["GET"]),
        Route("/me", account_api.me, methods=["GET"]),
        Route("/sale/offer-events", journal_api.offer_events, methods=["GET"]),
        Route("/order/events", journal_api.order_events, methods=["GET"]),
        Route("/order/event-stats", journal_api.event_stats, methods=["GET"]),
        Route("/order/checkout-forms", order_api.list_forms, methods=["GET"]),
        Route("/order/checkout-forms/{id}", order_api.get_form, methods=["GET"]),
        Route("/order/checkout-forms/{id}/fulfillment", order_api.put_fulfillment, methods=["PUT"]),
        Route("/sale/product-offers", offer_api.create_offer, methods=["POST"]),
        Route("/sale/product-offers/{offerId}", offer_api.get_offer, methods=["GET"]),
        Route("/sale/product-offers/{offerId}", offer_api.patch_offer, methods=["PATCH"]),
        Route("/sale/product-offers/{offerId}/parts", offer_api.get_parts, methods=["GET"]),
        Route("/sale/product-offers/{offerId}/operations/{operationId}", offer_api.get_operation, methods=["GET"]),
        Route("/sale/offers", offer_api.list_offers, methods=["GET"]),
        Route("/sale/categories", catalogue_api.list_categories, methods=["GET"]),
        Route("/sale/categories/{categoryId}", catalogue_api.get_category, methods=["GET"]),
        Route("/sale/categories/{categoryId}/parameters", catalogue_api.get_parameters, methods=["GET"]),
        Route("/sale/products", catalogue_api.search_products, methods=["GET"]),
        Route("/sale/products/{productId}", catalogue_api.get_product, methods=["GET"]),
    ]
    for resource in command_api.RESOURCES:
        routes += [
            Route(f"/sale/{resource}/{{commandId}}", command_api.put_command, methods=["PUT"]),
            Route(f"/sale/{resource}/{{commandId}}", command_api.get_report, methods=["GET"]),
            Route(f"/sale/{resource}/{{commandId}}/tasks", command_api.get_tasks, methods=["GET"]),
        ]
    prefix = "/__emulator"
    routes += [
        Route(f"{prefix}/reset", control.reset, methods=["POST"]),
        Route(f"{prefix}/device-approvals", control.device_approvals, methods=["POST"]),
        Route(f"{prefix}/tokens", control.issue_tokens, methods=["POST"]),
        Route(f"{prefix}/offers", control.list_offers, methods=["GET"]),
        Route(f"{prefix}/offers", control.create_offer, methods=["POST"]),
        Route(f"{prefix}/offers/{{offer_id}}", control.edit_offer, methods=["PATCH"]),
        Route(f"{prefix}/checkout-forms", control.list_forms, methods=["GET"]),
        Route(f"{prefix}/purchases", control.purchases, methods=["POST"]),
        Route(f"{prefix}/payments", control.payments, methods=["POST"]),
        Route(f"{prefix}/cancellations", control.cancellations, methods=["POST"]),
        Route(f"{prefix}/faults", control.get_faults, methods=["GET"]),
        Route(f"{prefix}/faults", control.put_faults, methods=["PUT"]),
        Route(f"{prefix}/clock", control.clock, methods=["GET", "POST"]),
        Route(f"{prefix}/state", control.dump_state, methods=["GET"]),
        Route(f"{prefix}/requests", control.requests, methods=["GET", "DELETE"]),
    ]
    return routes


async def _http_error(request: Request, exc: Exception) -> Response:
    """Unknown paths and methods answer in the shape of the part of the server they hit, never plain text."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    detail = exc.detail if isinstance(exc, HTTPException) else "Internal error"
    path = request.url.path
    if path.startswith("/__emulator"):
        return control.refuse(status, detail)
    if path.startswith("/auth/oauth"):
        return auth_error(status, "invalid_request", detail)
    code = {404: "NotFoundException", 405: "MethodNotAllowedException"}.get(status, "HttpException")
    return json_response({"errors": [error(code, detail)]}, status)


async def _client_gone(_: Request, __: Exception) -> Response:
    """A client killed while sending its body (as the crash campaign does): nothing was applied, no answer
    can reach it, and it is no error of the emulator's."""
    return Response(status_code=400)


def create_app(config: EmulatorConfig | None = None) -> Starlette:
    """A fresh emulator; with `config.state_file` it resumes the saved world and saves after every write."""
    config = config or EmulatorConfig()
    state = EmulatorState(config)
    if config.state_file and persistence.load_file(state, config.state_file):
        log.info("emulator state loaded from %s", config.state_file)
    routes = _routes()

    def save() -> None:
        if config.state_file:
            persistence.save(state, config.state_file)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        save()

    middleware = [Middleware(Gateway, state=state, routes=routes, after_write=save)]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={HTTPException: _http_error, ClientDisconnect: _client_gone},
    )
    app.state.emulator = state
    return app
