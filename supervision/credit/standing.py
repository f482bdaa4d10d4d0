"""An entity's credit standing, as the console and the CLI show it (internal use): its
register entries (current and removed), proposals, class in force and class history."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from supervision.accounts.scope import Scope
from supervision.credit.classes import class_history
from supervision.credit.proposals import proposals_of
from supervision.credit.registers import entries_of
from supervision.db import Database, table_of
from supervision.errors import NotFoundError
from supervision.models import Entity

__all__ = ["credit_standing"]

_E = table_of(Entity)


def credit_standing(db: Database, *, uscc: str, scope: Scope | None = None) -> dict[str, Any]:
    """Everything the credit loop knows of an entity. Internal: the class and its history
    are never shown to the public (public pages show register entries only). An entity
    outside ``scope`` is not found."""
    code = uscc.strip().upper()
    with db.engine.connect() as conn:
        entity = conn.execute(
            select(
                _E.c.uscc,
                _E.c.name,
                _E.c.entity_type,
                _E.c.risk_class,
                _E.c.risk_classified_on,
                _E.c.abnormal,
                _E.c.abnormal_since,
                _E.c.region_code,
            ).where(_E.c.uscc == code)
        ).first()
        if entity is None or (scope is not None and not scope.covers_region(entity.region_code)):
            raise NotFoundError(f"没有统一社会信用代码为 {code} 的主体", f"no entity {code}")
        data = dict(entity._mapping)
        del data["region_code"]
        for key in ("risk_classified_on", "abnormal_since"):
            if data[key] is not None:
                data[key] = data[key].isoformat()
        return {
            "entity": data,
            "entries": entries_of(conn, code),
            "proposals": proposals_of(conn, code),
            "class_history": class_history(conn, code),
        }
