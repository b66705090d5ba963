"""Load `config.toml` and the environment once into a frozen, validated `Settings` object.

Contract: `load_settings(path, env)` either returns a complete `Settings` or raises one `ConfigError` whose
message holds every mistake, one line each, as `[section].key: <what was found>; expected <what is expected>`.
Field names of the section dataclasses equal the TOML keys. Secrets never come from the file: the Allegro
client secret comes from `ALLEGRO_CLIENT_SECRET`, and database URLs may contain `${VAR}` placeholders that are
expanded here, at load time, into a `SecretUrl` whose `repr`/`str` hide the password (adapters call
`.reveal()`). Relative paths (sqlite files, `log_dir`, `token_file`) are relative to the config file's folder.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from engine.errors import ConfigError
from engine.settings_check import Checker, Section, found, mask_url, sql_head

CLIENT_SECRET_ENV: Final = "ALLEGRO_CLIENT_SECRET"
EMULATOR_CLIENT_SECRET: Final = "emulator-secret"  # the emulator's public default, not a real secret
DERIVED_URLS: Final = {
    "production": ("https://api.allegro.pl", "https://allegro.pl"),
    "sandbox": ("https://api.allegro.pl.allegrosandbox.pl", "https://allegro.pl.allegrosandbox.pl"),
}
_USERINFO_PASSWORD = re.compile(r"^(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^:/@?#]*:)[^@/?#]*@")


class Secret:
    """A secret string: `repr` and `str` print `Secret('***')`; `.reveal()` returns the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class SecretUrl:
    """A database URL that may hold a password: `repr`/`str` mask it, `.reveal()` returns the real URL."""

    __slots__ = ("_masked", "_secrets", "_url")

    def __init__(self, url: str, secrets: tuple[str, ...] = ()) -> None:
        match = _USERINFO_PASSWORD.match(url)
        password = url[match.end("head") : match.end() - 1] if match else ""
        self._url = url
        self._secrets = tuple(s for s in (*secrets, password) if s)
        self._masked = mask_url(url, self._secrets)

    def reveal(self) -> str:
        return self._url

    @property
    def masked(self) -> str:
        return self._masked

    @property
    def secret_values(self) -> tuple[str, ...]:
        """The password and the expanded `${VAR}` values, for log scrubbing."""
        return self._secrets

    @property
    def scheme(self) -> str:
        return self._url.split("://", 1)[0].split("+", 1)[0].lower()

    def __repr__(self) -> str:
        return f"SecretUrl({self._masked!r})"

    def __str__(self) -> str:
        return self._masked

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretUrl) and other._url == self._url

    def __hash__(self) -> int:
        return hash(self._url)


