"""Write-back of offer links to the warehouse through the optional `[warehouse].offer_linked` statement."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.engine import Connection

from adapters.warehouse.database import Database
from engine.model import OfferLink


def write_offer_links(database: Database, statement: str | None, links: Sequence[OfferLink]) -> None:
    """Run the statement once per link (`:product_id, :offer_id, :offer_status, :problem`), in one transaction.

    `:status` is accepted as another name for `:offer_status` (the shipped config.toml's comment uses it).
    Rows it does not find are not an error: the product may have been deleted since.
    """
    if not statement or not statement.strip() or not links:
        return
    clause = database.statement(statement)
    parameters = [
        {
            "product_id": link.product_id,
            "offer_id": link.offer_id,
            "offer_status": link.status,
            "status": link.status,
            "problem": link.problem,
        }
        for link in links
    ]

    def work(connection: Connection) -> None:
        with connection.begin():
            connection.execute(clause, parameters)

    database.with_connection("offer_linked", work)
