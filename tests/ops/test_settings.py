"""config.toml validation: every mistake gets one exact line; secrets stay out of reprs."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import ConfigError
from engine.settings import Secret, SecretUrl, load_settings, sqlite_path

REPO = Path(__file__).resolve().parents[2]

BASE = """
[engine]
state_url = "sqlite:///state.db"
poll_seconds = 30

[allegro]
environment = "emulator"
api_url = "http://127.0.0.1:8900"
client_id = "emulator-client"
user_agent = "allegro-sync/0.1 (+https://example.invalid/allegro-sync)"

[allegro.offer_defaults]
shipping_rates = "Standard"
return_policy = "Standard"
implied_warranty = "Standard"
location = { country_code = "PL", province = "WIELKOPOLSKIE", city = "Poznań", post_code = "60-166" }

[warehouse]
url = "sqlite:///warehouse.db"
products_query = "SELECT id AS product_id, stan AS stock, marka FROM towary"
decrement_stock = "UPDATE towary SET stan = stan - :quantity WHERE id = :product_id"
increment_stock = "UPDATE towary SET stan = stan + :quantity WHERE id = :product_id"

[mapping.parameters.257932]
127448 = { column = "marka", map = { "Acme" = "127448_1" } }
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def edit(old: str, new: str) -> str:
    assert old in BASE, old
    return BASE.replace(old, new)


def problems(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, text), env or {})
    return str(caught.value).splitlines()


