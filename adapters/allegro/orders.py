"""Checkout forms (orders) for the sweep: filtered by update or purchase time, paged 100 at a time."""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.allegro import answers, readers
from adapters.allegro.caller import Call, Caller
from adapters.allegro.errors import MalformedAnswer, malformed
from engine.model import CheckoutForm

PAGE = 100  # the endpoint's maximum


def iso_millis(moment: datetime) -> str:
    """Allegro's time format: UTC with milliseconds and `Z`."""
    utc = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


class Orders:
    def __init__(self, caller: Caller) -> None:
        self._caller = caller

    async def checkout_forms(
        self, *, updated_since: datetime | None = None, bought_since: datetime | None = None
    ) -> list[CheckoutForm]:
        """Every form updated (or bought) since the given time, oldest first.

        Sorted ascending by the filtered time, so a form that changes while we page moves behind us and
        is read again later instead of shifting an unread form into a page already read.
        """
        endpoint = "GET /order/checkout-forms"
        filters: list[tuple[str, str]] = []
        sort = "updatedAt"
        if updated_since is not None:
            filters.append(("updatedAt.gte", iso_millis(updated_since)))
        if bought_since is not None:
            filters.append(("lineItems.boughtAt.gte", iso_millis(bought_since)))
            sort = "updatedAt" if updated_since is not None else "lineItems.boughtAt"
        forms: dict[str, CheckoutForm] = {}
        offset = 0
        while True:
            params = [*filters, ("sort", sort), ("limit", str(PAGE)), ("offset", str(offset))]
            response = await self._caller.send(
                Call(method="GET", path="/order/checkout-forms", endpoint=endpoint, params=params)
            )
            try:
                body = answers.json_body(response)
                rows = answers.items(body, "checkoutForms")
                total = answers.optional_integer(body, "totalCount")
                for index, row in enumerate(rows):
                    try:
                        form = readers.checkout_form(row)
                    except MalformedAnswer as exc:
                        raise MalformedAnswer(f"checkoutForms[{index}].{exc.field}", exc.detail) from None
                    forms[form.checkout_form_id] = form
            except MalformedAnswer as exc:
                raise malformed(endpoint, exc, per_item=False) from None
            offset += len(rows)
            if len(rows) < PAGE or (total is not None and offset >= total):
                return list(forms.values())
