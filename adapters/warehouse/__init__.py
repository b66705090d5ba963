"""The SQL warehouse adapter: reads products from the seller's database and applies stock changes exactly once."""

from adapters.warehouse.adapter import SqlWarehouse
from adapters.warehouse.config import DEFAULT_APPLIED_TABLE, WarehouseConfig
from adapters.warehouse.normalize import RowNormalizer

__all__ = ["DEFAULT_APPLIED_TABLE", "RowNormalizer", "SqlWarehouse", "WarehouseConfig"]
