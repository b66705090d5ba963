"""Where each environment lives: the API and OAuth base URLs of production, sandbox and the emulator."""

from __future__ import annotations

from typing import Final

ENVIRONMENTS: Final = ("emulator", "sandbox", "production")

# allegro-api.md section 11. OAuth is NOT on the API host; the emulator serves both on one base URL.
_API_URLS: Final = {
    "production": "https://api.allegro.pl",
    "sandbox": "https://api.allegro.pl.allegrosandbox.pl",
    "emulator": "http://127.0.0.1:8900",
}
_AUTH_URLS: Final = {
    "production": "https://allegro.pl",
    "sandbox": "https://allegro.pl.allegrosandbox.pl",
    "emulator": "http://127.0.0.1:8900",
}

TOKEN_PATH: Final = "/auth/oauth/token"
DEVICE_PATH: Final = "/auth/oauth/device"


def default_api_url(environment: str) -> str:
    return _API_URLS[environment]


def default_auth_url(environment: str) -> str:
    return _AUTH_URLS[environment]


def token_url(auth_url: str) -> str:
    return auth_url.rstrip("/") + TOKEN_PATH


def device_url(auth_url: str) -> str:
    return auth_url.rstrip("/") + DEVICE_PATH