CASES = [
    pytest.param(
        edit('products_query = "SELECT id AS product_id, stan AS stock, marka FROM towary"\n', ""),
        "[warehouse].products_query: missing; expected a SELECT returning at least product_id and stock",
        id="missing-key",
    ),
    pytest.param(
        edit("poll_seconds = 30", 'poll_seconds = "30s"'),
        '[engine].poll_seconds: found "30s"; expected a number >= 1',
        id="wrong-type",
    ),
    pytest.param(
        edit("poll_seconds = 30", "poll_seconds = 0.5"),
        "[engine].poll_seconds: found 0.5; expected a number >= 1",
        id="below-minimum",
    ),
    pytest.param(
        BASE + "\n[stock]\nmax_published = 200000\n",
        "[stock].max_published: found 200000; expected a whole number >= 1 and <= 100000",
        id="out-of-range",
    ),
    pytest.param(
        BASE + "\n[stock]\nbuffer = true\n",
        "[stock].buffer: found true; expected a whole number >= 0",
        id="bool-is-not-a-number",
    ),
    pytest.param(
        edit("poll_seconds = 30", "pol_seconds = 30"),
        "[engine].pol_seconds: unknown key; did you mean poll_seconds?",
        id="unknown-key-suggestion",
    ),
    pytest.param(
        BASE + "\n[enigne]\nlog_dir = 'x'\n",
        "[enigne]: unknown section; did you mean [engine]?",
        id="unknown-section-suggestion",
    ),
    pytest.param(
        edit('api_url = "http://127.0.0.1:8900"', 'api_url = "ftp://127.0.0.1"'),
        '[allegro].api_url: found "ftp://127.0.0.1"; expected an http(s) base URL such as http://127.0.0.1:8900',
        id="bad-url-scheme",
    ),
    pytest.param(
        edit('environment = "emulator"', 'environment = "production"').replace(
            'api_url = "http://127.0.0.1:8900"', 'api_url = "http://api.allegro.pl"'
        ),
        '[allegro].api_url: found "http://api.allegro.pl"; expected an https base URL such as https://api.allegro.pl',
        id="production-needs-https",
    ),
    pytest.param(
        edit('api_url = "http://127.0.0.1:8900"\n', ""),
        "[allegro].api_url: missing; expected an http(s) base URL such as http://127.0.0.1:8900",
        id="emulator-needs-api-url",
    ),
    pytest.param(
        edit('client_id = "emulator-client"', 'client_id = "emulator-client"\nclient_secret = "s3cr3t-value"'),
        "[allegro].client_secret: secrets are not read from config.toml; "
        "remove it and set the environment variable ALLEGRO_CLIENT_SECRET",
        id="secret-in-file",
    ),
    pytest.param(
        edit("[warehouse]", '[warehouse]\npassword = "hunter2"'),
        "[warehouse].password: secrets are not read from config.toml; remove it and write ${VAR} in the url, "
        "e.g. mysql+pymysql://shop:${WAREHOUSE_PASSWORD}@db/shop",
        id="password-in-file",
    ),
    pytest.param(
        edit('environment = "emulator"', 'environment = "prod"'),
        '[allegro].environment: found "prod"; expected one of "emulator", "sandbox", "production"',
        id="bad-enum",
    ),
    pytest.param(
        BASE + '\n[stock]\ndecrement_on = "PAID"\n',
        '[stock].decrement_on: found "PAID"; expected one of "BOUGHT", "READY_FOR_PROCESSING"',
        id="bad-enum-stock",
    ),
    pytest.param(
        edit(
            'products_query = "SELECT id AS product_id, stan AS stock, marka FROM towary"',
            'products_query = "UPDATE towary SET stan = 0"',
        ),
        '[warehouse].products_query: found "UPDATE towary SET stan = 0"; '
        "expected a SELECT returning at least product_id and stock",
        id="select-not-a-select",
    ),
    pytest.param(
        edit(
            'products_query = "SELECT id AS product_id, stan AS stock, marka FROM towary"',
            'products_query = "SELECT id AS product_id, stan, marka FROM towary"',
        ),
        "[warehouse].products_query: returns no column stock; "
        "expected a SELECT returning at least product_id and stock (... AS stock)",
        id="select-without-stock",
    ),
    pytest.param(
        edit(
            'decrement_stock = "UPDATE towary SET stan = stan - :quantity WHERE id = :product_id"',
            'decrement_stock = "UPDATE towary SET stan = stan - 1 WHERE id = :product_id"',
        ),
        "[warehouse].decrement_stock: does not use :quantity; "
        "expected an UPDATE using the named parameters :product_id and :quantity",
        id="decrement-without-quantity",
    ),
    pytest.param(
        edit('url = "sqlite:///warehouse.db"', 'url = "mysql+pymysql://shop:${SHOP_DB_PASSWORD}@db.local/shop"'),
        "[warehouse].url: environment variable SHOP_DB_PASSWORD is not set; "
        "expected it to hold the value written as ${SHOP_DB_PASSWORD} in the URL",
        id="env-placeholder-missing",
    ),
    pytest.param(
        edit('url = "sqlite:///warehouse.db"', 'url = "oracle://shop:pw@db/shop"'),
        '[warehouse].url: found "oracle://shop:***@db/shop"; expected a database URL such as '
        "sqlite:///state.db or mysql+pymysql://user:${DB_PASSWORD}@host/db or "
        "postgresql+psycopg://user:${PGPASSWORD}@host/db",
        id="bad-database-url-masks-password",
    ),
    pytest.param(
        edit('user_agent = "allegro-sync/0.1 (+https://example.invalid/allegro-sync)"', 'user_agent = "curl"'),
        '[allegro].user_agent: found "curl"; expected "name/version (+url)", '
        'e.g. "allegro-sync/0.1 (+https://example.com/about)"',
        id="user-agent-shape",
    ),
    pytest.param(
        BASE + "\n[mapping.categories]\nKABLE = 257931\n",
        "[mapping.categories].KABLE: found 257931; expected an Allegro leaf category id as a string of digits, "
        'e.g. "257931"',
        id="category-id-not-a-string",
    ),
    pytest.param(
        edit('127448 = { column = "marka", map', '127448 = { values_ids = ["127448_1"], column = "marka", map'),
        "[mapping.parameters.257932].127448: found values_ids, column; "
        "expected exactly one of values_ids, values, column",
        id="parameter-rule-two-sources",
    ),
    pytest.param(
        edit('column = "marka"', 'column = "brand"'),
        '[mapping.parameters.257932].127448.column: found "brand"; '
        "expected a column that [warehouse].products_query selects",
        id="parameter-column-not-selected",
    ),
    pytest.param(
        edit('post_code = "60-166"', 'post_code = "60166"'),
        '[allegro.offer_defaults].location.post_code: found "60166"; expected a post code like "60-166"',
        id="post-code-shape",
    ),
    pytest.param(
        "poll_seconds = 30\n" + BASE,
        "poll_seconds: found a key outside any section; expected it in a section like [engine]",
        id="key-outside-section",
    ),
]


