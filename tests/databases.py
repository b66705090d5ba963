"""Where the test suites look for the local database servers, unless ALLEGRO_SYNC_PG_URL /
ALLEGRO_SYNC_MYSQL_URL say otherwise (the first that answers is used)."""

from __future__ import annotations

PG_CANDIDATES = ("postgresql+psycopg://root@127.0.0.1:5432/test", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MYSQL_CANDIDATES = ("mysql+pymysql://root@127.0.0.1:3306/test",)
