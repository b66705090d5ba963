"""Category parameters and the product catalogue (look-up by EAN/GTIN)."""

from __future__ import annotations

from adapters.allegro import answers, readers
from adapters.allegro.caller import Call, Caller
from adapters.allegro.errors import MalformedAnswer, malformed
from engine.errors import SkipItem
from engine.model import CatalogueProduct, CategoryParameter


class Catalogue:
    def __init__(self, caller: Caller) -> None:
        self._caller = caller

    async def category_parameters(self, category_id: str) -> list[CategoryParameter]:
        """The parameters of a category; an unknown category (404) -> SkipItem naming the mapping to fix."""
        endpoint = "GET /sale/categories/{categoryId}/parameters"
        response = await self._caller.send(
            Call(
                method="GET",
                path=f"/sale/categories/{category_id}/parameters",
                endpoint=endpoint,
                expect=frozenset({200, 404}),
            )
        )
        if response.status_code == 404:
            raise SkipItem(f"Allegro has no category {category_id!r}: fix its entry in [mapping.categories]")
        try:
            rows = answers.items(answers.json_body(response), "parameters")
            found = []
            for index, row in enumerate(rows):
                try:
                    found.append(readers.category_parameter(row))
                except MalformedAnswer as exc:
                    raise MalformedAnswer(f"parameters[{index}].{exc.field}", exc.detail) from None
            return found
        except MalformedAnswer as exc:
            raise malformed(f"{endpoint} (category {category_id})", exc, per_item=True) from None

    async def product_by_gtin(self, ean: str) -> CatalogueProduct | None:
        """The catalogue product with this EAN; None when there is none; SkipItem when several match."""
        endpoint = "GET /sale/products"
        response = await self._caller.send(
            Call(method="GET", path="/sale/products", endpoint=endpoint, params=[("phrase", ean), ("mode", "GTIN")])
        )
        try:
            rows = answers.items(answers.json_body(response), "products")
            products = [readers.catalogue_product(row) for row in rows]
        except MalformedAnswer as exc:
            raise malformed(f"{endpoint} (EAN {ean})", exc, per_item=True) from None
        if len(products) > 1:
            ids = ", ".join(product.product_id for product in products[:5])
            raise SkipItem(f"EAN {ean} matches {len(products)} catalogue products ({ids}): choose one by hand")
        return products[0] if products else None
