"""Names beside codes on the console's result pages: the entity's name, each item's name,
and each assigned inspector's name with the 执法证号 (a person reads names; the certificate
is the key)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from supervision.models import Entity, InspectionItem, Inspector, Task


def with_names(session: Session, data: dict[str, Any]) -> dict[str, Any]:
    """``entity_results`` output plus ``entity_name`` and, per item, ``item_name`` (of the
    version the task planned) and ``team_people``: [{"cert_no", "name"}] in the team's
    order (a certificate no longer in the directory keeps an empty name)."""
    entity = session.get(Entity, data["uscc"])
    certs = sorted({cert for item in data["items"] for cert in item["team"]})
    names = dict(
        session.exec(
            select(Inspector.cert_no, Inspector.name).where(col(Inspector.cert_no).in_(certs))
        ).all()
    )
    task = session.get(Task, data["task"])
    versions = {i["code"]: int(i["version"]) for i in (task.items if task else [])}
    items = []
    for item in data["items"]:
        planned = session.get(InspectionItem, (item["item"], versions.get(item["item"], 1)))
        people = [{"cert_no": c, "name": names.get(c, "")} for c in item["team"]]
        items.append({**item, "item_name": planned.name if planned else "", "team_people": people})
    return {**data, "entity_name": entity.name if entity is not None else "", "items": items}
