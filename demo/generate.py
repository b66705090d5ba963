"""Generates the sample warehouse: N products with valid EAN-13s, Polish titles, and a few deliberately broken rows."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from demo.sample import metadata, stany_magazynowe, towary

BROKEN_KINDS = ("negative_stock", "bad_price", "short_title", "bad_ean", "unmapped_category")
"""Each kind appears at least once when there are at least 20 products."""

_NOUNS = {
    "ELEKTRONIKA": [
        ("Kabel HDMI 2.1", ["8K", "4K 120 Hz", "Ultra HD"], ["1 m", "2 m", "3 m", "5 m"]),
        ("Ładowarka sieciowa USB-C", ["GaN", "Power Delivery", "szybka"], ["20 W", "45 W", "65 W", "100 W"]),
        ("Przejściówka USB-C na HDMI", ["aluminiowa", "4K 60 Hz"], ["srebrna", "szara"]),
        ("Powerbank", ["slim", "z wyświetlaczem", "MagSafe"], ["10000 mAh", "20000 mAh"]),
        ("Przedłużacz listwa zasilająca", ["z wyłącznikiem", "6 gniazd"], ["1,5 m", "3 m", "5 m"]),
    ],
    "SLUCHAWKI": [
        ("Słuchawki bezprzewodowe", ["douszne", "nauszne", "z ANC"], ["czarne", "białe", "granatowe"]),
        ("Słuchawki przewodowe jack 3,5 mm", ["z mikrofonem", "studyjne"], ["czarne", "srebrne"]),
        ("Słuchawki gamingowe", ["7.1", "RGB", "z mikrofonem"], ["USB", "jack"]),
    ],
    "NARZEDZIA": [
        ("Zestaw kluczy nasadowych", ["CrV", "w walizce"], ["46 el.", "94 el.", "108 el."]),
        ("Wkrętak precyzyjny", ["magnetyczny", "z grotami"], ["24 w 1", "60 w 1"]),
        ("Młotek ślusarski", ["z trzonkiem z włókna", "kuty"], ["300 g", "500 g", "1 kg"]),
        ("Poziomica aluminiowa", ["z magnesem", "3 libelle"], ["40 cm", "60 cm", "100 cm"]),
    ],
}
_BRANDS = ("Acme", "Globex", "Initech")
_EPOCH = datetime(2020, 1, 1)


@dataclass(frozen=True, slots=True, kw_only=True)
class SampleSummary:
    """What `create_sample_warehouse` wrote: the product count and the ids of the broken rows by kind."""

    products: int
    broken: dict[str, tuple[int, ...]]


def ean13(twelve_digits: str) -> str:
    """The 12 digits plus their EAN-13 check digit."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(twelve_digits))
    return twelve_digits + str((10 - total % 10) % 10)


def ean13_valid(code: str) -> bool:
    return len(code) == 13 and code.isdigit() and ean13(code[:12]) == code


def create_sample_warehouse(url: str | Engine, products: int = 1000, seed: int = 0) -> SampleSummary:
    """(Re)create the sample tables at `url` and fill them with `products` products, deterministically per seed."""
    engine = create_engine(url) if isinstance(url, str) else url
    try:
        rng = random.Random(seed)
        broken = _pick_broken(rng, products)
        kinds = {pid: kind for kind, ids in broken.items() for pid in ids}
        rows = [_product(rng, pid, seed, kinds.get(pid)) for pid in range(1, products + 1)]
        stock = [{"towar_id": row["id"], "ilosc": row.pop("_stock")} for row in rows]
        metadata.drop_all(engine)
        metadata.create_all(engine)
        with engine.begin() as connection:
            for start in range(0, len(rows), 5000):
                connection.execute(towary.insert(), rows[start : start + 5000])
                connection.execute(stany_magazynowe.insert(), stock[start : start + 5000])
        return SampleSummary(products=products, broken={k: tuple(sorted(v)) for k, v in broken.items()})
    finally:
        if isinstance(url, str):
            engine.dispose()


def _pick_broken(rng: random.Random, products: int) -> dict[str, list[int]]:
    if products < 20:
        return {kind: [] for kind in BROKEN_KINDS}
    per_kind = max(1, products // 500)
    chosen = rng.sample(range(1, products + 1), per_kind * len(BROKEN_KINDS))
    return {kind: chosen[i * per_kind : (i + 1) * per_kind] for i, kind in enumerate(BROKEN_KINDS)}


def _product(rng: random.Random, pid: int, seed: int, broken: str | None) -> dict[str, Any]:
    category = rng.choice(tuple(_NOUNS))
    noun, features, variants = rng.choice(_NOUNS[category])
    title = f"{noun} {rng.choice(features)} {rng.choice(variants)}"[:75]
    ean = ean13(f"590{(pid * 7919 + seed * 104729) % 10**9:09d}")
    price = f"{rng.randint(9, 899)},{rng.choice(('00', '49', '90', '99'))}"
    stock = rng.choice((0, 1, 2, 3, 5, 8, 10, 12, 20, 35, 50))
    if broken == "negative_stock":
        stock = -rng.randint(1, 5)
    elif broken == "bad_price":
        price = rng.choice(("brak", "12,5zł", "do ustalenia"))
    elif broken == "short_title":
        title = rng.choice(("Kabel", "Młotek", "Powerbank", "Słuchawki"))
    elif broken == "bad_ean":
        ean = ean[:12] + str((int(ean[12]) + 1) % 10)
    elif broken == "unmapped_category":
        category = "ZABAWKI"
    return {
        "id": pid,
        "symbol": f"TW-{pid:06d}",
        "nazwa": title,
        "cena": price,
        "kategoria": category,
        "stan_techniczny": "U" if rng.random() < 0.1 else "N",
        "ean": ean,
        "opis": f"<p>{title}. Produkt {'używany' if rng.random() < 0.1 else 'nowy'}, wysyłka w 24 h.</p>",
        "zdjecia": f"https://images.example.invalid/{ean}/1.jpg, https://images.example.invalid/{ean}/2.jpg",
        "marka": rng.choice(_BRANDS) if category == "SLUCHAWKI" else None,
        "model": f"M-{rng.randint(100, 999)}" if category == "NARZEDZIA" else None,
        "wystawiaj": "N" if rng.random() < 0.05 else "T",
        "zmodyfikowano": _EPOCH + timedelta(seconds=pid * 61 + rng.randint(0, 60)),
        "_stock": stock,
    }
