"""The emulator's start-up settings (what cannot change while it runs)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class EmulatorConfig:
    """`seed` drives every random choice; `state_file` (optional) keeps the world across restarts."""

    seed: int = 0
    state_file: str | None = None
    client_id: str = "emulator-client"
    client_secret: str = "emulator-secret"
    base_url: str = "http://127.0.0.1:8900"
    seller_id: str = "437848322"

    def __repr__(self) -> str:
        # The client secret never appears in logs or tracebacks.
        return (
            f"EmulatorConfig(seed={self.seed}, state_file={self.state_file!r}, client_id={self.client_id!r}, "
            f"client_secret='***', base_url={self.base_url!r}, seller_id={self.seller_id!r})"
        )
