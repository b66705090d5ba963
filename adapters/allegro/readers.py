"""Allegro JSON -> the engine's value types (offers, journal entries, checkout forms, parameters, products)."""

from __future__ import annotations

from datetime import datetime

from adapters.allegro import answers
from adapters.allegro.answers import Json
from adapters.allegro.errors import MalformedAnswer
from engine.model import (
    CatalogueProduct,
    CategoryParameter,
    CheckoutForm,
    OfferEvent,
    OfferSnapshot,
    OfferStatus,
    OrderEvent,
    OrderLine,
)

_STATUSES = {status.value: status for status in OfferStatus if status is not OfferStatus.ARCHIVED}


def offer_status(data: Json, path: str = "publication.status") -> OfferStatus:
    value = answers.text(data, path)
    if value not in _STATUSES:
        raise MalformedAnswer(path, f"is {value!r}, expected one of {', '.join(_STATUSES)}")
    return _STATUSES[value]


def offer(data: Json, read_at: datetime) -> OfferSnapshot:
    """An offer from `GET /sale/product-offers/{id}`, a create/PATCH answer or a `GET /sale/offers` entry."""
    return OfferSnapshot(
        offer_id=answers.text(data, "id"),
        external_id=answers.optional_text(data, "external.id"),
        status=offer_status(data),
        available=answers.optional_integer(data, "stock.available") or 0,
        price=answers.amount(data, "sellingMode.price.amount"),
        read_at=read_at,
        ended_by=answers.optional_text(data, "publication.endedBy"),
    )


def parts(data: Json, read_at: datetime, status: OfferStatus, external_id: str | None) -> OfferSnapshot:
    """`/parts?include=stock&include=price` carries no status: it comes from the offer list."""
    return OfferSnapshot(
        offer_id=answers.text(data, "id"),
        external_id=external_id,
        status=status,
        available=answers.integer(data, "stock.available"),
        price=answers.amount(data, "sellingMode.price.amount"),
        read_at=read_at,
    )


def archived(offer_id: str, read_at: datetime, external_id: str | None = None) -> OfferSnapshot:
    return OfferSnapshot(
        offer_id=offer_id,
        external_id=external_id,
        status=OfferStatus.ARCHIVED,
        available=0,
        price=None,
        read_at=read_at,
    )


def offer_event(data: Json) -> OfferEvent:
    return OfferEvent(
        event_id=answers.text(data, "id"),
        type=answers.text(data, "type"),
        occurred_at=answers.moment(data, "occurredAt"),
        offer_id=answers.text(data, "offer.id"),
        external_id=answers.optional_text(data, "offer.external.id"),
        ended_by=answers.optional_text(data, "offer.publication.endedBy"),
    )


def order_line(data: Json) -> OrderLine:
    return OrderLine(
        line_id=answers.text(data, "id"),
        offer_id=answers.text(data, "offer.id"),
        external_id=answers.optional_text(data, "offer.external.id"),
        quantity=answers.integer(data, "quantity"),
        bought_at=answers.optional_moment(data, "boughtAt"),
    )


def _lines(data: Json, path: str) -> tuple[OrderLine, ...]:
    found = []
    for index, item in enumerate(answers.items(data, path)):
        try:
            found.append(order_line(item))
        except MalformedAnswer as exc:
            raise MalformedAnswer(f"{path}[{index}].{exc.field}", exc.detail) from None
    return tuple(found)


def order_event(data: Json) -> OrderEvent:
    return OrderEvent(
        event_id=answers.text(data, "id"),
        type=answers.text(data, "type"),
        occurred_at=answers.moment(data, "occurredAt"),
        checkout_form_id=answers.text(data, "order.checkoutForm.id"),
        revision=answers.optional_text(data, "order.checkoutForm.revision"),
        lines=_lines(data, "order.lineItems"),
    )


def checkout_form(data: Json) -> CheckoutForm:
    return CheckoutForm(
        checkout_form_id=answers.text(data, "id"),
        status=answers.text(data, "status"),
        revision=answers.optional_text(data, "revision"),
        updated_at=answers.optional_moment(data, "updatedAt"),
        lines=_lines(data, "lineItems"),
    )


def category_parameter(data: Json) -> CategoryParameter:
    dictionary = tuple(
        (answers.text(entry, "id"), answers.text(entry, "value"))
        for entry in answers.optional_items(data, "dictionary")
    )
    return CategoryParameter(
        parameter_id=answers.text(data, "id"),
        name=answers.text(data, "name"),
        type=answers.text(data, "type"),
        required=bool(answers.optional(data, "required")),
        dictionary=dictionary,
    )


def catalogue_product(data: Json) -> CatalogueProduct:
    images = []
    for image in answers.optional(data, "images") or []:
        url = image.get("url") if isinstance(image, dict) else image
        if isinstance(url, str) and url:
            images.append(url)
    return CatalogueProduct(product_id=answers.text(data, "id"), name=answers.text(data, "name"), images=tuple(images))
