"""A small given/when/then harness for reducer tables: events go through the ledger envelope and back."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from engine import events as ev
from engine.commands import Command
from engine.model import (
    CategoryParameter,
    OfferEvent,
    OfferSnapshot,
    OfferStatus,
    OrderEvent,
    OrderLine,
    ProductRow,
)
from engine.policy import Policy
from engine.reducer import reduce
from engine.state import State

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
POLICY = Policy(
    categories=(("ELEKTRONIKA", "257931"),),
    conditions=(("N", "11323_1"), ("U", "11323_2")),
    journal_grace_seconds=120,
)
STAN = CategoryParameter(
    parameter_id="11323", name="Stan", type="dictionary", required=True, dictionary=(("11323_1", "Nowy"),)
)


def row(pid: str = "1", *, stock: int = 10, **changes: object) -> ProductRow:
    base = ProductRow(
        product_id=pid,
        external_id=f"SKU-{pid}",
        stock=stock,
        title="Kabel HDMI 2.1 złocony 2 m",
        price=Decimal("49.99"),
        list=True,
        category="ELEKTRONIKA",
        condition="N",
        images=("https://img.example/1.jpg",),
        row_hash=f"h-{pid}",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def snap(
    offer_id: str = "O1",
    *,
    available: int = 10,
    status: OfferStatus = OfferStatus.ACTIVE,
    at: datetime = T0,
    ext: str | None = "SKU-1",
    price: str = "49.99",
) -> OfferSnapshot:
    return OfferSnapshot(
        offer_id=offer_id, external_id=ext, status=status, available=available, price=Decimal(price), read_at=at
    )


def order(cf: str, etype: str, *lines: tuple[str, str, int], at: datetime = T0, ext: str = "SKU-1") -> OrderEvent:
    return OrderEvent(
        event_id=f"{cf}-{etype}-{at.isoformat()}",
        type=etype,
        occurred_at=at,
        checkout_form_id=cf,
        revision="r1",
        lines=tuple(
            OrderLine(line_id=lid, offer_id=oid, external_id=ext, quantity=q, bought_at=at) for lid, oid, q in lines
        ),
    )


class Given:
    """Folds events one by one, as the cycle would, and keeps the commands of the last step."""

    def __init__(self, policy: Policy = POLICY) -> None:
        self.state = State()
        self.seq = 0
        self.commands: list[Command] = []
        self.when(ev.PolicyChanged(occurred_at=T0, policy=policy))
        self.when(ev.CategoryObserved(occurred_at=T0, category_id="257931", parameters=(STAN,)))

    def when(self, *events: ev.Event) -> list[Command]:
        self.commands = []
        for event in events:
            self.seq += 1
            envelope = ev.encode(event, f"k{self.seq}")
            decoded = ev.decode(envelope)
            assert decoded == event
            self.state, out = reduce(self.state, decoded, self.seq)
            self.commands += out
        return self.commands

    def listed(self, pid: str = "1", *, stock: int = 10, offer_id: str = "O1", at: datetime = T0) -> None:
        """A product with a managed, active offer showing `stock` (as after creation)."""
        (create,) = self.when(ev.ProductObserved(occurred_at=at, product=row(pid, stock=stock)))
        self.when(
            ev.OfferCreated(
                occurred_at=at,
                command_id=create.id,
                product_id=pid,
                offer=snap(offer_id, available=create.body["stock"]["available"], at=at, ext=f"SKU-{pid}"),  # type: ignore[attr-defined]
                adopted=False,
                content_hash=create.content_hash,  # type: ignore[attr-defined]
            )
        )

    def kinds(self) -> list[str]:
        return [type(c).KIND for c in self.commands]

    def offer_event(
        self, etype: str, offer_id: str = "O1", *, at: datetime = T0, ended_by: str | None = None
    ) -> list[Command]:
        return self.when(
            ev.OfferEventObserved(
                occurred_at=at,
                offer_event=OfferEvent(
                    event_id=f"oe-{self.seq}",
                    type=etype,
                    occurred_at=at,
                    offer_id=offer_id,
                    external_id="SKU-1",
                    ended_by=ended_by,
                ),
            )
        )


def later(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)