@pytest.mark.parametrize(("text", "message"), CASES)
def test_each_mistake_is_one_exact_line(tmp_path: Path, text: str, message: str) -> None:
    assert problems(tmp_path, text) == [message]


def test_all_mistakes_are_reported_at_once(tmp_path: Path) -> None:
    text = edit("poll_seconds = 30", "pol_seconds = 30").replace('environment = "emulator"', 'environment = "x"')
    lines = problems(tmp_path, text)
    assert lines == [
        "[engine].pol_seconds: unknown key; did you mean poll_seconds?",
        '[allegro].environment: found "x"; expected one of "emulator", "sandbox", "production"',
    ]


def test_a_missing_section_is_one_line_not_one_per_key(tmp_path: Path) -> None:
    text = BASE.split("[warehouse]")[0]
    assert problems(tmp_path, text) == [
        "[warehouse]: missing; expected a [warehouse] section (see the shipped config.toml)"
    ]


def test_missing_file_and_bad_toml_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"config\.toml: not found; expected a config\.toml here"):
        load_settings(tmp_path / "config.toml", {})
    with pytest.raises(ConfigError, match=r"config\.toml: not valid TOML"):
        load_settings(write(tmp_path, "[engine\n"), {})


def test_shipped_config_loads(tmp_path: Path) -> None:
    settings = load_settings(REPO / "config.toml", {})
    assert settings.allegro.environment == "emulator"
    assert settings.allegro.api_url == settings.allegro.auth_url == "http://127.0.0.1:8900"
    assert settings.mapping.categories["ELEKTRONIKA"] == "257931"
    assert settings.mapping.conditions == {"N": "11323_1", "U": "11323_2"}
    assert settings.engine.state_url.reveal() == f"sqlite:///{REPO / 'state.db'}"


def test_relative_paths_resolve_next_to_the_config_file(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, BASE), {})
    assert sqlite_path(settings.engine.state_url.reveal()) == tmp_path / "state.db"
    assert sqlite_path(settings.warehouse.url.reveal()) == tmp_path / "warehouse.db"
    assert settings.engine.log_dir == tmp_path / "logs"
    assert settings.allegro.token_file == tmp_path / "tokens.json"


def test_defaults_when_keys_are_absent(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, BASE), {})
    assert settings.engine.sweep_seconds == 300.0
    assert settings.engine.max_change_fraction == 0.2
    assert settings.engine.price_band_fraction == 0.5
    assert settings.engine.metrics_port is None
    assert settings.flows.orders and settings.flows.listing
    assert settings.stock.decrement_on == "BOUGHT"
    assert settings.stock.max_published == 100_000
    assert settings.warehouse.applied_table == "allegro_sync_applied"
    assert settings.offers.reactivate_on_restock
    rule = settings.mapping.parameters["257932"]["127448"]
    assert rule.column == "marka" and rule.map == {"Acme": "127448_1"}


def test_sandbox_derives_both_urls(tmp_path: Path) -> None:
    text = edit('environment = "emulator"', 'environment = "sandbox"').replace(
        'api_url = "http://127.0.0.1:8900"\n', ""
    )
    allegro = load_settings(write(tmp_path, text), {}).allegro
    assert allegro.api_url == "https://api.allegro.pl.allegrosandbox.pl"
    assert allegro.auth_url == "https://allegro.pl.allegrosandbox.pl"
    assert allegro.client_secret is None
    with pytest.raises(ConfigError, match="ALLEGRO_CLIENT_SECRET: not set"):
        allegro.require_secret()


