"""The masked secret type of the Allegro adapter: the engine's `Secret` (repr/str print `Secret('***')`)."""

from __future__ import annotations

from engine.settings import Secret

__all__ = ["Secret"]
