"""Allegro emulator: an ASGI app (Starlette) behaving like Allegro's REST API, for tests, the demo and benchmarks."""
