"""The row normalizer: types, flags, prices with commas, every problem listed, a stable hash without stock."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.warehouse.columns import layout_of
from adapters.warehouse.normalize import RowNormalizer
from engine.model import ProductRow, RowProblem

COLUMNS = [
    "product_id", "external_id", "title", "price", "stock", "list", "category", "condition",
    "ean", "description", "images", "updated_at", "marka",
]  # fmt: skip


def normalize(**values: Any) -> ProductRow | RowProblem:
    layout = layout_of(COLUMNS, key="products_query")
    row = {"product_id": 1, "stock": 3, **values}
    return RowNormalizer(layout)(tuple(row.get(name) for name in COLUMNS))


def test_valid_row_is_trimmed_typed_and_defaults_external_id_to_product_id() -> None:
    row = normalize(title="  Kabel HDMI 2 m  ", price="12,50", list="TAK", category="", ean=5901234123457,
                    images="https://a.invalid/1.jpg, https://a.invalid/2.jpg\nhttps://a.invalid/3.jpg",
                    marka=" Acme ", stock=Decimal("4.000"))  # fmt: skip
    assert isinstance(row, ProductRow)
    assert row.product_id == "1" and row.external_id == "1"
    assert row.title == "Kabel HDMI 2 m"
    assert row.price == Decimal("12.50")
    assert row.stock == 4
    assert row.list is True
    assert row.category is None
    assert row.ean == "5901234123457"
    assert row.images == ("https://a.invalid/1.jpg", "https://a.invalid/2.jpg", "https://a.invalid/3.jpg")
    assert row.extra == (("marka", "Acme"),)


def test_list_flags_in_polish_and_english() -> None:
    for truthy in (1, "1", "T", "t", "tak", "TAK", "yes", "Y", True):
        assert normalize(list=truthy).list is True, truthy  # type: ignore[union-attr]
    for falsy in (0, "0", "N", "nie", "no", "", None, False):
        assert normalize(list=falsy).list is False, falsy  # type: ignore[union-attr]


def test_every_problem_of_a_row_is_listed() -> None:
    problem = normalize(product_id=7, price="dwanaście", stock=None, list="może")
    assert isinstance(problem, RowProblem)
    assert problem.product_id == "7"
    assert len(problem.problems) == 3
    assert "price 'dwanaście' is not a number" in problem.problems[0]
    assert "list 'może' is not a yes/no value" in problem.problems[1]
    assert "stock is empty (NULL)" in problem.problems[2]


def test_negative_stock_and_fractional_stock_are_problems() -> None:
    negative = normalize(stock=-2)
    fractional = normalize(stock="2,5")
    assert isinstance(negative, RowProblem)
    assert negative.problems == ("stock -2 is negative; correct it in the warehouse (0 or more units)",)
    assert isinstance(fractional, RowProblem)
    assert fractional.problems == (
        "stock '2,5' is not a whole number; products_query must return a whole number of units",
    )
    assert negative.row_hash.startswith("s:")


def test_hash_ignores_stock_and_updated_at_but_not_content() -> None:
    base = normalize(title="Kabel", stock=1, updated_at=datetime(2024, 1, 1))
    moved = normalize(title="Kabel", stock=9, updated_at=datetime(2025, 1, 1))
    edited = normalize(title="Kabel USB", stock=1, updated_at=datetime(2024, 1, 1))
    assert base.row_hash == moved.row_hash
    assert base.row_hash != edited.row_hash
    assert len(base.row_hash) == 32


def test_problem_hash_differs_from_any_row_hash_and_is_stable() -> None:
    first = normalize(price="x")
    again = normalize(price="x")
    assert isinstance(first, RowProblem)
    assert first.row_hash == again.row_hash
    assert first.row_hash != normalize(price="1").row_hash


def test_ambiguous_price_separators_are_a_problem() -> None:
    problem = normalize(price="1.234,50")
    assert isinstance(problem, RowProblem) and "ambiguous" in problem.problems[0]


raw_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.binary(max_size=8),
    st.datetimes(),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(raw_values, min_size=len(COLUMNS), max_size=len(COLUMNS)))
def test_normalizer_never_raises_and_returns_a_row_or_a_problem(values: list[Any]) -> None:
    layout = layout_of(COLUMNS, key="products_query")
    result = RowNormalizer(layout)(tuple(values))
    assert isinstance(result, ProductRow | RowProblem)
    if isinstance(result, ProductRow):
        assert result.stock >= 0
        assert result.price is None or (result.price.is_finite() and result.price >= 0)
        assert result.title is None or result.title == result.title.strip() != ""
    else:
        assert result.problems
