"""HTTP handlers for categories, category parameters and the product catalogue search."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from emulator import catalogue
from emulator.http import api, fail, json_response


@api
async def list_categories(request: Request) -> Response:
    parent = request.query_params.get("parent.id")
    if parent is not None and parent != catalogue.ROOT_ID and catalogue.category(parent) is None:
        raise fail(404, "NotFoundException", f"Category {parent} not found.")
    return json_response({"categories": catalogue.children(parent)})


@api
async def get_category(request: Request) -> Response:
    found = catalogue.category(request.path_params["categoryId"])
    if found is None:
        raise fail(404, "NotFoundException", f"Category {request.path_params['categoryId']} not found.")
    return json_response(found)


@api
async def get_parameters(request: Request) -> Response:
    category_id = request.path_params["categoryId"]
    if catalogue.category(category_id) is None:
        raise fail(404, "NotFoundException", f"Category {category_id} not found.")
    return json_response({"parameters": catalogue.parameters(category_id)})


@api
async def search_products(request: Request) -> Response:
    """Only GTIN search is modelled: every valid EAN-13 is a product, anything else finds nothing."""
    phrase = request.query_params.get("phrase", "").strip()
    mode = request.query_params.get("mode")
    if mode not in (None, "GTIN", "MPN"):
        raise fail(400, "IllegalArgumentException", "mode must be GTIN or MPN", path="mode")
    found = [catalogue.product(phrase)] if catalogue.is_valid_ean13(phrase) and mode in (None, "GTIN") else []
    return json_response({"products": found, "categories": {"subcategories": [], "path": []}, "filters": []})


@api
async def get_product(request: Request) -> Response:
    ean = catalogue.ean_of(request.path_params["productId"])
    if ean is None:
        raise fail(404, "NotFoundException", f"Product {request.path_params['productId']} not found.")
    return json_response(catalogue.product(ean))
