"""Deterministic demo catalogue: a few categories with parameters, and a product for every valid EAN-13."""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]

ROOT_ID = "954b95b6-43cf-4104-8354-dea4d9b10ddf"
CONDITION_ID = "11323"
CONDITION_VALUES = {"11323_1": "Nowy", "11323_2": "Używany"}
BRAND_ID = "127448"
BRANDS = {"127448_1": "Acme", "127448_2": "Globex", "127448_3": "Initech"}
LENGTH_ID = "17448"
MODEL_ID = "224017"
PRODUCT_CATEGORY = "257931"

_OPTIONS = {
    "advertisement": False,
    "advertisementPriceOptional": False,
    "offersWithProductPublicationEnabled": True,
    "productCreationEnabled": True,
    "productEANRequired": False,
    "customParametersEnabled": True,
    "sellerCanRequirePurchaseComments": False,
}

# id -> (name, parent id or None, leaf)
CATEGORIES: dict[str, tuple[str, str | None, bool]] = {
    "3": ("Elektronika", None, False),
    "257931": ("Kable i adaptery", "3", True),
    "257932": ("Słuchawki", "3", True),
    "5": ("Dom i Ogród", None, False),
    "257933": ("Narzędzia ręczne", "5", True),
}


def _dictionary(param_id: str, name: str, values: dict[str, str], *, required: bool, for_product: bool) -> Json:
    return {
        "id": param_id,
        "name": name,
        "type": "dictionary",
        "required": required,
        "requiredForProduct": for_product,
        "unit": None,
        "options": {
            "variantsAllowed": False,
            "variantsEqual": False,
            "ambiguousValueId": None,
            "dependsOnParameterId": None,
            "describesProduct": for_product,
            "customValuesEnabled": False,
        },
        "dictionary": [{"id": key, "value": value, "dependsOnValueIds": []} for key, value in values.items()],
        "restrictions": {"multipleChoices": False},
    }


def _condition() -> Json:
    return _dictionary(CONDITION_ID, "Stan", CONDITION_VALUES, required=True, for_product=False)


def _length() -> Json:
    return {
        "id": LENGTH_ID,
        "name": "Długość kabla",
        "type": "float",
        "required": False,
        "requiredForProduct": False,
        "unit": "m",
        "options": {
            "describesProduct": True,
            "customValuesEnabled": False,
            "ambiguousValueId": None,
            "dependsOnParameterId": None,
            "variantsAllowed": False,
            "variantsEqual": False,
        },
        "restrictions": {"min": 0.0, "max": 100.0, "range": False, "precision": 2},
    }


def _model() -> Json:
    return {
        "id": MODEL_ID,
        "name": "Model",
        "type": "string",
        "required": True,
        "requiredForProduct": True,
        "unit": None,
        "options": {
            "describesProduct": True,
            "customValuesEnabled": False,
            "ambiguousValueId": None,
            "dependsOnParameterId": None,
            "variantsAllowed": False,
            "variantsEqual": False,
        },
        "restrictions": {"minLength": 1, "maxLength": 40, "allowedNumberOfValues": 1},
    }


def parameters(category_id: str) -> list[Json]:
    """The category's parameters; every leaf has "Stan" (11323), some have further required ones."""
    if category_id == "257931":
        return [_condition(), _length()]
    if category_id == "257932":
        brand = _dictionary(BRAND_ID, "Marka", BRANDS, required=True, for_product=True)
        return [_condition(), brand]
    if category_id == "257933":
        return [_condition(), _model()]
    return []


def category(category_id: str) -> Json | None:
    entry = CATEGORIES.get(category_id)
    if entry is None:
        return None
    name, parent, leaf = entry
    found: Json = {"id": category_id, "name": name, "leaf": leaf, "options": dict(_OPTIONS)}
    if parent:
        # Allegro sends `parent: null` for top-level categories, but the spec's CategoryDto does not allow null.
        found["parent"] = {"id": parent}
    return found


def children(parent_id: str | None) -> list[Json]:
    """Top-level categories for None or the root id, else the children of `parent_id`."""
    wanted = None if parent_id in (None, ROOT_ID) else parent_id
    return [category(key) or {} for key, (_, parent, _) in CATEGORIES.items() if parent == wanted]


def is_valid_ean13(code: str) -> bool:
    if len(code) != 13 or not code.isdigit():
        return False
    digits = [int(char) for char in code]
    total = sum(digit * (3 if index % 2 else 1) for index, digit in enumerate(digits[:12]))
    return (10 - total % 10) % 10 == digits[12]


def product_id(ean: str) -> str:
    """A UUID that carries the EAN in its last group, so the id leads back to the product."""
    return f"5e000000-0000-4000-8000-{int(ean):012x}"


def ean_of(product: str) -> str | None:
    """The EAN behind a catalogue product id or a GTIN given directly; None if neither."""
    if is_valid_ean13(product):
        return product
    prefix = "5e000000-0000-4000-8000-"
    if product.startswith(prefix):
        try:
            ean = f"{int(product[len(prefix) :], 16):013d}"
        except ValueError:
            return None
        return ean if is_valid_ean13(ean) else None
    return None


_ADJECTIVES = (
    "Solidny",
    "Kompaktowy",
    "Uniwersalny",
    "Praktyczny",
    "Lekki",
    "Mocny",
    "Cichy",
    "Szybki",
    "Nowoczesny",
    "Klasyczny",
)
_NOUNS = (
    "kabel USB-C",
    "adapter HDMI",
    "przedłużacz",
    "rozgałęziacz",
    "przewód audio",
    "kabel zasilający",
    "konwerter",
    "przejściówka",
    "kabel sieciowy",
    "ładowarka",
)


def product(ean: str) -> Json:
    """The synthetic catalogue product for a valid EAN-13: name, images and parameters derived from the code."""
    digits = [int(char) for char in ean]
    brand_key = f"127448_{digits[3] % 3 + 1}"
    name = f"{_ADJECTIVES[digits[10]]} {_NOUNS[digits[11]]} {BRANDS[brand_key]} {ean[-5:]}"
    return {
        "id": product_id(ean),
        "name": name,
        "category": {
            "id": PRODUCT_CATEGORY,
            "path": [{"id": "3", "name": "Elektronika"}, {"id": PRODUCT_CATEGORY, "name": "Kable i adaptery"}],
        },
        "images": [{"url": f"https://a.allegroimg.com/original/{ean[:4]}/{ean}-{index}.jpg"} for index in (1, 2)],
        "parameters": [
            {"id": BRAND_ID, "name": "Marka", "valuesIds": [brand_key], "values": [BRANDS[brand_key]]},
            {"id": "225693", "name": "EAN (GTIN)", "values": [ean]},
        ],
        "publication": {"status": "LISTED"},
    }
