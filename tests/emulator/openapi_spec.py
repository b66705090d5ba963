"""Allegro's OpenAPI file, loaded once per process, with the schema-level exemptions applied (test support)."""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import Any

import yaml
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SPEC_NAME = "allegro-openapi.yaml"
SPEC_URI = "urn:allegro-openapi"
# Exemption 5 of openapi_check: these lists may answer count 0 and totalCount 0.
ZERO_COUNT_SCHEMAS = ("CheckoutForms",)


def spec_path() -> Path:
    """`ALLEGRO_OPENAPI` if set, else `shared/` inside or beside the repository."""
    if os.environ.get("ALLEGRO_OPENAPI"):
        return Path(os.environ["ALLEGRO_OPENAPI"])
    root = Path(__file__).resolve().parents[2]
    for candidate in (root / "shared" / SPEC_NAME, root.parent / "shared" / SPEC_NAME):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"{SPEC_NAME} not found in {root}/shared or {root.parent}/shared; set ALLEGRO_OPENAPI")


@functools.cache
def load_spec() -> dict[str, Any]:
    """The parsed spec, once per process (about 1 s with the C loader)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    spec: dict[str, Any] = yaml.load(spec_path().read_text(encoding="utf-8"), Loader=loader)
    relax_nullable(spec)
    for name in ZERO_COUNT_SCHEMAS:
        for prop in ("count", "totalCount"):
            spec["components"]["schemas"][name]["properties"][prop]["minimum"] = 0
    return spec


def relax_nullable(node: Any) -> None:
    """Exemption 9: null is allowed wherever `nullable: true` sits beside `allOf` or `enum`."""
    if isinstance(node, list):
        for item in node:
            relax_nullable(item)
        return
    if not isinstance(node, dict):
        return
    for value in node.values():
        relax_nullable(value)
    if node.get("nullable") is True:
        if isinstance(node.get("enum"), list) and None not in node["enum"]:
            node["enum"].append(None)
        if "allOf" in node:
            inner = {key: value for key, value in node.items() if key != "nullable"}
            node.clear()
            node["anyOf"] = [inner, {"enum": [None]}]


@functools.cache
def _registry() -> Registry[Any]:
    resource: Resource[Any] = DRAFT4.create_resource(load_spec())
    registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)
    return registry


@functools.cache
def validator(pointer: str) -> OAS30Validator:
    return OAS30Validator({"$ref": f"{SPEC_URI}#{pointer}"}, registry=_registry())


@functools.cache
def _path_table() -> list[tuple[re.Pattern[str], str]]:
    """Spec paths as regexes, literal paths first so `/sale/offers/promo-options` beats `/sale/offers/{id}`."""
    table = []
    for template in load_spec()["paths"]:
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        table.append((re.compile(pattern), template))
    table.sort(key=lambda item: (item[1].count("{"), -len(item[1])))
    return table


def find_operation(method: str, path: str) -> tuple[str, dict[str, Any]] | None:
    for pattern, template in _path_table():
        if pattern.match(path):
            operation = load_spec()["paths"][template].get(method.lower())
            if operation is not None:
                return template, operation
    return None
