"""The description subset and image URLs that Allegro accepts, with the `strict_descriptions` switch both ways."""

from __future__ import annotations

import pytest

from emulator.description_rules import html_problem
from tests.emulator.seller_api import SellerApi, offer_body

pytestmark = pytest.mark.anyio


def _described(content: str) -> dict[str, object]:
    return {"sections": [{"items": [{"type": "TEXT", "content": content}]}]}


@pytest.mark.parametrize(
    "content",
    [
        "<p>Kabel</p>",
        "<h1>Kabel</h1><h2>Cechy</h2><p>a <b>b</b> &amp; c</p><ul><li>x <b>y</b></li></ul><ol><li>z</li></ol>",
        "",
    ],
)
def test_the_subset_passes(content: str) -> None:
    assert html_problem(content) is None


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ("<p><strong>x</strong></p>", '"strong", allowed tags: {b}'),
        ("<div>x</div>", '"div", allowed tags: {h1, h2, p, ul, ol}'),
        ("<ul><h2>x</h2></ul>", '"h2", allowed tags: {li}'),
        ("<p><h2>x</h2></p>", '"h2", allowed tags: {b}'),
        ("<p><b><b>x</b></b></p>", 'Tag "b" is a simple type'),
        ('<p class="x">x</p>', 'Tag "p" must have no attributes'),
        ("plain text", "Text must be inside one of the tags"),
        ("<p>x<br/>y</p>", '"br"'),
        ("<p>x", 'Missing ending tag for "p"'),
        ("<p>x</p>y</p>", "Text must be inside"),
        ("<li>x</li>", '"li", allowed tags: {h1, h2, p, ul, ol}'),
    ],
)
def test_what_breaks_the_subset_is_named(content: str, named: str) -> None:
    problem = html_problem(content)
    assert problem is not None and named in problem, problem


async def test_a_description_outside_the_subset_is_refused(seller: SellerApi) -> None:
    response = await seller.post("/sale/product-offers", offer_body(description=_described("<div>Kabel</div>")))
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["code"], error["message"], error["path"]) == (
        "VALIDATION_ERROR",
        "Invalid HTML subset",
        "description.sections[0].items[0].content",
    )
    assert '"div"' in error["details"]
    assert (await seller.get("/sale/offers")).json()["totalCount"] == 0


async def test_with_the_switch_off_any_description_is_stored(seller: SellerApi) -> None:
    await seller.faults(strict_descriptions=False)
    created = await seller.create_offer(description=_described("<div><script>x</script>Kabel</div>"))
    assert created["description"]["sections"][0]["items"][0]["content"] == "<div><script>x</script>Kabel</div>"


async def test_a_patch_with_a_bad_description_is_refused_and_changes_nothing(seller: SellerApi) -> None:
    created = await seller.create_offer(description=_described("<p>Kabel</p>"))
    response = await seller.patch(f"/sale/product-offers/{created['id']}", {"description": _described("Kabel")})
    assert response.status_code == 422
    stored = (await seller.get(f"/sale/product-offers/{created['id']}")).json()
    assert stored["description"]["sections"][0]["items"][0]["content"] == "<p>Kabel</p>"


@pytest.mark.parametrize("image", ["zdjecie1.jpg", "/user/shop/big/209368-12.jpg?670f71bc", "ftp://x/1.jpg"])
async def test_an_image_that_is_not_an_http_url_is_refused(seller: SellerApi, image: str) -> None:
    response = await seller.post("/sale/product-offers", offer_body(images=["https://example.invalid/1.jpg", image]))
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["code"], error["path"]) == ("VALIDATION_ERROR", "images[1]")
    assert image in error["details"]
