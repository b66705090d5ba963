"""What an offer for a product should look like, and why a product cannot be listed (pure).

`problems` names every reason a product cannot be listed, in words that say what to fix; `offer_body`
builds the body of `POST /sale/product-offers`; `content` is the part that later PATCHes keep in step.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlsplit

import orjson

from engine.description import allegro_html
from engine.model import CategoryParameter, ProductRow
from engine.policy import CONDITION_PARAMETER_ID, ParameterRule, Policy

TITLE_MIN, TITLE_MAX = 12, 75
MAX_IMAGES = 16
MAX_DESCRIPTION_BYTES = 40_000
URL_SAFE = "/?&=%:@;,+~"


def valid_ean(code: str) -> bool:
    if len(code) != 13 or not code.isdigit():
        return False
    digits = [int(c) for c in code]
    total = sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits[:12]))
    return (10 - total % 10) % 10 == digits[12]


def problems(row: ProductRow, policy: Policy, categories: dict[str, tuple[CategoryParameter, ...]]) -> tuple[str, ...]:
    """Every reason this product cannot be listed; empty when it can."""
    pid = row.product_id
    found: list[str] = []
    category_id = policy.category_for(row.category)
    if row.category is None:
        found.append(f"product {pid}: no category; set the category column or map it in [mapping.categories]")
    elif category_id is None:
        found.append(f"product {pid}: category '{row.category}' has no mapping in [mapping.categories]")
    if row.condition is not None and policy.condition_for(row.condition) is None:
        found.append(f"product {pid}: condition '{row.condition}' has no mapping in [mapping.conditions]")
    title = row.title or ""
    if not TITLE_MIN <= len(title) <= TITLE_MAX:
        found.append(f"product {pid}: title has {len(title)} characters; Allegro needs {TITLE_MIN}-{TITLE_MAX}")
    if row.price is None or row.price <= 0:
        found.append(f"product {pid}: price {row.price} is not above 0")
    if row.ean is not None and not valid_ean(row.ean):
        found.append(f"product {pid}: EAN '{row.ean}' is not a valid EAN-13 (check digit); fix or clear it")
    if not row.images and row.ean is None:
        found.append(f"product {pid}: no images and no EAN to find a catalogue product; add images or an EAN")
    if len(row.images) > MAX_IMAGES:
        found.append(f"product {pid}: {len(row.images)} images; Allegro takes at most {MAX_IMAGES}")
    for name in row.images:
        if image_url(name, policy.image_base_url) is None:
            found.append(
                f"product {pid}: image '{name}' is not an http(s) URL; store full URLs in the images column "
                "or set [warehouse].image_base_url to the address the names are relative to"
            )
    if len(_description_html(row).encode()) > MAX_DESCRIPTION_BYTES:
        found.append(f"product {pid}: description is longer than {MAX_DESCRIPTION_BYTES} bytes")
    if category_id is not None:
        found.extend(_parameter_problems(row, policy, category_id, categories))
    return tuple(found)


def _parameter_problems(
    row: ProductRow, policy: Policy, category_id: str, categories: dict[str, tuple[CategoryParameter, ...]]
) -> list[str]:
    known = categories.get(category_id)
    if known is None:
        return [f"product {row.product_id}: category {category_id} is not known to Allegro; check [mapping.categories]"]
    rules = {r.parameter_id: r for r in policy.parameter_rules(category_id)}
    extra = dict(row.extra)
    found: list[str] = []
    for param in known:
        if param.parameter_id == CONDITION_PARAMETER_ID:
            if param.required and policy.condition_for(row.condition) is None:
                found.append(
                    f"product {row.product_id}: category {category_id} requires Stan (11323); "
                    "select a condition column and map it in [mapping.conditions]"
                )
            continue
        rule = rules.get(param.parameter_id)
        if rule is None:
            if param.required:
                found.append(
                    f"product {row.product_id}: category {category_id} requires parameter '{param.name}' "
                    f'({param.parameter_id}); add it to [mapping.parameters."{category_id}"]'
                )
            continue
        if rule.column is not None:
            value = extra.get(rule.column)
            if value is None and param.required:
                found.append(
                    f"product {row.product_id}: column '{rule.column}' is empty; category {category_id} "
                    f"requires parameter '{param.name}' ({param.parameter_id})"
                )
            elif value is not None and rule.value_map and value not in dict(rule.value_map):
                found.append(
                    f"product {row.product_id}: value '{value}' of column '{rule.column}' has no mapping in "
                    f'[mapping.parameters."{category_id}"].{param.parameter_id}'
                )
    return found


def _parameters(row: ProductRow, policy: Policy, category_id: str) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = []
    condition = policy.condition_for(row.condition)
    if condition is not None:
        params.append({"id": CONDITION_PARAMETER_ID, "valuesIds": [condition]})
    extra = dict(row.extra)
    for rule in policy.parameter_rules(category_id):
        entry = _parameter_value(rule, extra)
        if entry is not None:
            params.append(entry)
    return params


def _parameter_value(rule: ParameterRule, extra: dict[str, str]) -> dict[str, Any] | None:
    if rule.column is None:
        if rule.values_ids:
            return {"id": rule.parameter_id, "valuesIds": list(rule.values_ids)}
        return {"id": rule.parameter_id, "values": list(rule.values)}
    value = extra.get(rule.column)
    if value is None:
        return None
    if rule.value_map:
        mapped = dict(rule.value_map).get(value)
        return None if mapped is None else {"id": rule.parameter_id, "valuesIds": [mapped]}
    return {"id": rule.parameter_id, "values": [value]}


def image_url(name: str, base_url: str | None) -> str | None:
    """`name` as an absolute http(s) URL: as it is, or appended to `base_url`; None when neither works."""
    parts = urlsplit(name)
    if parts.scheme in ("http", "https") and parts.netloc:
        return name
    if parts.scheme or parts.netloc or base_url is None:
        return None
    return f"{base_url.rstrip('/')}/{quote(name.lstrip('/'), safe=URL_SAFE)}"


def _description_html(row: ProductRow) -> str:
    """The description in Allegro's HTML subset; the title when nothing readable is left of it."""
    return allegro_html(row.description or "") or allegro_html(row.title or "")


