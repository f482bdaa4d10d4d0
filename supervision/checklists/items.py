"""The item list (一单) as the checklists see it: every item version, from the database."""

from __future__ import annotations

from sqlmodel import Session, col, select

from supervision.checklists.spec import ItemInForce
from supervision.models.items import InspectionItem


def item_list(session: Session) -> list[ItemInForce]:
    """Every item version on the list, with its period (``lint_checklists`` keeps those in
    force on its ``day``)."""
    rows = session.exec(
        select(InspectionItem).order_by(col(InspectionItem.code), col(InspectionItem.version))
    ).all()
    return [
        ItemInForce(r.code, r.version, r.department_code, r.effective_from, r.effective_to)
        for r in rows
    ]
