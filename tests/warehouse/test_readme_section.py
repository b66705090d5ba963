"""The SQL shown in "Connect your warehouse" is the SQL that works: the sample's and PrestaShop's (on MariaDB)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from adapters.warehouse import SqlWarehouse, WarehouseConfig
from demo.sample import SAMPLE_SQL
from engine.model import StockApplyStatus, StockChange

README = Path(__file__).parents[2] / "README.md"


def _section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("## Connect your warehouse")
    end = text.find("\n## ", start + 3)
    return text[start : end if end != -1 else len(text)]


PRESTASHOP_SCHEMA = [
    "CREATE TABLE ps_product (id_product INT UNSIGNED PRIMARY KEY, reference VARCHAR(64), "
    "price DECIMAL(20,6) NOT NULL, active TINYINT(1) NOT NULL, id_category_default INT UNSIGNED, "
    "`condition` ENUM('new','used','refurbished') NOT NULL DEFAULT 'new', ean13 VARCHAR(13), "
    "date_upd DATETIME NOT NULL)",
    "CREATE TABLE ps_product_lang (id_product INT UNSIGNED, id_shop INT UNSIGNED, id_lang INT UNSIGNED, "
    "name VARCHAR(128), description TEXT, link_rewrite VARCHAR(128))",
    "CREATE TABLE ps_stock_available (id_stock_available INT AUTO_INCREMENT PRIMARY KEY, id_product INT, "
    "id_product_attribute INT, id_shop INT, quantity INT NOT NULL, physical_quantity INT NOT NULL)",
    "CREATE TABLE ps_image (id_image INT PRIMARY KEY, id_product INT, position INT)",
    "INSERT INTO ps_product VALUES (1, 'KAB-1', 40.64, 1, 12, 'new', '5901234123457', '2024-05-01 10:00:00'), "
    "(2, '', 100, 0, 12, 'used', NULL, '2024-05-02 10:00:00')",
    "INSERT INTO ps_product_lang VALUES (1, 1, 1, 'Kabel HDMI 2.1 8K 2 m', '<p>Kabel</p>', 'kabel-hdmi'), "
    "(2, 1, 1, 'Młotek ślusarski 500 g', NULL, 'mlotek')",
    "INSERT INTO ps_stock_available (id_product, id_product_attribute, id_shop, quantity, physical_quantity) "
    "VALUES (1, 0, 1, 7, 7), (2, 0, 1, 0, 0)",
    "INSERT INTO ps_image VALUES (10, 1, 2), (11, 1, 1)",
]


def toml_blocks() -> list[dict[str, Any]]:
    blocks = re.findall(r"```toml\n(.*?)```", _section(), re.DOTALL)
    return [tomllib.loads(block)["warehouse"] for block in blocks]


def squeeze(sql: str) -> str:
    return " ".join(sql.split())


def test_sample_block_is_the_sample_sql() -> None:
    sample = toml_blocks()[0]
    assert {key: squeeze(sample[key]) for key in SAMPLE_SQL} == {key: squeeze(sql) for key, sql in SAMPLE_SQL.items()}


@pytest.mark.mariadb
def test_prestashop_block_works_on_mariadb(mariadb_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    admin = create_engine(mariadb_url)
    with admin.begin() as connection:
        for table in ("ps_product", "ps_product_lang", "ps_stock_available", "ps_image", "allegro_sync_applied"):
            connection.execute(text(f"DROP TABLE IF EXISTS {table}"))
        for statement in PRESTASHOP_SCHEMA:
            connection.execute(text(statement))
    settings = toml_blocks()[1]
    assert settings["url"].startswith("mysql+pymysql://allegro:${WAREHOUSE_PASSWORD}@")
    warehouse = SqlWarehouse(WarehouseConfig(**{**settings, "url": mariadb_url}))
    try:
        warehouse.start()
        delta = warehouse.read_delta({}, None)
        first, second = delta.changed
        assert (first.external_id, str(first.price), first.stock, first.list, first.condition) == (
            "KAB-1", "49.99", 7, True, "new"
        )  # fmt: skip
        assert first.images == (
            "https://sklep.example.pl/11-large_default/kabel-hdmi.jpg",
            "https://sklep.example.pl/10-large_default/kabel-hdmi.jpg",
        )
        assert (second.external_id, second.list, second.category, second.condition) == ("2", False, "12", "used")
        assert delta.watermark == "datetime:2024-05-02T10:00:00"
        result = warehouse.apply_stock_changes([StockChange(key="cf:1", product_id="1", delta=-2)])
        assert result[0].status is StockApplyStatus.APPLIED
        with admin.connect() as connection:
            row = connection.execute(
                text("SELECT quantity, physical_quantity FROM ps_stock_available WHERE id_product = 1")
            )
            assert tuple(row.one()) == (5, 5)
    finally:
        warehouse.close()
        with admin.begin() as connection:
            for table in ("ps_product", "ps_product_lang", "ps_stock_available", "ps_image", "allegro_sync_applied"):
                connection.execute(text(f"DROP TABLE IF EXISTS {table}"))
        admin.dispose()
