"""The rules the reducer applies, taken from the configuration: stock policy, flows, mappings, offer defaults.

A `Policy` is part of the projection state and enters it through a `PolicyChanged` event, so a ledger
replays to the same decisions even after the configuration has changed since.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True, kw_only=True)
class Flows:
    """Per-flow switches for a gradual roll-out."""

    listing: bool = True
    stock: bool = True
    price: bool = True
    orders: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class ParameterRule:
    """How one Allegro parameter of a category is filled: constant values, or a warehouse column."""

    parameter_id: str
    values_ids: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    column: str | None = None
    value_map: tuple[tuple[str, str], ...] = ()
    """(warehouse value, Allegro value id) pairs for a column-driven dictionary parameter."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferDefaults:
    shipping_rates: str | None = None
    handling_time: str | None = None
    return_policy: str | None = None
    implied_warranty: str | None = None
    invoice: str | None = None
    location: tuple[tuple[str, str], ...] = ()
    publish: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    buffer: int = 0
    max_published: int = 100_000
    zero_threshold: int = 0
    decrement_on: str = "BOUGHT"
    journal_grace_seconds: int = 120
    reactivate_on_restock: bool = True
    end_when_unlisted: bool = True
    flows: Flows = field(default_factory=Flows)
    categories: tuple[tuple[str, str], ...] = ()
    """(warehouse category, Allegro leaf category id)."""
    conditions: tuple[tuple[str, str], ...] = ()
    """(warehouse condition, value id of Allegro's "Stan", parameter 11323)."""
    parameters: tuple[tuple[str, tuple[ParameterRule, ...]], ...] = ()
    """(Allegro category id, rules for its parameters)."""
    offer_defaults: OfferDefaults = field(default_factory=OfferDefaults)
    write_back: bool = False
    """Whether `[warehouse].offer_linked` is configured (offer id, status and problem go back)."""
    image_base_url: str | None = None
    """`[warehouse].image_base_url`: image names that are not URLs are taken relative to it."""

    def category_for(self, value: str | None) -> str | None:
        return dict(self.categories).get(value) if value is not None else None

    def condition_for(self, value: str | None) -> str | None:
        return dict(self.conditions).get(value) if value is not None else None

    def parameter_rules(self, category_id: str) -> tuple[ParameterRule, ...]:
        return dict(self.parameters).get(category_id, ())


CONDITION_PARAMETER_ID = "11323"
"""Allegro's "Stan" (condition) parameter."""
