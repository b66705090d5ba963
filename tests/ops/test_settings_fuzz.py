"""Whatever the file holds, loading ends in Settings or in one ConfigError of well-formed lines, never a crash."""

from __future__ import annotations

import copy
import re
import tomllib
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import ConfigError
from engine.settings import Settings, parse_settings

from .test_settings import BASE

VALID: dict[str, Any] = tomllib.loads(BASE)
# `<where>: <what was found>; expected ...` (or `; did you mean ...?`), one line each.
LINE = re.compile(r"^(\[|[^\s\[]).*?: .+; (expected .+|did you mean .+\?)$")

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**7), max_value=10**7),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(["SELECT 1", "sqlite:///x.db", "http://h", "${NOPE}", "emulator", "BOUGHT", "PT24H"]),
)
values = st.recursive(
    scalars.filter(lambda v: v is not None),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def paths(doc: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for key, value in doc.items():
        found.append((*prefix, key))
        if isinstance(value, dict):
            found.extend(paths(value, (*prefix, key)))
    return found


ALL_PATHS = paths(VALID)


@settings(max_examples=300, deadline=None)
@given(
    edits=st.lists(
        st.tuples(st.sampled_from(ALL_PATHS), st.one_of(values, st.just(None)), st.text(min_size=1, max_size=12)),
        min_size=1,
        max_size=4,
    )
)
def test_any_edit_loads_or_fails_with_one_line_per_mistake(edits: list[tuple[tuple[str, ...], Any, str]]) -> None:
    doc = copy.deepcopy(VALID)
    for path, value, new_key in edits:
        parent: Any = doc
        for key in path[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
        if not isinstance(parent, dict):
            continue
        if value is None:
            parent.pop(path[-1], None)  # a key removed
        elif len(new_key) % 2:
            parent[new_key] = value  # a key added
        else:
            parent[path[-1]] = value  # a value replaced
    try:
        result = parse_settings(doc, config_path=Path("/srv/sync/config.toml"), env={})
    except ConfigError as exc:
        lines = str(exc).splitlines()
        assert lines
        for line in lines:
            assert LINE.match(line), line
    else:
        assert isinstance(result, Settings)