def sqlite_path(url: str) -> Path | None:
    """The database file of a `sqlite:///...` URL (None for other databases and in-memory SQLite)."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.split("+", 1)[0].lower() != "sqlite":
        return None
    path = rest.removeprefix("/").split("?", 1)[0]
    return None if path in ("", ":memory:") else Path(path)


# ------------------------------------------------------------------------------------------ sections


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineSettings:
    """`[engine]`: where the ledger and the logs live and how often a cycle runs."""

    state_url: SecretUrl
    log_dir: Path
    poll_seconds: float = 30.0
    sweep_seconds: float = 300.0  # checkout-form sweep; 0 = every cycle
    reconcile_hours: float = 24.0
    max_change_fraction: float = 0.2
    price_band_fraction: float = 0.5
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"


@dataclass(frozen=True, slots=True, kw_only=True)
class FlowSettings:
    """`[flows]`: kill switches per flow; a flow switched off writes nothing."""

    listing: bool = True
    stock: bool = True
    price: bool = True
    orders: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Location:
    country_code: str
    province: str
    city: str
    post_code: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferDefaults:
    """`[allegro.offer_defaults]`: what every new offer gets (None only while `[flows].listing` is off)."""

    shipping_rates: str | None = None
    handling_time: str = "PT24H"
    return_policy: str | None = None
    implied_warranty: str | None = None
    invoice: str = "VAT"
    location: Location | None = None
    publish: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class AllegroSettings:
    """`[allegro]`; `client_secret` comes from `ALLEGRO_CLIENT_SECRET` (the emulator has a default)."""

    environment: str
    api_url: str
    auth_url: str
    client_id: str
    user_agent: str
    token_file: Path
    offer_defaults: OfferDefaults
    client_secret: Secret | None = None
    max_concurrency: int = 16
    requests_per_minute: int = 9000
    offer_creations_per_minute: int | None = None

    def require_secret(self) -> Secret:
        """The client secret, or a `ConfigError` saying which variable to set."""
        if self.client_secret is None:
            raise ConfigError(
                f"{CLIENT_SECRET_ENV}: not set; expected the client secret of client_id {self.client_id} "
                "in the environment"
            )
        return self.client_secret


@dataclass(frozen=True, slots=True, kw_only=True)
class WarehouseSettings:
    """`[warehouse]`: the seller's database and the SQL the engine runs against it."""

    url: SecretUrl
    products_query: str
    decrement_stock: str | None = None
    increment_stock: str | None = None
    stock_query: str | None = None
    offer_linked: str | None = None
    applied_table: str = "allegro_sync_applied"  # "" opts out (no exactly-once guard in the warehouse)
    updated_at_overlap_seconds: int = 300
    connect_timeout_seconds: float = 10.0
    statement_timeout_seconds: float | None = 60.0  # 0 in the file = no limit
    lock_timeout_seconds: float = 10.0
    image_base_url: str | None = None  # prefixed to image names that are not URLs


@dataclass(frozen=True, slots=True, kw_only=True)
class StockSettings:
    """`[stock]`: how warehouse stock becomes published quantity."""

    buffer: int = 0
    max_published: int = 100_000
    zero_threshold: int = 0
    decrement_on: str = "BOUGHT"
    journal_grace_seconds: float = 120.0


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferSettings:
    """`[offers]`: what happens to offers on restock and when a product is no longer listed."""

    reactivate_on_restock: bool = True
    end_when_unlisted: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class ParameterRule:
    """One `[mapping.parameters.<category>]` entry: constant `values_ids`/`values`, or `column` (+ `map`)."""

    parameter_id: str
    values_ids: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    column: str | None = None
    map: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MappingSettings:
    """`[mapping.*]`: warehouse values -> Allegro ids; `parameters` is category id -> parameter id -> rule."""

    categories: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    conditions: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    parameters: Mapping[str, Mapping[str, ParameterRule]] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """The whole validated configuration; build it with `load_settings`."""

    config_path: Path
    engine: EngineSettings
    flows: FlowSettings
    allegro: AllegroSettings
    warehouse: WarehouseSettings
    stock: StockSettings
    offers: OfferSettings
    mapping: MappingSettings

    def secret_values(self) -> tuple[str, ...]:
        """Every secret string this configuration holds, for log scrubbing."""
        values = [*self.engine.state_url.secret_values, *self.warehouse.url.secret_values]
        if self.allegro.client_secret is not None:
            values.append(self.allegro.client_secret.reveal())
        return tuple(v for v in values if v)


# ------------------------------------------------------------------------------------------ loading


def load_settings(path: Path, env: Mapping[str, str] = os.environ) -> Settings:
    """Read, validate and freeze `path`; raise one `ConfigError` listing every mistake."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: not found; expected a config.toml here (or pass --config PATH)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc}); expected a readable UTF-8 file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); expected TOML syntax") from None
    return parse_settings(raw, config_path=path.resolve(), env=env)


def parse_settings(raw: Mapping[str, Any], *, config_path: Path, env: Mapping[str, str]) -> Settings:
    """Validate an already parsed TOML document; relative paths resolve against `config_path`'s folder."""
    check = Checker(env=env, base=config_path.parent)
    check.top_level(raw, ("engine", "flows", "allegro", "warehouse", "stock", "offers", "mapping"))
    flows = _flows(check.section(raw, "flows", _fields(FlowSettings)))
    warehouse = _warehouse(check, raw, flows)
    mapping = _mapping(check, raw)
    _check_columns(check, warehouse.products_query, mapping)
    settings = Settings(
        config_path=config_path,
        engine=_engine(check.section(raw, "engine", _fields(EngineSettings))),
        flows=flows,
        allegro=_allegro(check, raw, flows),
        warehouse=warehouse,
        stock=_stock(check.section(raw, "stock", _fields(StockSettings))),
        offers=_offers(check.section(raw, "offers", _fields(OfferSettings))),
        mapping=mapping,
    )
    check.raise_if_any()
    return settings


