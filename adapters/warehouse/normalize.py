"""Turns one raw result row of products_query into a normalized product (with its content hash) or a problem."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from hashlib import blake2b
from operator import itemgetter
from typing import Any, NamedTuple

from adapters.warehouse.columns import Layout
from adapters.warehouse.values import FLAGS, flag_value, images_value, price_value, stock_value, text_value
from engine.model import ProductRow, RowProblem

STOCK_PROBLEM_PREFIX = "s:"
"""A RowProblem hash starting with this marks a problem with the stock value: a later valid stock re-reads the row."""

_FIELD_SEP = "\x1f"


class Normalized(NamedTuple):
    """A row reduced to what the diff needs; `fields` is only turned into a ProductRow when it changed."""

    product_id: str
    row_hash: str
    stock: int | None
    problems: tuple[str, ...]
    fields: tuple[Any, ...]


def _digest(text: str) -> str:
    return blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


class RowNormalizer:
    """Normalizes rows of one query layout; `content_hash` alone recognises an unchanged row."""

    def __init__(self, layout: Layout) -> None:
        get = layout.positions.get
        self._product_id = layout.positions["product_id"]
        self._stock = self.stock_position = layout.positions["stock"]
        self._external_id = get("external_id", -1)
        self._title = get("title", -1)
        self._price = get("price", -1)
        self._list = get("list", -1)
        self._category = get("category", -1)
        self._condition = get("condition", -1)
        self._ean = get("ean", -1)
        self._description = get("description", -1)
        self._images = get("images", -1)
        self._extras = layout.extras
        skip = {layout.positions.get("stock"), layout.positions.get("updated_at")}
        self._content = tuple(i for i in range(len(layout.names)) if i not in skip)
        self.content_of: Callable[[Sequence[Any]], Any] = itemgetter(*self._content)
        """The raw values `content_hash` covers (every column but stock and updated_at)."""
        names = _FIELD_SEP.join(layout.names[i] for i in self._content)
        self._seed = blake2b(f"allegro-sync row 1{_FIELD_SEP}{names}".encode(), digest_size=16)
        self.product_id_position = self._product_id

    def content_hash(self, raw: Sequence[Any]) -> str:
        """The row hash: of the raw values of every column but stock and updated_at, and of the column names.

        Hashing what the driver returned (not the normalized values) lets an unchanged row be recognised
        without normalizing it; a change that normalizes to the same values (trailing spaces) is reported
        as a change, which costs nothing but an event.
        """
        return self.hash_content(self.content_of(raw))

    def hash_content(self, content: Any) -> str:
        state = self._seed.copy()
        state.update(repr(content).encode("utf-8", "surrogatepass"))
        return state.hexdigest()

    def digest(self, raw: Sequence[Any], row_hash: str | None = None) -> Normalized:
        """Normalize a row; `row_hash` is its `content_hash` when the caller has it already."""
        problems: list[str] = []
        value = raw[self._product_id]
        product_id = str(value) if type(value) is int else text_value(value)
        if product_id is None:
            problems.append("product_id is empty; every row needs a product id")
            product_id = ""
        stock, stock_problem = stock_value(raw[self._stock])
        texts: list[str | None] = []
        for position in (self._external_id, self._title, self._category, self._condition, self._ean,
                         self._description):  # fmt: skip
            value = raw[position] if position >= 0 else None
            if type(value) is str:
                texts.append(value.strip() or None)
            else:
                texts.append(None if value is None else text_value(value))
        external_id, title, category, condition, ean, description = texts
        external_id = external_id or product_id
        price: Decimal | None = None
        if self._price >= 0:
            value = raw[self._price]
            number = value
            if type(value) is str:
                try:  # the common case, '12,50' or '12.50'; anything else gets price_value's message
                    number = Decimal(value.replace(",", ".", 1) if "." not in value else value)
                except (InvalidOperation, ValueError):
                    number = None
            if type(number) is Decimal and number.is_finite() and number >= 0:
                price = number
            elif value is not None:
                price, problem = price_value(value)
                if problem:
                    problems.append(problem)
        listed = False
        if self._list >= 0:
            value = raw[self._list]
            flag = FLAGS.get(value.strip().lower()) if type(value) is str else None
            if flag is not None:
                listed = flag
            else:
                listed, problem = flag_value(value)
                if problem:
                    problems.append(problem)
        images = images_value(raw[self._images]) if self._images >= 0 else ()
        extra: tuple[tuple[str, str], ...] = ()
        if self._extras:
            pairs = []
            for name, position in self._extras:
                text = text_value(raw[position])
                if text is not None:
                    pairs.append((name, text))
            extra = tuple(pairs)
        if stock_problem:
            problems.append(stock_problem)
        content_hash = row_hash or self.content_hash(raw)
        if problems:
            problem_hash = _digest(_FIELD_SEP.join(("problem", content_hash, *problems)))
            if stock_problem:
                problem_hash = STOCK_PROBLEM_PREFIX + problem_hash
            return Normalized(product_id, problem_hash, None, tuple(problems), ())
        fields = (external_id, title, price, listed, category, condition, ean, description, images, extra)
        return Normalized(product_id, content_hash, stock, (), fields)

    def __call__(self, raw: Sequence[Any]) -> ProductRow | RowProblem:
        return build(self.digest(raw))


def build(item: Normalized) -> ProductRow | RowProblem:
    """The port's value for a normalized row."""
    if item.problems or item.stock is None:
        return RowProblem(product_id=item.product_id, problems=item.problems, row_hash=item.row_hash)
    external_id, title, price, listed, category, condition, ean, description, images, extra = item.fields
    return ProductRow(
        product_id=item.product_id,
        external_id=external_id,
        stock=item.stock,
        title=title,
        price=price,
        list=listed,
        category=category,
        condition=condition,
        ean=ean,
        description=description,
        images=images,
        extra=extra,
        row_hash=item.row_hash,
    )
