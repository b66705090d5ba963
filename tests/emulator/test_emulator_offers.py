"""Creating offers (validation, catalogue products, async creation, limits) and the offer list."""

from __future__ import annotations

from typing import Any

import pytest

from tests.emulator.seller_api import VALID_EAN, SellerApi, offer_body

pytestmark = pytest.mark.anyio

EAN_PRODUCT = [{"product": {"id": VALID_EAN, "idType": "GTIN"}}]


async def test_offer_without_publication_is_created_as_inactive(seller: SellerApi) -> None:
    created = await seller.create_offer(publication=None)
    assert created["publication"]["status"] == "INACTIVE"
    assert created["validation"]["errors"] == []
    assert await seller.offer_event_types() == []


async def test_offer_created_active_is_active_with_an_activation_event(seller: SellerApi) -> None:
    created = await seller.create_offer()
    assert created["publication"]["status"] == "ACTIVE"
    assert created["sellingMode"]["price"] == {"amount": "19.99", "currency": "PLN"}
    assert created["createdAt"].endswith("Z") and len(created["createdAt"]) == 24
    assert await seller.offer_event_types() == ["OFFER_ACTIVATED"]


async def test_creating_an_offer_is_not_idempotent(seller: SellerApi) -> None:
    first = await seller.create_offer()
    second = await seller.create_offer()
    assert first["id"] != second["id"]
    listed = (await seller.get("/sale/offers", params={"external.id": "SKU-1"})).json()
    assert listed["totalCount"] == 2


@pytest.mark.parametrize(
    ("overrides", "code", "path"),
    [
        ({"name": "Za krótka"}, "ConstraintViolationException.NameLength", "name"),
        ({"name": "x" * 76}, "ConstraintViolationException.NameLength", "name"),
        ({"category": None}, "CategoryNotFoundException", "category.id"),
        ({"category": {"id": "999999"}}, "CategoryNotFoundException", "category.id"),
        ({"category": {"id": "3"}}, "CATEGORY_NOT_LEAF", "category.id"),
        (
            {"sellingMode": {"price": {"amount": "0.00", "currency": "PLN"}}},
            "ConstraintViolationException.PriceRange",
            "sellingMode.price.amount",
        ),
        ({"images": None}, "GallerySizeException", "images"),
        ({"images": [f"https://example.invalid/{n}.jpg" for n in range(17)]}, "GallerySizeException", "images"),
        ({"stock": {"available": -1}}, "ConstraintViolationException.StockRange", "stock.available"),
        ({"stock": {"available": 0}}, "AvailableStockMustEqualToOneOrBeGreaterThanOne", "stock.available"),
        ({"delivery": {"shippingRates": {"name": "No such rates"}}}, "NotFoundException", "delivery.shippingRates"),
        ({"external": {"id": "x" * 101}}, "ConstraintViolationException.ExternalIdLength", "external.id"),
        ({"parameters": [{"id": "11323", "valuesIds": ["11323_9"]}]}, "ParameterValueException", "parameters[0]"),
    ],
)
async def test_invalid_offer_is_refused_with_422(
    seller: SellerApi, overrides: dict[str, Any], code: str, path: str
) -> None:
    response = await seller.post("/sale/product-offers", offer_body(**overrides))
    assert response.status_code == 422
    assert [(error["code"], error["path"]) for error in response.json()["errors"]] == [(code, path)]
    assert (await seller.get("/sale/offers")).json()["totalCount"] == 0


async def test_missing_required_parameters_are_listed_in_metadata(seller: SellerApi) -> None:
    response = await seller.post("/sale/product-offers", offer_body(category={"id": "257932"}, parameters=[]))
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["code"] == "ConstraintViolationException.MissingRequiredParameters"
    assert error["metadata"] == {"missingParameterIds": "11323, 127448"}


async def test_parameters_can_be_given_by_name_and_value_text(seller: SellerApi) -> None:
    created = await seller.create_offer(parameters=[{"name": "Stan", "values": ["Używany"]}])
    assert created["parameters"][0]["id"] == "11323"
    assert created["parameters"][0]["valuesIds"] == ["11323_2"]


async def test_offer_linked_to_a_catalogue_product_needs_no_images(seller: SellerApi) -> None:
    created = await seller.create_offer(images=None, productSet=EAN_PRODUCT, category={"id": "257932"})
    assert created["images"] == [
        f"https://a.allegroimg.com/original/5901/{VALID_EAN}-1.jpg",
        f"https://a.allegroimg.com/original/5901/{VALID_EAN}-2.jpg",
    ]
    assert created["productSet"][0]["product"]["id"] == "5e000000-0000-4000-8000-055dfcf6b2c1"


async def test_product_with_an_invalid_ean_is_not_found(seller: SellerApi) -> None:
    response = await seller.post(
        "/sale/product-offers",
        offer_body(images=None, productSet=[{"product": {"id": "5901234123458", "idType": "GTIN"}}]),
    )
    assert response.status_code == 422
    assert {error["code"] for error in response.json()["errors"]} == {
        "ProductNotFoundException",
        "GallerySizeException",
    }