def test_client_secret_comes_from_the_environment_and_is_masked(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, BASE), {"ALLEGRO_CLIENT_SECRET": "s3cr3t-value"})
    secret = settings.allegro.require_secret()
    assert secret.reveal() == "s3cr3t-value"
    assert repr(secret) == str(secret) == "Secret('***')"
    assert "s3cr3t-value" not in repr(settings)
    assert "s3cr3t-value" in settings.secret_values()


def test_url_placeholder_is_expanded_encoded_and_hidden(tmp_path: Path) -> None:
    text = edit('url = "sqlite:///warehouse.db"', 'url = "mysql+pymysql://shop:${SHOP_DB_PASSWORD}@db.local/shop"')
    settings = load_settings(write(tmp_path, text), {"SHOP_DB_PASSWORD": "p@ss/w0rd"})
    url = settings.warehouse.url
    assert url.reveal() == "mysql+pymysql://shop:p%40ss%2Fw0rd@db.local/shop"
    assert repr(url) == "SecretUrl('mysql+pymysql://shop:***@db.local/shop')"
    assert "p@ss" not in repr(settings) and "p%40ss" not in repr(settings)
    assert "p@ss/w0rd" in settings.secret_values()


def test_literal_password_in_url_is_masked_in_repr() -> None:
    url = SecretUrl("postgresql+psycopg://sync:plain-pw@127.0.0.1/ledger")
    assert str(url) == "postgresql+psycopg://sync:***@127.0.0.1/ledger"
    assert "plain-pw" not in repr(url)


def test_orders_flow_off_makes_stock_statements_optional(tmp_path: Path) -> None:
    text = BASE.replace("decrement_stock", "# decrement_stock").replace("increment_stock", "# increment_stock")
    assert "decrement_stock" in "\n".join(problems(tmp_path, text))
    settings = load_settings(write(tmp_path, "[flows]\norders = false\n" + text), {})
    assert settings.warehouse.decrement_stock is None


def test_secret_equality_does_not_leak() -> None:
    assert Secret("a") == Secret("a") and Secret("a") != Secret("b")
    assert "a" not in f"{Secret('a')!r}{Secret('a')!s}"


def test_shipped_config_runs_the_sample_warehouse_sql() -> None:
    from demo.sample import SAMPLE_CATEGORIES, SAMPLE_CONDITIONS, SAMPLE_SQL

    warehouse = load_settings(REPO / "config.toml", {}).warehouse
    shipped = {key: " ".join(str(getattr(warehouse, key)).split()) for key in SAMPLE_SQL}
    assert shipped == {key: " ".join(sql.split()) for key, sql in SAMPLE_SQL.items()}
    mapping = load_settings(REPO / "config.toml", {}).mapping
    assert (dict(mapping.categories), dict(mapping.conditions)) == (SAMPLE_CATEGORIES, SAMPLE_CONDITIONS)


def test_shipped_config_documents_every_key() -> None:
    import dataclasses
    import re

    from engine import settings as s

    text = (REPO / "config.toml").read_text(encoding="utf-8")
    sections = {
        "engine": s.EngineSettings, "flows": s.FlowSettings, "allegro": s.AllegroSettings,
        "allegro.offer_defaults": s.OfferDefaults, "warehouse": s.WarehouseSettings, "stock": s.StockSettings,
        "offers": s.OfferSettings,
    }  # fmt: skip
    missing = []
    for section, cls in sections.items():
        block = text.split(f"[{section}]\n", 1)[1].split("\n[", 1)[0]
        for f in dataclasses.fields(cls):
            if f.name in ("client_secret", "offer_defaults"):
                continue
            if not re.search(rf"^#? ?{f.name} = ", block, flags=re.M):
                missing.append(f"[{section}].{f.name}")
    assert missing == []
    for table in ("[mapping.categories]", "[mapping.conditions]", "[mapping.parameters."):
        assert table in text
