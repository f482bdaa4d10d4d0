"""Shared data for the check and review tests (no tests here).

A small province as of 2025-08-01 where each entity should trip exactly one rule of
the shipped pack, built with tests/factories.py and validated by the XCreate models.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from factories import make_entity, make_record
from sqlalchemy import Table, select
from sqlmodel import SQLModel

from supervision import clock
from supervision.db import Database
from supervision.models import ComplianceRecord, ComplianceRecordCreate, Entity, EntityCreate
from supervision.models.findings import Finding

AS_OF = dt.date(2025, 8, 1)

_E: Table = Entity.__table__  # type: ignore[attr-defined]
_R: Table = ComplianceRecord.__table__  # type: ignore[attr-defined]
_F: Table = Finding.__table__  # type: ignore[attr-defined]

#: name → (entity number, the one rule it should trip or None)
EXPECTED: dict[str, tuple[int, str | None]] = {
    "clean": (1, None),
    "no_report": (2, "samr.annual-report-not-filed"),
    "licence": (3, "samr.licence-expired-still-operating"),
    "rectification": (4, "samr.rectification-overdue"),
    "complaints": (5, "samr.frequent-complaints"),
    "unreachable": (6, "samr.unreachable-at-registered-address"),
    "serious": (7, "samr.abnormal-three-years-serious-list"),
}


def entity_row(n: int, **overrides: Any) -> dict[str, Any]:
    row = make_entity(n, established_on="2024-03-01", risk_class="B") | overrides
    data = EntityCreate.model_validate(row).model_dump()
    data["updated_at"] = clock.now()
    return data


def record_row(
    kind: str,
    n: int,
    uscc: str,
    payload: dict[str, Any],
    received_at: dt.datetime | None = None,
) -> dict[str, Any]:
    row = make_record(kind, n, uscc=uscc, payload=payload)
    data = ComplianceRecordCreate.model_validate(row).model_dump()
    data["received_at"] = received_at or clock.now()
    return data


def load(db: Database, entities: list[dict[str, Any]], records: list[dict[str, Any]]) -> None:
    with db.engine.begin() as conn:
        if entities:
            conn.execute(_E.insert(), entities)
        if records:
            conn.execute(_R.insert(), records)


def filed_report(n: int, uscc: str, year: int = 2024) -> dict[str, Any]:
    return record_row("annual_report", n, uscc, {"year": year, "filed_on": f"{year + 1}-05-20"})


def province() -> tuple[dict[str, str], list[dict[str, Any]], list[dict[str, Any]]]:
    """(name → uscc, entity rows, record rows) of the small province."""
    entities: list[dict[str, Any]] = []
    records: list[dict[str, Any]] = []
    usccs: dict[str, str] = {}
    for name, (n, _rule) in EXPECTED.items():
        extra: dict[str, Any] = {}
        if name == "serious":
            extra = {"abnormal": "是", "abnormal_since": "2022-01-10", "risk_class": "C"}
        row = entity_row(n, **extra)
        entities.append(row)
        uscc = row["uscc"]
        usccs[name] = uscc
        if name != "no_report":
            records.append(filed_report(1000 + n, uscc))
    u = usccs
    records += [
        record_row(
            "licence",
            2001,
            u["licence"],
            {"licence_no": "JY1", "licence_type": "食品经营许可证", "valid_to": "2025-06-01"},
        ),
        record_row(
            "rectification_order",
            2002,
            u["rectification"],
            {"order_no": "ZG-1", "ordered_on": "2025-06-01", "due_on": "2025-07-01"},
        ),
        record_row(
            "address_check",
            2003,
            u["unreachable"],
            {"checked_on": "2025-07-15", "reachable": False},
        ),
    ]
    for i, day in enumerate(("2025-07-01", "2025-07-10", "2025-07-20")):
        records.append(record_row("complaint", 2100 + i, u["complaints"], {"received_on": day}))
    return usccs, entities, records


def snapshot(db: Database, *, values: bool = False) -> list[tuple[Any, ...]]:
    """The findings as a comparable set: no ids, run ids or times (``values``: with the
    matched facts' values too)."""
    with db.engine.connect() as conn:
        rows = conn.execute(
            select(
                _F.c.uscc, _F.c.rule_id, _F.c.rule_version, _F.c.status, _F.c.fact_ids, _F.c.matched
            )
        ).all()
    return sorted(
        (r.uscc, r.rule_id, r.rule_version, r.status, tuple(r.fact_ids))
        + ((json.dumps(r.matched, sort_keys=True),) if values else ())
        for r in rows
    )


def dump(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (to prove a dry run writes nothing)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with db.engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            rows = conn.execute(select(table)).all()
            out[table.name] = sorted(tuple(map(repr, r)) for r in rows)
    return out


def open_rules(db: Database) -> dict[str, set[str]]:
    """uscc → rule ids of its open findings."""
    out: dict[str, set[str]] = {}
    with db.engine.connect() as conn:
        for row in conn.execute(select(_F.c.uscc, _F.c.rule_id).where(_F.c.status == "open")):
            out.setdefault(row.uscc, set()).add(row.rule_id)
    return out
