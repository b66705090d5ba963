"""JSON type checks of request bodies: a value of the wrong type answers 400, as Allegro's deserialiser does."""

from __future__ import annotations

from typing import Any

from emulator.http import ApiError, error

# Where a field sits (dotted, `[]` for list items) -> the JSON type it must have when present and not null.
OFFER_SHAPE: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "language": str,
    "category": dict,
    "category.id": (str, int),
    "sellingMode": dict,
    "sellingMode.format": str,
    "sellingMode.price": dict,
    "stock": dict,
    "external": dict,
    "external.id": str,
    "publication": dict,
    "publication.status": str,
    "delivery": dict,
    "delivery.shippingRates": dict,
    "delivery.handlingTime": str,
    "afterSalesServices": dict,
    "afterSalesServices.returnPolicy": dict,
    "afterSalesServices.impliedWarranty": dict,
    "afterSalesServices.warranty": dict,
    "payments": dict,
    "payments.invoice": str,
    "location": dict,
    "description": dict,
    "images": list,
    "images[]": str,
    "parameters": list,
    "parameters[]": dict,
    "parameters[].values": list,
    "parameters[].valuesIds": list,
    "productSet": list,
    "productSet[]": dict,
    "productSet[].product": dict,
    "productSet[].product.images": list,
    "productSet[].product.parameters": list,
}
_NAMES = {dict: "an object", list: "an array", str: "a string", int: "an integer", float: "a number"}


def _values(body: Any, path: str) -> list[tuple[str, Any]]:
    """Every value at `path` (items of arrays expanded) with its concrete path, for present, non-null values."""
    found: list[tuple[str, Any]] = [("", body)]
    for part in path.split("."):
        key, items = (part[:-2], True) if part.endswith("[]") else (part, False)
        step: list[tuple[str, Any]] = []
        for where, value in found:
            if not isinstance(value, dict) or value.get(key) is None:
                continue
            child, child_where = value[key], f"{where}.{key}".lstrip(".")
            if items:
                if isinstance(child, list):
                    step += [(f"{child_where}[{index}]", item) for index, item in enumerate(child)]
            else:
                step.append((child_where, child))
        found = step
    return found


def check(body: Any, shape: dict[str, type | tuple[type, ...]]) -> None:
    """Raises a 400 ApiError naming every field whose JSON type is wrong."""
    errors = []
    for path, expected in shape.items():
        kinds = expected if isinstance(expected, tuple) else (expected,)
        for where, value in _values(body, path):
            if value is not None and (isinstance(value, bool) or not isinstance(value, kinds)):
                name = " or ".join(_NAMES.get(kind, kind.__name__) for kind in kinds)
                errors.append(error("JsonMappingException", f"{where} must be {name}", path=where))
    if errors:
        raise ApiError(400, errors)


_CRITERIA: dict[str, type | tuple[type, ...]] = {
    "offerCriteria": list,
    "offerCriteria[]": dict,
    "offerCriteria[].type": str,
    "offerCriteria[].offers": list,
    "offerCriteria[].offers[]": dict,
    "offerCriteria[].offers[].id": (str, int),
}
COMMAND_SHAPES: dict[str, dict[str, type | tuple[type, ...]]] = {
    "quantity": {"modification": dict, "modification.changeType": str, "modification.value": int, **_CRITERIA},
    "price": {
        "modification": dict,
        "modification.type": str,
        "modification.price": dict,
        "modification.value": dict,
        "modification.percentage": (str, int, float),
        **_CRITERIA,
    },
    "publication": {"publication": dict, "publication.action": str, "publication.scheduledFor": str, **_CRITERIA},
}