def content(row: ProductRow, policy: Policy) -> dict[str, Any]:
    """The offer fields that follow the warehouse by PATCH: name, description, images, parameters."""
    category_id = policy.category_for(row.category) or ""
    body: dict[str, Any] = {
        "name": row.title,
        "parameters": _parameters(row, policy, category_id),
        "description": {"sections": [{"items": [{"type": "TEXT", "content": _description_html(row)}]}]},
    }
    images = [url for name in row.images if (url := image_url(name, policy.image_base_url)) is not None]
    if images:
        body["images"] = images
    return body


def content_hash(row: ProductRow, policy: Policy) -> str:
    raw = orjson.dumps(content(row, policy), option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(raw, digest_size=12).hexdigest()


def money(amount: Decimal) -> dict[str, str]:
    return {"amount": f"{amount.quantize(Decimal('0.01'))}", "currency": "PLN"}


def offer_body(row: ProductRow, policy: Policy, available: int) -> dict[str, Any]:
    """The body of `POST /sale/product-offers` (the dispatcher adds `productSet` when the EAN is known)."""
    defaults = policy.offer_defaults
    assert row.price is not None
    body = content(row, policy)
    body |= {
        "category": {"id": policy.category_for(row.category)},
        "sellingMode": {"format": "BUY_NOW", "price": money(row.price)},
        "stock": {"available": available, "unit": "UNIT"},
        "external": {"id": row.external_id},
        "publication": {"status": "ACTIVE" if defaults.publish and available > 0 else "INACTIVE"},
        "language": "pl-PL",
    }
    delivery: dict[str, Any] = {}
    if defaults.shipping_rates:
        delivery["shippingRates"] = {"name": defaults.shipping_rates}
    if defaults.handling_time:
        delivery["handlingTime"] = defaults.handling_time
    if delivery:
        body["delivery"] = delivery
    after_sales: dict[str, Any] = {}
    if defaults.return_policy:
        after_sales["returnPolicy"] = {"name": defaults.return_policy}
    if defaults.implied_warranty:
        after_sales["impliedWarranty"] = {"name": defaults.implied_warranty}
    if after_sales:
        body["afterSalesServices"] = after_sales
    if defaults.invoice:
        body["payments"] = {"invoice": defaults.invoice}
    if defaults.location:
        loc = dict(defaults.location)
        body["location"] = {
            "countryCode": loc.get("country_code"),
            "province": loc.get("province"),
            "city": loc.get("city"),
            "postCode": loc.get("post_code"),
        }
    return body
