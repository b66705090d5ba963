"""The demo: a sample legacy warehouse database and helpers that simulate the seller's other channels."""

from demo.changes import add_stock, set_stock, stock_of, touch_product
from demo.generate import BROKEN_KINDS, SampleSummary, create_sample_warehouse, ean13, ean13_valid
from demo.sample import SAMPLE_SQL, sample_sql

__all__ = [
    "BROKEN_KINDS",
    "SAMPLE_SQL",
    "SampleSummary",
    "add_stock",
    "create_sample_warehouse",
    "ean13",
    "ean13_valid",
    "sample_sql",
    "set_stock",
    "stock_of",
    "touch_product",
]
