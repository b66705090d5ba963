"""The demo catalogue: categories, their parameters, and a product for every valid EAN-13."""

from __future__ import annotations

import pytest

from emulator.catalogue import ean_of, is_valid_ean13, product_id
from tests.emulator.seller_api import VALID_EAN, SellerApi

pytestmark = pytest.mark.anyio


async def test_top_level_categories_and_their_children(seller: SellerApi) -> None:
    top = (await seller.get("/sale/categories")).json()["categories"]
    assert [(category["id"], category["leaf"]) for category in top] == [("3", False), ("5", False)]
    children = (await seller.get("/sale/categories", params={"parent.id": "3"})).json()["categories"]
    assert [category["id"] for category in children] == ["257931", "257932"]
    assert children[0]["parent"] == {"id": "3"}


async def test_unknown_category_is_404(seller: SellerApi) -> None:
    assert (await seller.get("/sale/categories/424242")).status_code == 404
    assert (await seller.get("/sale/categories/424242/parameters")).status_code == 404


async def test_every_leaf_has_the_condition_parameter(seller: SellerApi) -> None:
    for category_id in ("257931", "257932", "257933"):
        parameters = (await seller.get(f"/sale/categories/{category_id}/parameters")).json()["parameters"]
        condition = parameters[0]
        assert (condition["id"], condition["name"], condition["required"]) == ("11323", "Stan", True)
        assert [(value["id"], value["value"]) for value in condition["dictionary"]] == [
            ("11323_1", "Nowy"),
            ("11323_2", "Używany"),
        ]


async def test_headphones_require_a_brand(seller: SellerApi) -> None:
    parameters = (await seller.get("/sale/categories/257932/parameters")).json()["parameters"]
    brand = parameters[1]
    assert (brand["name"], brand["type"], brand["required"]) == ("Marka", "dictionary", True)


async def test_valid_ean_finds_a_deterministic_product(seller: SellerApi) -> None:
    found = (await seller.get("/sale/products", params={"phrase": VALID_EAN, "mode": "GTIN"})).json()
    again = (await seller.get("/sale/products", params={"phrase": VALID_EAN, "mode": "GTIN"})).json()
    assert found == again
    product = found["products"][0]
    assert product["id"] == product_id(VALID_EAN)
    assert product["name"].endswith(VALID_EAN[-5:])
    assert len(product["images"]) == 2


async def test_invalid_ean_finds_nothing(seller: SellerApi) -> None:
    found = (await seller.get("/sale/products", params={"phrase": "5901234123458", "mode": "GTIN"})).json()
    assert found["products"] == []


async def test_product_can_be_read_by_id(seller: SellerApi) -> None:
    response = await seller.get(f"/sale/products/{product_id(VALID_EAN)}")
    assert response.json()["name"].endswith(VALID_EAN[-5:])
    assert (await seller.get("/sale/products/nope")).status_code == 404


def test_ean_checksum_and_product_ids_round_trip() -> None:
    assert is_valid_ean13("4006381333931") and not is_valid_ean13("4006381333932")
    assert ean_of(product_id("4006381333931")) == "4006381333931"
    assert ean_of("not-a-product") is None
