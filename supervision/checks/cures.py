"""Cures (信用修复): the check proposes removing a register entry once its cause is gone.

For each entry still on the abnormal list or the abnormal status whose reason the facts
can answer, the entity's facts are derived as of the run's day (``supervision.checks.facts``)
and the cause is looked for again:

- ``4.1`` / ``i.report`` (annual report not published): no annual report is overdue;
- ``4.4`` / ``i.address`` (unreachable at the registered address): the latest contact
  reached the entity (an address check found it, or a later inspection result is not 6);
- ``4.3`` (false information): the latest information check found nothing false;
- ``4.2`` (information ordered and not published): no immediate information is overdue.

A cured entry gets a removal proposal (reason from ``credit_reasons.removal_for``) unless
one is already open; the reviewer decides it like any proposal. Other reasons (and the
serious-violation list, whose removal is a credit-repair application) are never proposed
by the check. Runs in the check run's transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table, select

from supervision.checks.facts import derive_facts
from supervision.credit.proposals import propose
from supervision.credit.registers import ABNORMAL_REGISTERS
from supervision.db import table_of
from supervision.errors import SupervisionError
from supervision.models import ComplianceRecord, Entity, RegisterEntry
from supervision.reference.credit_reasons import removal_for
from supervision.reference.workdays import WorkCalendar

__all__ = ["CHECK_ACTOR", "propose_cures"]

#: Who proposes a removal seen by a check (runs have no console user).
CHECK_ACTOR = "system:check"

_E: Table = table_of(Entity)
_R: Table = table_of(ComplianceRecord)
_G: Table = table_of(RegisterEntry)

Facts = Sequence[Mapping[str, Any]]


def _latest(facts: Facts, kind: str) -> Mapping[str, Any] | None:
    return next((f for f in facts if f.get("t") == kind and f.get("latest")), None)


def _reports_filed(facts: Facts) -> bool:
    return not any(
        f.get("t") == "annual_report" and not f.get("filed") and int(f.get("days_overdue", 0)) > 0
        for f in facts
    )


def _reachable(facts: Facts) -> bool:
    """The latest contact (an address check, or an inspection result) reached the entity."""
    seen = [
        (str(f.get("checked_on") or f.get("inspected_on")), f)
        for kind in ("address_check", "inspection_result")
        if (f := _latest(facts, kind)) is not None
    ]
    if not seen:
        return False
    _, last = max(seen, key=lambda pair: pair[0])
    if last.get("t") == "address_check":
        return bool(last.get("reachable"))
    return str(last.get("result_code")) != "6"


def _info_true(facts: Facts) -> bool:
    latest = _latest(facts, "info_check")
    return latest is not None and not latest.get("false_info")


def _info_published(facts: Facts) -> bool:
    return not any(
        f.get("t") == "immediate_info" and int(f.get("working_days_overdue", 0)) > 0 for f in facts
    )


#: Listing reason → whether the facts show its cause cured.
CURES: dict[str, Callable[[Facts], bool]] = {
    "4.1": _reports_filed,
    "i.report": _reports_filed,
    "4.4": _reachable,
    "i.address": _reachable,
    "4.3": _info_true,
    "4.2": _info_published,
}

_ENTITY_COLUMNS = (
    _E.c.uscc, _E.c.entity_type, _E.c.industry_code, _E.c.region_code, _E.c.status,
    _E.c.risk_class, _E.c.abnormal, _E.c.abnormal_since, _E.c.established_on,
)  # fmt: skip


def _records(conn: Connection, uscc: str) -> Iterable[Mapping[str, Any]]:
    rows = conn.execute(
        select(_R.c.uscc, _R.c.record_id, _R.c.kind, _R.c.event_date, _R.c.payload).where(
            _R.c.uscc == uscc
        )
    )
    return [dict(r._mapping) for r in rows]


def propose_cures(
    conn: Connection, *, as_of: dt.date, calendar: WorkCalendar, now: dt.datetime
) -> list[int]:
    """Propose the removal of every open entry whose cause the facts show cured; returns the
    ids of the proposals made now. An entity whose facts cannot be derived is skipped (the
    run reports its errors)."""
    entries = conn.execute(
        select(_G.c.id, _G.c.uscc, _G.c.register_code, _G.c.reason_code)
        .where(
            _G.c.removed_on.is_(None),
            _G.c.register_code.in_(ABNORMAL_REGISTERS),
            _G.c.reason_code.in_(tuple(CURES)),
            _G.c.decided_on <= as_of,
        )
        .order_by(_G.c.id)
    ).all()
    made: list[int] = []
    for entry in entries:
        entity = conn.execute(select(*_ENTITY_COLUMNS).where(_E.c.uscc == entry.uscc)).one()
        try:
            facts = derive_facts(
                dict(entity._mapping), _records(conn, entry.uscc), as_of, calendar=calendar
            )
        except SupervisionError:
            continue
        if not CURES[entry.reason_code](facts):
            continue
        pid, new = propose(
            conn, uscc=entry.uscc, action="remove", register=entry.register_code,
            reason_code=removal_for(entry.reason_code), proposed_on=as_of,
            cause=f"register_entry:{entry.id}", entry_id=entry.id, actor=CHECK_ACTOR, now=now,
            detail=f"检查日 {as_of} 原因已消除 / cause cured as of {as_of}",
        )  # fmt: skip
        if new:
            made.append(pid)
    return made
