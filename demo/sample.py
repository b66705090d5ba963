"""The sample warehouse's schema (a legacy Polish shop database) and the SQL that connects allegro-sync to it."""

from __future__ import annotations

from sqlalchemy import CHAR, Column, DateTime, Integer, MetaData, String, Table, Text

metadata = MetaData()

towary = Table(
    "towary",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("symbol", String(40), nullable=False),
    Column("nazwa", String(200), nullable=False),
    Column("cena", String(20)),  # legacy: text with a decimal comma, e.g. '129,99'
    Column("kategoria", String(40)),
    Column("stan_techniczny", CHAR(1)),  # N = nowy, U = używany
    Column("ean", String(20)),
    Column("opis", Text),
    Column("zdjecia", Text),  # comma-separated URLs
    Column("marka", String(60)),
    Column("model", String(60)),
    Column("wystawiaj", CHAR(1), nullable=False),  # 'T' = list on Allegro, 'N' = do not
    Column("zmodyfikowano", DateTime, nullable=False),
    Column("allegro_id", String(40)),
    Column("allegro_status", String(20)),
    Column("allegro_blad", Text),
)

# Stock lives in its own table and no timestamp follows it (like PrestaShop's ps_stock_available).
stany_magazynowe = Table(
    "stany_magazynowe",
    metadata,
    Column("towar_id", Integer, primary_key=True, autoincrement=False),
    Column("ilosc", Integer, nullable=False),
)


def sample_sql(dialect: str = "sqlite") -> dict[str, str]:
    """The `[warehouse]` statements for the sample schema, keyed by config key, for a dialect name.

    Only the quoting of the alias `condition` differs: it is a reserved word in MySQL/MariaDB.
    """
    condition = "`condition`" if dialect in ("mysql", "mariadb") else '"condition"'
    return {
        "products_query": (
            "SELECT t.id AS product_id, t.symbol AS external_id, t.nazwa AS title, t.cena AS price, "
            "s.ilosc AS stock, t.wystawiaj AS list, t.kategoria AS category, "
            f"t.stan_techniczny AS {condition}, t.ean AS ean, t.opis AS description, t.zdjecia AS images, "
            "t.marka AS marka, t.model AS model, t.zmodyfikowano AS updated_at "
            "FROM towary t LEFT JOIN stany_magazynowe s ON s.towar_id = t.id"
        ),
        "stock_query": (
            "SELECT t.id AS product_id, s.ilosc AS stock "
            "FROM towary t LEFT JOIN stany_magazynowe s ON s.towar_id = t.id"
        ),
        "decrement_stock": "UPDATE stany_magazynowe SET ilosc = ilosc - :quantity WHERE towar_id = :product_id",
        "increment_stock": "UPDATE stany_magazynowe SET ilosc = ilosc + :quantity WHERE towar_id = :product_id",
        "offer_linked": (
            "UPDATE towary SET allegro_id = :offer_id, allegro_status = :offer_status, allegro_blad = :problem "
            "WHERE id = :product_id"
        ),
    }


SAMPLE_SQL: dict[str, str] = sample_sql("sqlite")
"""The statements for the shipped config.toml (SQLite; also valid on PostgreSQL)."""

SAMPLE_CATEGORIES = {"ELEKTRONIKA": "257931", "SLUCHAWKI": "257932", "NARZEDZIA": "257933"}
"""`[mapping.categories]` for the sample (emulator category ids); 'ZABAWKI' is deliberately unmapped."""

SAMPLE_CONDITIONS = {"N": "11323_1", "U": "11323_2"}
