"""The offer as `GET /sale/offers` (and the control API's `GET offers`) lists it."""

from __future__ import annotations

from typing import Any

from emulator.clock import iso
from emulator.offers import stock_of
from emulator.records import Json, Offer


def listing_json(offer: Offer) -> Json:
    """The offer as `GET /sale/offers` lists it (absent values are left out: the spec's schema has no nulls)."""
    body = offer.body
    images = body.get("images") or []
    publication = body["publication"]
    listed: Json = _without_nulls(
        {
            "id": offer.id,
            "name": body["name"],
            "category": {"id": body["category"]["id"]},
            "primaryImage": {"url": images[0]} if images else None,
            "sellingMode": {
                "format": body["sellingMode"]["format"],
                "price": body["sellingMode"]["price"],
                "minimalPrice": None,
                "startingPrice": None,
                "priceAutomation": None,
            },
            "saleInfo": {"currentPrice": None, "biddersCount": 0},
            "stats": {"watchersCount": 0, "visitsCount": 0},
            "stock": {"available": stock_of(offer), "sold": offer.sold},
            "publication": {
                "status": publication["status"],
                "startingAt": None,
                "startedAt": iso(offer.started_at) if offer.started_at is not None else None,
                "endingAt": None,
                "endedAt": iso(offer.ended_at) if offer.ended_at is not None else None,
                "marketplaces": publication["marketplaces"],
            },
            "afterSalesServices": body.get("afterSalesServices") or {},
            "additionalServices": None,
            "external": body.get("external"),
            "delivery": {"shippingRates": body["delivery"].get("shippingRates")},
            "b2b": {"buyableOnlyByBusiness": False},
            "fundraisingCampaign": None,
            "isFulfillment": False,
            "additionalMarketplaces": {},
        }
    )
    return listed


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    return value