def _fields(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def _engine(s: Section) -> EngineSettings:
    state_url = s.database_url("state_url", default="sqlite:///state.db", schemes=("sqlite", "postgresql"))
    return EngineSettings(
        state_url=SecretUrl(*state_url),
        log_dir=s.path("log_dir", default="logs"),
        poll_seconds=s.number("poll_seconds", 30.0, minimum=1.0),
        sweep_seconds=s.number("sweep_seconds", 300.0, minimum=0.0),
        reconcile_hours=s.number("reconcile_hours", 24.0, minimum=0.0, exclusive_minimum=True),
        max_change_fraction=s.number("max_change_fraction", 0.2, minimum=0.0, maximum=1.0, exclusive_minimum=True),
        price_band_fraction=s.number("price_band_fraction", 0.5, minimum=0.0, exclusive_minimum=True),
        metrics_port=s.optional_integer("metrics_port", minimum=1, maximum=65535),
        metrics_host=s.text("metrics_host", default="127.0.0.1", expected="a host name or IP address"),
    )


def _flows(s: Section) -> FlowSettings:
    return FlowSettings(
        listing=s.flag("listing", True),
        stock=s.flag("stock", True),
        price=s.flag("price", True),
        orders=s.flag("orders", True),
    )


def _allegro(check: Checker, raw: Mapping[str, Any], flows: FlowSettings) -> AllegroSettings:
    hint = f"remove it and set the environment variable {CLIENT_SECRET_ENV}"
    known = tuple(k for k in _fields(AllegroSettings) if k != "client_secret")
    s = check.section(raw, "allegro", known, required=True, forbidden={"client_secret": hint})
    environment = s.choice("environment", ("emulator", "sandbox", "production"), default=None)
    derived_api, derived_auth = DERIVED_URLS.get(environment, ("", ""))
    https_only = environment in DERIVED_URLS
    expected = (
        "an https base URL such as https://api.allegro.pl"
        if https_only
        else "an http(s) base URL such as http://127.0.0.1:8900"
    )
    api_url = s.http_url(
        "api_url",
        default=derived_api if environment != "emulator" else None,
        https_only=https_only,
        expected=expected,
    )
    auth_url = s.http_url("auth_url", default=derived_auth or api_url, https_only=https_only, expected=expected)
    secret = check.env.get(CLIENT_SECRET_ENV) or (EMULATOR_CLIENT_SECRET if environment == "emulator" else None)
    return AllegroSettings(
        environment=environment,
        api_url=api_url,
        auth_url=auth_url,
        client_id=s.text("client_id", expected="the Client ID of your Allegro application"),
        user_agent=s.text(
            "user_agent",
            pattern=r"[A-Za-z0-9._-]+/[A-Za-z0-9._+-]+ \(\+https?://\S+\)",
            expected='"name/version (+url)", e.g. "allegro-sync/0.1 (+https://example.com/about)"',
        ),
        token_file=s.path("token_file", default="tokens.json"),
        max_concurrency=s.integer("max_concurrency", 16, minimum=1, maximum=256),
        requests_per_minute=s.integer("requests_per_minute", 9000, minimum=1, maximum=9000),
        offer_creations_per_minute=s.optional_integer("offer_creations_per_minute", minimum=1, maximum=100_000),
        offer_defaults=_offer_defaults(
            check.subsection(s, "offer_defaults", known=_fields(OfferDefaults)), required=flows.listing
        ),
        client_secret=Secret(secret) if secret else None,
    )


def _offer_defaults(s: Section, *, required: bool) -> OfferDefaults:
    name = "a name or id from your Allegro account"
    return OfferDefaults(
        shipping_rates=s.optional_text("shipping_rates", required=required, expected=f"shipping rates: {name}"),
        handling_time=s.text(
            "handling_time",
            default="PT24H",
            pattern=r"PT0S|PT\d+H|P\d+D",
            expected="an ISO 8601 duration such as PT24H or P3D",
        ),
        return_policy=s.optional_text("return_policy", required=required, expected=f"a return policy: {name}"),
        implied_warranty=s.optional_text("implied_warranty", required=required, expected=f"a warranty: {name}"),
        invoice=s.choice("invoice", ("VAT", "VAT_MARGIN", "WITHOUT_VAT", "NO_INVOICE"), default="VAT"),
        location=_location(s, required=required),
        publish=s.flag("publish", True),
    )


def _location(s: Section, *, required: bool) -> Location | None:
    t = s.inline_table("location", _fields(Location), required=required)
    if t is None:
        return None
    country = t.text("country_code", pattern=r"[A-Z]{2}", expected='an ISO 3166 code such as "PL"')
    return Location(
        country_code=country,
        province=t.text("province", pattern=r"[A-Z_]+", expected='a province in capitals, e.g. "WIELKOPOLSKIE"'),
        city=t.text("city", expected="a city name"),
        post_code=t.text(
            "post_code",
            pattern=r"\d{2}-\d{3}" if country == "PL" else r".+",
            expected='a post code like "60-166"',
        ),
    )


def _warehouse(check: Checker, raw: Mapping[str, Any], flows: FlowSettings) -> WarehouseSettings:
    hint = "remove it and write ${VAR} in the url, e.g. mysql+pymysql://shop:${WAREHOUSE_PASSWORD}@db/shop"
    s = check.section(raw, "warehouse", _fields(WarehouseSettings), required=True, forbidden={"password": hint})
    url = s.database_url("url", default=None, schemes=("sqlite", "mysql", "postgresql"))
    select = ("SELECT", "WITH")
    change = "an UPDATE using the named parameters :product_id and :quantity"
    optional_change = not flows.orders
    return WarehouseSettings(
        url=SecretUrl(*url),
        products_query=s.sql(
            "products_query",
            heads=select,
            columns=("product_id", "stock"),
            expected="a SELECT returning at least product_id and stock",
        )
        or "",
        decrement_stock=s.sql(
            "decrement_stock", params=("product_id", "quantity"), optional=optional_change, expected=change
        ),
        increment_stock=s.sql(
            "increment_stock", params=("product_id", "quantity"), optional=optional_change, expected=change
        ),
        stock_query=s.sql(
            "stock_query",
            heads=select,
            columns=("product_id", "stock"),
            optional=True,
            expected="a SELECT returning product_id and stock",
        ),
        offer_linked=s.sql(
            "offer_linked",
            params=("product_id",),
            optional=True,
            expected="a statement using :product_id (and :offer_id, :offer_status, :problem)",
        ),
        image_base_url=s.http_url(
            "image_base_url",
            default="",
            https_only=False,
            expected='the http(s) address that image file names are relative to, e.g. "https://sklep.example.pl/foto"',
        )
        or None,
        applied_table=s.text(
            "applied_table",
            default="allegro_sync_applied",
            pattern=r"|[A-Za-z_]\w*(\.[A-Za-z_]\w*)?",
            expected='a table name such as "allegro_sync_applied" ("" opts out)',
        ),
        updated_at_overlap_seconds=s.integer("updated_at_overlap_seconds", 300, minimum=0),
        connect_timeout_seconds=s.number("connect_timeout_seconds", 10.0, minimum=0, exclusive_minimum=True),
        statement_timeout_seconds=s.number("statement_timeout_seconds", 60.0, minimum=0) or None,
        lock_timeout_seconds=s.number("lock_timeout_seconds", 10.0, minimum=0, exclusive_minimum=True),
    )


def _stock(s: Section) -> StockSettings:
    return StockSettings(
        buffer=s.integer("buffer", 0, minimum=0),
        max_published=s.integer("max_published", 100_000, minimum=1, maximum=100_000),
        zero_threshold=s.integer("zero_threshold", 0, minimum=0),
        decrement_on=s.choice("decrement_on", ("BOUGHT", "READY_FOR_PROCESSING"), default="BOUGHT"),
        journal_grace_seconds=s.number("journal_grace_seconds", 120.0, minimum=0.0),
    )


def _offers(s: Section) -> OfferSettings:
    return OfferSettings(
        reactivate_on_restock=s.flag("reactivate_on_restock", True),
        end_when_unlisted=s.flag("end_when_unlisted", True),
    )


def _mapping(check: Checker, raw: Mapping[str, Any]) -> MappingSettings:
    s = check.section(raw, "mapping", _fields(MappingSettings))
    categories = check.subsection(s, "categories", open_keys=True).string_map(
        pattern=r"\d+", expected='an Allegro leaf category id as a string of digits, e.g. "257931"'
    )
    conditions = check.subsection(s, "conditions", open_keys=True).string_map(
        pattern=r"\d+_\d+", expected='a value id of Allegro\'s "Stan" parameter (11323), e.g. "11323_1"'
    )
    params = check.subsection(s, "parameters", open_keys=True)
    rules: dict[str, Mapping[str, ParameterRule]] = {}
    for category in params.names():
        if not params.key_matches(category, r"\d+", "an Allegro category id (digits)"):
            continue
        cat = check.subsection(params, category, open_keys=True)
        rules[category] = MappingProxyType(
            {pid: _rule(cat, pid) for pid in cat.names() if cat.key_matches(pid, r"\d+", "a parameter id (digits)")}
        )
    return MappingSettings(categories=categories, conditions=conditions, parameters=MappingProxyType(rules))


def _rule(cat: Section, parameter_id: str) -> ParameterRule:
    t = cat.inline_table(parameter_id, _fields(ParameterRule)[1:], required=True)
    if t is None:
        return ParameterRule(parameter_id=parameter_id)
    kinds = [k for k in ("values_ids", "values", "column") if k in t.raw]
    if len(kinds) != 1:
        t.problem(f"found {', '.join(kinds) or 'none of them'}; expected exactly one of values_ids, values, column")
    if "map" in t.raw and "column" not in t.raw:
        t.problem("found map without column; expected map only together with column")
    column = t.optional_text("column", expected="a column alias selected by [warehouse].products_query")
    return ParameterRule(
        parameter_id=parameter_id,
        values_ids=t.text_list("values_ids", expected='a non-empty array of value ids, e.g. ["11323_1"]'),
        values=t.text_list("values", expected='a non-empty array of strings, e.g. ["XL"]'),
        column=column,
        map=t.sub_string_map("map", expected="a table of warehouse value -> Allegro value id"),
    )


def _check_columns(check: Checker, products_query: str, mapping: MappingSettings) -> None:
    """Columns named by `[mapping.parameters]` must be selected by the products query."""
    if not products_query or "*" in products_query:
        return
    for category, rules in mapping.parameters.items():
        for rule in rules.values():
            if rule.column and not re.search(rf"\b{re.escape(rule.column)}\b", products_query, flags=re.I):
                check.add(
                    f"[mapping.parameters.{category}].{rule.parameter_id}.column: "
                    f"found {found(rule.column)}; expected a column that [warehouse].products_query selects"
                )


__all__ = [
    "AllegroSettings",
    "EngineSettings",
    "FlowSettings",
    "Location",
    "MappingSettings",
    "OfferDefaults",
    "OfferSettings",
    "ParameterRule",
    "Secret",
    "SecretUrl",
    "Settings",
    "StockSettings",
    "WarehouseSettings",
    "load_settings",
    "mask_url",
    "parse_settings",
    "sql_head",
    "sqlite_path",
]