async def test_async_creation_answers_202_then_the_operation_redirects(seller: SellerApi) -> None:
    await seller.faults(async_offer_creation=True, async_operation_polls=1, retry_after_seconds=5)
    response = await seller.post("/sale/product-offers", offer_body())
    assert response.status_code == 202
    offer_id = response.json()["id"]
    assert response.json()["publication"]["status"] == "ACTIVATING"
    assert response.headers["retry-after"] == "5"
    location = response.headers["location"]
    assert location.startswith(f"http://127.0.0.1:8900/sale/product-offers/{offer_id}/operations/")
    path = location.removeprefix("http://127.0.0.1:8900")
    running = await seller.get(path)
    assert running.status_code == 202 and running.json()["operation"]["status"] == "IN_PROGRESS"
    done = await seller.get(path)
    assert done.status_code == 303
    assert done.headers["location"] == f"http://127.0.0.1:8900/sale/product-offers/{offer_id}"
    assert (await seller.offer(offer_id))["publication"]["status"] == "ACTIVE"


async def test_async_operation_completes_when_its_time_has_passed(seller: SellerApi) -> None:
    await seller.faults(async_offer_creation=True, async_operation_polls=100, retry_after_seconds=5)
    offer_id = (await seller.post("/sale/product-offers", offer_body())).json()["id"]
    await seller.advance(5)
    assert (await seller.offer(offer_id))["publication"]["status"] == "ACTIVE"


async def test_unknown_operation_is_404(seller: SellerApi) -> None:
    offer = await seller.create_offer()
    response = await seller.get(f"/sale/product-offers/{offer['id']}/operations/nope")
    assert response.status_code == 404


async def test_offer_creation_limit_per_minute_answers_429(seller: SellerApi) -> None:
    await seller.faults(offer_creation_limit_per_minute=2)
    await seller.create_offer()
    await seller.create_offer()
    refused = await seller.post("/sale/product-offers", offer_body())
    assert refused.status_code == 429
    assert refused.json()["errors"][0]["code"] == "RateLimitExceedException"
    await seller.advance(61)
    await seller.create_offer()


async def test_offer_list_pages_with_default_limit_20_newest_first(seller: SellerApi) -> None:
    ids = [(await seller.create_offer(external={"id": f"SKU-{n}"}))["id"] for n in range(22)]
    page = (await seller.get("/sale/offers")).json()
    assert (page["count"], page["totalCount"]) == (20, 22)
    assert [offer["id"] for offer in page["offers"]] == ids[::-1][:20]
    rest = (await seller.get("/sale/offers", params={"offset": 20})).json()
    assert [offer["id"] for offer in rest["offers"]] == ids[1::-1]


async def test_offer_list_filters_by_external_id_offer_id_and_status(seller: SellerApi) -> None:
    first = await seller.create_offer(external={"id": "A"})
    second = await seller.create_offer(external={"id": "B"}, publication=None)
    await seller.create_offer(external={"id": "C"})
    by_external = (await seller.get("/sale/offers", params=[("external.id", "A"), ("external.id", "B")])).json()
    assert sorted(offer["id"] for offer in by_external["offers"]) == sorted([first["id"], second["id"]])
    by_status = (await seller.get("/sale/offers", params={"publication.status": "INACTIVE"})).json()
    assert [offer["id"] for offer in by_status["offers"]] == [second["id"]]
    by_id = (await seller.get("/sale/offers", params={"offer.id": first["id"]})).json()
    assert by_id["offers"][0]["external"] == {"id": "A"}
    assert by_id["offers"][0]["stock"] == {"available": 5, "sold": 0}


async def test_offer_list_refuses_more_than_100_external_ids(seller: SellerApi) -> None:
    response = await seller.get("/sale/offers", params=[("external.id", str(n)) for n in range(101)])
    assert response.status_code == 400


@pytest.mark.parametrize("limit", ["0", "1001", "abc"])
async def test_offer_list_refuses_a_limit_outside_1_to_1000(seller: SellerApi, limit: str) -> None:
    assert (await seller.get("/sale/offers", params={"limit": limit})).status_code == 400


@pytest.mark.parametrize(
    ("field", "value", "path"),
    [
        ("category", "257931", "category"),
        ("images", [1], "images[0]"),
        ("parameters", {"id": "11323"}, "parameters"),
        ("sellingMode", {"price": "19.99"}, "sellingMode.price"),
    ],
)
async def test_a_field_of_the_wrong_json_type_is_a_bad_request(
    seller: SellerApi, field: str, value: object, path: str
) -> None:
    response = await seller.post("/sale/product-offers", offer_body(**{field: value}))
    assert response.status_code == 400
    assert [(error["code"], error["path"]) for error in response.json()["errors"]] == [("JsonMappingException", path)]


async def test_offer_list_refuses_offset_plus_limit_beyond_ten_million(seller: SellerApi) -> None:
    response = await seller.get("/sale/offers", params={"offset": 9_999_999, "limit": 2})
    assert response.status_code == 400
    assert (await seller.get("/sale/offers", params={"offset": 9_999_999, "limit": 1})).status_code == 200
