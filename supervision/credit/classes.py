"""Credit risk classes (信用风险分类) with their history.

Every change of ``Entity.risk_class`` is a ``RiskClassChange`` row: old and new class,
source (``import`` of the bureau's classification, a reviewer's ``decision``, a
``removal``), the day it takes effect and what it refers to. ``Entity.risk_classified_on``
is the day of the class in force.

An import never clears the abnormal flag of an entity with a current entry on the abnormal
list or abnormal status (the removal decision does); the row is reported as kept. An import
may change a class that a decision or removal set only when the imported
classification is newer than that decision (its ``risk_classified_on`` after the
decision's day); otherwise the row keeps the decided class and the import reports it
("kept: a decision of DATE is newer"), never overwriting it silently. A draw reads the
class in force when the task is committed (``Entity.risk_class``), as before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table, func, select, update

from supervision.db import table_of
from supervision.models import ClassSource, Entity, Register, RegisterEntry, RiskClassChange

__all__ = [
    "RISK_STEPS",
    "ClassGuard",
    "change_class",
    "class_history",
    "decided_days",
]

#: Credit risk classes from low to high (SAMR 2022).
RISK_STEPS = ("A", "B", "C", "D")

_E: Table = table_of(Entity)
_C: Table = table_of(RiskClassChange)
_R: Table = table_of(RegisterEntry)
_DECIDED = (ClassSource.DECISION, ClassSource.REMOVAL)
_CHUNK = 2_000


def change_class(
    conn: Connection,
    *,
    uscc: str,
    new_class: str,
    source: str,
    effective_on: dt.date,
    ref: str,
    actor: str,
    now: dt.datetime,
) -> dict[str, Any] | None:
    """Set an entity's class in the caller's transaction and record the change; None when
    the class is already ``new_class`` (nothing recorded)."""
    current = conn.execute(select(_E.c.risk_class).where(_E.c.uscc == uscc)).scalar_one()
    if current == new_class:
        return None
    conn.execute(
        update(_E)
        .where(_E.c.uscc == uscc)
        .values(risk_class=new_class, risk_classified_on=effective_on, updated_at=now)
    )
    values = {
        "uscc": uscc, "old_class": current, "new_class": new_class, "source": source,
        "effective_on": effective_on, "ref": ref[:200], "recorded_by": actor[:100],
        "recorded_at": now,
    }  # fmt: skip
    conn.execute(_C.insert().values(**values))
    return {"action": "risk_class", "from": current, "to": new_class, "source": source}


def raised(current: str) -> str:
    """One step up (A→B→C→D; D stays D; an unknown class counts as B)."""
    step = RISK_STEPS.index(current) if current in RISK_STEPS else 1
    return RISK_STEPS[min(step + 1, len(RISK_STEPS) - 1)]


def class_history(conn: Connection, uscc: str) -> list[dict[str, Any]]:
    """Every class change of an entity, newest first."""
    rows = conn.execute(select(_C).where(_C.c.uscc == uscc).order_by(_C.c.id.desc()))
    out = []
    for row in rows:
        data = dict(row._mapping)
        data["effective_on"] = row.effective_on.isoformat()
        data["recorded_at"] = row.recorded_at.isoformat()
        data["source_zh"] = ClassSource.ZH.get(row.source, row.source)
        out.append(data)
    return out


def decided_days(conn: Connection, usccs: Sequence[str]) -> dict[str, dt.date]:
    """Per entity, the day of its latest class decision or removal (entities without one
    are absent)."""
    found: dict[str, dt.date] = {}
    for start in range(0, len(usccs), _CHUNK):
        part = list(usccs[start : start + _CHUNK])
        rows = conn.execute(
            select(_C.c.uscc, func.max(_C.c.effective_on))
            .where(_C.c.uscc.in_(part), _C.c.source.in_(_DECIDED))
            .group_by(_C.c.uscc)
        )
        found.update({uscc: day for uscc, day in rows})
    return found


@dataclass
class ClassGuard:
    """What a directory import of entities may change of their classes (see the module
    docstring). ``check`` is given the import's changed rows (old and new values by
    column name) and returns each row's values to store; ``kept`` lists the rows whose
    decided class was kept, ``changes`` the class changes to record."""

    file: str
    kept: list[dict[str, Any]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)

    def check(
        self,
        conn: Connection,
        pairs: list[tuple[int | None, dict[str, Any], dict[str, Any]]],
    ) -> list[dict[str, Any]]:
        """``pairs``: (file row number or None, old values, new values) of rows that differ."""
        moving = [(n, old, new) for n, old, new in pairs if old["risk_class"] != new["risk_class"]]
        decided = decided_days(conn, [old["uscc"] for _, old, _ in moving]) if moving else {}
        pairs = self._keep_listed(conn, pairs)
        out: dict[int, dict[str, Any]] = {}
        for index, (number, old, new) in enumerate(pairs):
            if old["risk_class"] == new["risk_class"]:
                out[index] = new
                continue
            day = decided.get(old["uscc"])
            imported_on = new.get("risk_classified_on")
            if day is not None and (imported_on is None or imported_on <= day):
                self.kept.append(self._kept(number, old, new, day))
                out[index] = {**new, "risk_class": old["risk_class"],
                              "risk_classified_on": old["risk_classified_on"]}  # fmt: skip
                continue
            self.changes.append({
                "uscc": old["uscc"], "old_class": old["risk_class"],
                "new_class": new["risk_class"], "source": ClassSource.IMPORT,
                "effective_on": imported_on, "ref": self.file[:200],
            })  # fmt: skip
            out[index] = new
        return [out[i] for i in range(len(pairs))]

    def _keep_listed(
        self, conn: Connection, pairs: list[tuple[int | None, dict[str, Any], dict[str, Any]]]
    ) -> list[tuple[int | None, dict[str, Any], dict[str, Any]]]:
        """An import does not clear the abnormal flag of an entity listed here (a current
        entry on the abnormal list or abnormal status): the flag is kept and reported."""
        clearing = [old["uscc"] for _, old, new in pairs if old["abnormal"] and not new["abnormal"]]
        if not clearing:
            return pairs
        listed: dict[str, Any] = {}
        for start in range(0, len(clearing), _CHUNK):
            rows = conn.execute(
                select(_R.c.uscc, _R.c.id, _R.c.decided_on).where(
                    _R.c.uscc.in_(clearing[start : start + _CHUNK]),
                    _R.c.removed_on.is_(None),
                    _R.c.register_code.in_((Register.ABNORMAL_LIST, Register.ABNORMAL_STATUS)),
                )
            )
            listed.update({r.uscc: r for r in rows})
        out = []
        for number, old, new in pairs:
            entry = listed.get(old["uscc"])
            if entry is not None and old["abnormal"] and not new["abnormal"]:
                new = {**new, "abnormal": True, "abnormal_since": old["abnormal_since"]}
                self.kept.append({
                    "row": number, "uscc": old["uscc"], "kept": "abnormal", "imported": "not abnormal",
                    "imported_on": None, "decided_on": entry.decided_on.isoformat(),
                    "zh": f"保留：名录记录 #{entry.id}（{entry.decided_on.isoformat()} 列入）尚未移出，"
                    "经营异常标记不因导入清除",
                    "en": f"kept: register entry #{entry.id} (listed {entry.decided_on.isoformat()}) "
                    "is not removed; the import does not clear the abnormal flag",
                })  # fmt: skip
            out.append((number, old, new))
        return out

    @staticmethod
    def _kept(
        number: int | None, old: dict[str, Any], new: dict[str, Any], day: dt.date
    ) -> dict[str, Any]:
        return {
            "row": number,
            "uscc": old["uscc"],
            "kept": old["risk_class"],
            "imported": new["risk_class"],
            "imported_on": new["risk_classified_on"].isoformat()
            if new.get("risk_classified_on")
            else None,
            "decided_on": day.isoformat(),
            "zh": f"保留：{day.isoformat()} 的决定更新（风险分类 {old['risk_class']}，"
            f"导入的 {new['risk_class']} 未采用）",
            "en": f"kept: a decision of {day.isoformat()} is newer (class {old['risk_class']} "
            f"kept, imported {new['risk_class']} not applied)",
        }

    def record(self, conn: Connection, *, actor: str, now: dt.datetime, today: dt.date) -> None:
        """Write the class changes of the import (one executemany)."""
        if self.changes:
            rows = [{**c, "effective_on": c["effective_on"] or today, "recorded_by": actor[:100],
                     "recorded_at": now} for c in self.changes]  # fmt: skip
            conn.execute(_C.insert(), rows)
