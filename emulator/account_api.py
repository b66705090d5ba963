"""HTTP handler for `GET /me`: the seller account behind the access token."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from emulator.http import api, json_response, seller_of


@api
async def me(request: Request) -> Response:
    seller_id = seller_of(request)
    return json_response(
        {
            "id": seller_id,
            "login": f"emulator-seller-{seller_id}",
            "firstName": "Emulator",
            "lastName": "Seller",
            "email": f"seller-{seller_id}@example.invalid",
            "baseMarketplace": {"id": "allegro-pl"},
            "company": {"name": "Emulator Sp. z o.o.", "taxId": "7770001234"},
            "features": [],
        }
    )
