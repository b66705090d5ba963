"""Server-side offer validation and normalisation: request body in, stored offer body and `errors[]` out."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from emulator import catalogue
from emulator.clock import iso
from emulator.description_rules import check_description, check_image_urls
from emulator.http import error, money, parse_amount
from emulator.records import Json

MAX_IMAGES = 16
MAX_STOCK = 100_000
MIN_NAME, MAX_NAME = 12, 75
MAX_EXTERNAL_ID = 100
# Seller settings that may be given by name; the emulator's account has one of each.
NAMED_SETTINGS = {
    "shippingRates": ("Standard", "Kurier"),
    "returnPolicy": ("Standard",),
    "impliedWarranty": ("Standard",),
    "warranty": ("Standard",),
}


def setting_id(kind: str, name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"allegro-emulator/{kind}/{name}"))


def _setting(kind: str, given: Any, path: str, errors: list[Json]) -> Json | None:
    """Resolves a seller setting given by id or name to `{id, name}`; records a 422 error when unknown."""
    if given is None:
        return None
    key = given.get("id") or given.get("name") if isinstance(given, dict) else None
    for name in NAMED_SETTINGS[kind]:
        if key in (name, setting_id(kind, name)):
            return {"id": setting_id(kind, name), "name": name}
    errors.append(error("NotFoundException", f"Unknown {kind}: {key!r}", path=path))
    return None


def _product(body: Json, errors: list[Json]) -> tuple[Json | None, list[Json]]:
    """The catalogue product linked by `productSet` (by id or GTIN) and the normalised product set."""
    linked: Json | None = None
    product_set: list[Json] = []
    for index, entry in enumerate(body.get("productSet") or []):
        given = (entry or {}).get("product") or {}
        if given.get("id") is None:
            product_set.append({"product": given})
            if given.get("images"):
                linked = linked or {"images": [{"url": url} for url in given["images"] if isinstance(url, str)]}
            continue
        ean = catalogue.ean_of(str(given["id"]))
        if ean is None:
            errors.append(
                error(
                    "ProductNotFoundException",
                    f"Product {given['id']!r} not found",
                    path=f"productSet[{index}].product.id",
                )
            )
            continue
        found = catalogue.product(ean)
        linked = linked or found
        product_set.append({"product": {"id": found["id"], "parameters": found["parameters"]}})
    return linked, product_set


def _parameters(body: Json, category_id: str | None, product: Json | None, errors: list[Json]) -> list[Json]:
    """Offer parameters by id or name, values by id or text; missing required ones listed in metadata."""
    known = {param["id"]: param for param in catalogue.parameters(category_id or "")}
    by_name = {param["name"]: param for param in known.values()}
    result: list[Json] = []
    for index, given in enumerate(body.get("parameters") or []):
        param = known.get(str(given.get("id"))) or by_name.get(str(given.get("name")))
        if param is None:
            errors.append(
                error(
                    "ParameterNotFoundException",
                    f"Parameter {given.get('id') or given.get('name')!r} does not exist in this category",
                    path=f"parameters[{index}]",
                )
            )
            continue
        values = [str(value) for value in given.get("values") or []]
        values_ids = [str(value) for value in given.get("valuesIds") or []]
        if param["type"] == "dictionary":
            names = {entry["value"]: entry["id"] for entry in param["dictionary"]}
            values_ids += [names[value] for value in values if value in names]
            allowed = set(names.values())
            if not values_ids or any(value not in allowed for value in values_ids):
                errors.append(
                    error(
                        "ParameterValueException",
                        f"Invalid value of parameter {param['id']}",
                        path=f"parameters[{index}]",
                    )
                )
            values = []
        result.append(
            {
                "id": param["id"],
                "name": param["name"],
                "values": values,
                "valuesIds": values_ids or None,
                "rangeValue": None,
            }
        )
    present = {param["id"] for param in result}
    if product is not None:
        present |= {str(param.get("id")) for param in product.get("parameters") or []}
        present |= {param["id"] for param in known.values() if param["requiredForProduct"] and "id" in product}
    missing = [param["id"] for param in known.values() if param["required"] and param["id"] not in present]
    if missing:
        ids = ", ".join(missing)
        errors.append(
            error(
                "ConstraintViolationException.MissingRequiredParameters",
                f"Missing required parameters: {ids}",
                path="parameters",
                user_message=f"Uzupełnij parametry obowiązkowe: {ids}",
                metadata={"missingParameterIds": ids},
            )
        )
    return result


def _price(body: Json, errors: list[Json]) -> Json:
    selling = body.get("sellingMode") or {}
    price = selling.get("price") or {}
    amount = parse_amount(price.get("amount"))
    if amount is None or amount <= 0:
        errors.append(
            error(
                "ConstraintViolationException.PriceRange",
                "The price must be greater than 0",
                path="sellingMode.price.amount",
            )
        )
        amount = Decimal(0)
    return {
        "format": selling.get("format") or "BUY_NOW",
        "price": money(amount, price.get("currency") or "PLN"),
        "minimalPrice": None,
        "startingPrice": None,
    }


def _stock(body: Json, errors: list[Json], *, activating: bool) -> Json:
    stock = body.get("stock")
    available = stock.get("available") if isinstance(stock, dict) else None
    if isinstance(available, bool) or not isinstance(available, int) or not 0 <= available <= MAX_STOCK:
        errors.append(
            error(
                "ConstraintViolationException.StockRange",
                f"stock.available must be an integer between 0 and {MAX_STOCK}",
                path="stock.available",
            )
        )
        available = 0
    elif activating and available < 1:
        errors.append(
            error(
                "AvailableStockMustEqualToOneOrBeGreaterThanOne",
                "Available stock must be equal to 1 or greater than 1",
                path="stock.available",
            )
        )
    unit = stock.get("unit") if isinstance(stock, dict) else None
    return {"available": available, "unit": unit if unit in ("UNIT", "PAIR", "SET") else "UNIT"}


def normalise(body: Json, *, activating: bool, errors: list[Json], check_html: bool = True) -> Json:
    """The offer content Allegro would store for `body` (publication, ids and times are added by the caller).

    `activating`: the request asks for ACTIVE, which needs stock of at least 1. `check_html`: TEXT items of
    the description must be Allegro's HTML subset (the `strict_descriptions` switch).
    """
    name = body.get("name")
    if not isinstance(name, str) or not MIN_NAME <= len(name) <= MAX_NAME:
        errors.append(
            error(
                "ConstraintViolationException.NameLength",
                f"The offer name must have {MIN_NAME} to {MAX_NAME} characters",
                path="name",
            )
        )
    product, product_set = _product(body, errors)
    category_id = ((body.get("category") or {}).get("id")) or (product or {}).get("category", {}).get("id")
    category = catalogue.category(str(category_id)) if category_id else None
    if category is None:
        errors.append(error("CategoryNotFoundException", f"Category {category_id!r} not found", path="category.id"))
    elif not category["leaf"]:
        errors.append(error("CATEGORY_NOT_LEAF", f"Category {category_id} is not a leaf category", path="category.id"))
    # Parameters are checked against a known leaf category only; otherwise the category error says it all.
    parameters = (
        _parameters(body, str(category_id), product, errors)
        if category and category["leaf"]
        else list(body.get("parameters") or [])
    )
    images = [url for url in body.get("images") or [] if isinstance(url, str)]
    check_image_urls(images, errors)
    if check_html:
        check_description(body.get("description"), errors)
    if not images and product is not None:
        images = [image["url"] for image in product.get("images") or []]
    if not images:
        errors.append(
            error("GallerySizeException", "The offer needs at least one image or a catalogue product", path="images")
        )
    elif len(images) > MAX_IMAGES:
        errors.append(error("GallerySizeException", f"At most {MAX_IMAGES} images are allowed", path="images"))
    stock = _stock(body, errors, activating=activating)
    external = body.get("external")
    external_id = external.get("id") if isinstance(external, dict) else None
    if external_id is not None and (not isinstance(external_id, str) or len(external_id) > MAX_EXTERNAL_ID):
        errors.append(
            error(
                "ConstraintViolationException.ExternalIdLength",
                f"external.id must be a string of at most {MAX_EXTERNAL_ID} characters",
                path="external.id",
            )
        )
    delivery = body.get("delivery") or {}
    after_sales = body.get("afterSalesServices") or {}
    # An offer without a signature has no `external` at all (the spec does not allow null there).
    signature = {"external": {"id": external_id}} if external_id is not None else {}
    return signature | {
        "name": name,
        "productSet": product_set,
        "category": {"id": str(category_id) if category_id else None},
        "parameters": parameters,
        "sellingMode": _price(body, errors),
        "stock": stock,
        "images": images,
        "description": body.get("description") or {"sections": []},
        "delivery": {
            "handlingTime": delivery.get("handlingTime") or "PT24H",
            "shippingRates": _setting("shippingRates", delivery.get("shippingRates"), "delivery.shippingRates", errors),
            "additionalInfo": delivery.get("additionalInfo"),
            "shipmentDate": None,
        },
        "afterSalesServices": {
            kind: found
            for kind in ("returnPolicy", "impliedWarranty", "warranty")
            if (found := _setting(kind, after_sales.get(kind), f"afterSalesServices.{kind}", errors)) is not None
        },
        "payments": {"invoice": (body.get("payments") or {}).get("invoice") or "VAT"},
        "location": body.get("location")
        or {"countryCode": "PL", "province": "WIELKOPOLSKIE", "city": "Poznań", "postCode": "60-166"},
        "language": body.get("language") or "pl-PL",
    }


def validation_block(errors: list[Json], now: float) -> Json:
    return {"errors": errors, "warnings": [], "validatedAt": iso(now)}
