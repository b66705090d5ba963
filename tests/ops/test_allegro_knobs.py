"""The client's rate knobs come from `[allegro]` and reach the Allegro client's configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.bootstrap import allegro_config
from engine.errors import ConfigError
from engine.settings import load_settings

SHIPPED = Path(__file__).resolve().parents[2] / "config.toml"


def _config(tmp_path: Path, lines: str) -> Path:
    text = SHIPPED.read_text(encoding="utf-8").replace("max_concurrency = 16\n", lines)
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_rate_knobs_reach_the_allegro_client(tmp_path: Path) -> None:
    path = _config(tmp_path, "max_concurrency = 4\noffer_creations_per_minute = 600\n")
    config = allegro_config(load_settings(path, env={}))
    assert (config.max_concurrency, config.requests_per_minute, config.offer_creations_per_minute) == (4, 9000, 600)


def test_a_concurrency_of_zero_is_refused_with_the_key_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[allegro\]\.max_concurrency"):
        load_settings(_config(tmp_path, "max_concurrency = 0\n"), env={})
