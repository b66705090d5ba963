"""`AllegroConfig`: the validated, frozen `[allegro]` settings (fields = TOML keys) plus tuning knobs.

The client secret never comes from `config.toml`: the loader reads `ALLEGRO_CLIENT_SECRET` and passes it as
a `Secret`. `api_url` and `auth_url` may be omitted: they are derived from `environment`
(allegro-api.md section 11; the emulator defaults to http://127.0.0.1:8900 for both).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from adapters.allegro.endpoints import ENVIRONMENTS, default_api_url, default_auth_url
from adapters.allegro.secret import Secret
from engine.errors import ConfigError

SECRET_ENV_VAR = "ALLEGRO_CLIENT_SECRET"


@dataclass(frozen=True, slots=True, kw_only=True)
class AllegroConfig:
    """How to reach Allegro and how hard to push it.

    Rate knobs: `requests_per_minute` is Allegro's per-client-id limit (9000); the budget uses only
    `rate_margin` of it (95 %) so that clock skew and other tools of the same app never cause a 429.
    `offer_creations_per_minute` (optional) and `offer_patches_per_minute` are per-seller budgets.
    `rate_limit_wait_seconds` is the wait after a 429 without `Retry-After` (Allegro blocks for one minute).
    `uncertain_lookup_delay_seconds`: after a POST whose outcome is unknown, how long to wait before looking
    the offer up by external id (the POST may still be running on Allegro's side).
    """

    environment: str = "emulator"
    client_id: str = "emulator-client"
    client_secret: Secret = field(default_factory=lambda: Secret(""))
    api_url: str | None = None
    auth_url: str | None = None
    user_agent: str = "allegro-sync/0.1 (+https://example.invalid/allegro-sync)"
    connect_timeout_seconds: float = 5.0
    read_timeout_seconds: float = 30.0
    write_timeout_seconds: float = 30.0
    pool_timeout_seconds: float = 30.0
    max_concurrency: int = 16
    requests_per_minute: int = 9000
    rate_margin: float = 0.95
    offer_creations_per_minute: int | None = None
    offer_patches_per_minute: int | None = 2500
    max_attempts: int = 4
    backoff_base_seconds: float = 0.5
    backoff_max_seconds: float = 30.0
    rate_limit_wait_seconds: float = 60.0
    refresh_margin_seconds: float = 300.0
    operation_timeout_seconds: float = 600.0
    uncertain_lookup_delay_seconds: float = 3.0

    def __post_init__(self) -> None:
        if self.environment not in ENVIRONMENTS:
            raise ConfigError(
                f"[allegro].environment is {self.environment!r}; expected one of {', '.join(ENVIRONMENTS)}"
            )
        if not self.client_id:
            raise ConfigError("[allegro].client_id is empty; set the Client ID of your Allegro application")
        if not isinstance(self.client_secret, Secret):
            raise ConfigError(f"the client secret must be passed as a Secret (from {SECRET_ENV_VAR})")
        if not self.user_agent.strip():
            raise ConfigError("[allegro].user_agent is empty; Allegro requires a descriptive User-Agent")
        api_url = (self.api_url or default_api_url(self.environment)).rstrip("/")
        auth_url = (
            self.auth_url or (api_url if self.environment == "emulator" else None) or default_auth_url(self.environment)
        ).rstrip("/")
        for key, url in (("api_url", api_url), ("auth_url", auth_url)):
            if not url.startswith(("http://", "https://")):
                raise ConfigError(f"[allegro].{key} is {url!r}; expected an http:// or https:// URL")
        object.__setattr__(self, "api_url", api_url)
        object.__setattr__(self, "auth_url", auth_url)
        for key in ("max_concurrency", "requests_per_minute", "max_attempts"):
            if getattr(self, key) < 1:
                raise ConfigError(f"[allegro].{key} is {getattr(self, key)}; expected at least 1")
        if not 0 < self.rate_margin <= 1:
            raise ConfigError(f"[allegro].rate_margin is {self.rate_margin}; expected a fraction in (0, 1]")

    @property
    def api_base(self) -> str:
        assert self.api_url is not None  # filled by __post_init__
        return self.api_url

    @property
    def auth_base(self) -> str:
        assert self.auth_url is not None  # filled by __post_init__
        return self.auth_url

    @staticmethod
    def secret_from_environment(environ: dict[str, str] | None = None) -> Secret:
        """The client secret from `ALLEGRO_CLIENT_SECRET`; a ConfigError naming the variable when unset."""
        value = (environ if environ is not None else dict(os.environ)).get(SECRET_ENV_VAR, "")
        if not value:
            raise ConfigError(f"{SECRET_ENV_VAR} is not set; export your Allegro application's client secret")
        return Secret(value)
